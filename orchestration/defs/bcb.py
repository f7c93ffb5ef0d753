"""Banco Central do Brasil: lake and raw-load assets for SGS series, PTAX, the closing file and Focus.

Two steps, monthly partitions. `bcb_pull` (a multi-asset, `lake/bcb__<entity>`) calls the pure clients in
`ingestion/bcb/` for the whole partition range in one go (ranged API requests, the datasets in parallel), then
writes one Parquet object per dataset and month with rows (`dt=<first day of the month>`). Each dataset's
`lake_quality` check (defs/lake_quality.py) rides on its materialization. `bcb_raw_load`
(`raw/bcb__<entity>`) replaces the same months in ClickHouse atomically (`defs/raw_loads.py`), each table with
its blocking `no_duplicate_keys` check. The raw tables' wall-clock freshness checks (run by their own sensor)
and column-schema change checks are defined here too.
"""

import datetime as dt
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import dagster as dg
import pyarrow as pa

from ingestion.bcb import pulls, schemas
from ingestion.bcb.client import BcbClient
from ingestion.common.partitioning import split_by_month
from ingestion.common.quarantine import SourcePayloadError
from ingestion.common.retry import RetryCounter
from orchestration.constants import BUSINESS_TIMEZONE
from orchestration.defs import lake_quality
from orchestration.defs.metadata import lake_spec, partition_dates, preview_markdown
from orchestration.defs.raw_loads import RawTable, raw_load_assets
from orchestration.partitions import bcb_partitions
from orchestration.resources.bcb import BcbApiResource
from orchestration.resources.lake import LakeResource

SOURCE = "bcb"


@dataclass(frozen=True)
class BcbDataset:
    entity: str
    schema: pa.Schema
    date_column: str
    order_by: tuple[str, ...]
    natural_key: tuple[str, ...]
    low_cardinality: tuple[str, ...]
    pull: Callable[[BcbApiResource, BcbClient, date, date], pulls.ExtractResult]
    description: str

    @property
    def name(self) -> str:
        return f"{SOURCE}__{self.entity}"


DATASETS = (
    BcbDataset(
        entity="sgs_observations",
        schema=schemas.SGS_OBSERVATIONS,
        date_column="reference_date",
        order_by=("series_code", "reference_date"),
        natural_key=("series_code", "reference_date"),
        low_cardinality=(),
        pull=lambda api, client, start, end: pulls.pull_sgs(client, api.series_codes(), start, end),
        description="SGS time series (PTAX USD buy/sell, Selic, CDI, IPCA, IGP-M) as published by the BCB.",
    ),
    BcbDataset(
        entity="ptax_quotes",
        schema=schemas.PTAX_QUOTES,
        date_column="quote_date",
        order_by=("currency", "quote_date", "quoted_at", "bulletin_type"),
        natural_key=("currency", "quoted_at", "bulletin_type"),
        low_cardinality=("currency", "bulletin_type"),
        pull=lambda api, client, start, end: pulls.pull_ptax(client, api.ptax_currency_list(), start, end),
        description="Every PTAX bulletin of the day (opening, intermediates, closing) from the Olinda OData API.",
    ),
    BcbDataset(
        entity="closing_rates",
        schema=schemas.CLOSING_RATES,
        date_column="quote_date",
        order_by=("currency", "quote_date"),
        natural_key=("currency", "quote_date"),
        low_cardinality=("currency", "currency_type", "bcb_currency_code"),
        pull=lambda api, client, start, end: pulls.pull_closing_rates(
            client, start, end, currencies=api.closing_currency_list()
        ),
        description="The BCB daily closing file: closing rates of all ~156 currencies, CNY included.",
    ),
    BcbDataset(
        entity="focus_expectations",
        schema=schemas.FOCUS_EXPECTATIONS,
        date_column="computed_on",
        order_by=("entity_set", "indicator", "computed_on", "reference_period"),
        natural_key=(
            "entity_set",
            "indicator",
            "indicator_detail",
            "computed_on",
            "reference_period",
            "calc_basis",
            "calc_type",
            "smoothed",
        ),
        low_cardinality=("entity_set", "indicator"),
        pull=lambda api, client, start, end: pulls.pull_focus(client, start, end),
        description="Focus survey: market expectations for IPCA, Selic, the exchange rate and IGP-M.",
    ),
)


def lake_key(dataset: BcbDataset) -> dg.AssetKey:
    return dg.AssetKey(["lake", dataset.name])


def _pull(dataset: BcbDataset, api: BcbApiResource, start: date, end: date, retries: RetryCounter):
    """One dataset's pull on a client of its own (closed after), its retries counted in `retries`."""
    with api.get_client(retries=retries) as client:
        return dataset.pull(api, client, start, end)


def _quarantine_and_fail(store, dataset: BcbDataset, start: date, error: SourcePayloadError) -> dg.Failure:
    """Keep the unreadable body for inspection; the partitions already in the lake stay as they were."""
    path = store.write_quarantine(SOURCE, dataset.entity, start, error.quarantine)
    return dg.Failure(description=f"{dataset.name}: {error} (body quarantined at {path})")


@dg.multi_asset(
    name="bcb_pull",
    specs=[lake_spec(lake_key(dataset), SOURCE, dataset.description) for dataset in DATASETS],
    check_specs=lake_quality.check_specs([lake_key(dataset) for dataset in DATASETS]),
    partitions_def=bcb_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    can_subset=True,
)
def bcb_pull(context: dg.AssetExecutionContext, bcb: BcbApiResource, lake: LakeResource):
    """Pull the selected BCB datasets for the partition range (ranged requests, the datasets in parallel), then
    write one Parquet object per dataset and month."""
    start, end = partition_dates(context)
    store = lake.get_lake()
    selected = [dataset for dataset in DATASETS if lake_key(dataset) in context.selected_asset_keys]
    retries = {dataset: RetryCounter() for dataset in selected}
    with ThreadPoolExecutor(max_workers=len(selected), thread_name_prefix="bcb") as pool:
        futures = {dataset: pool.submit(_pull, dataset, bcb, start, end, retries[dataset]) for dataset in selected}
        results, failures = {}, []
        for dataset, future in futures.items():  # everything is fetched before anything is written
            try:
                results[dataset] = future.result()
            except SourcePayloadError as error:
                failures.append(_quarantine_and_fail(store, dataset, start, error))
    if failures:
        raise dg.Failure(description="\n".join(failure.description for failure in failures))
    for dataset, result in results.items():
        months = split_by_month(result.table, dataset.date_column, start, end)
        paths = []
        for month, table in months.items():
            if table.num_rows:
                paths.append(store.write_partition(SOURCE, dataset.entity, month, table))
            else:  # zero rows need no file; a stale one from an earlier run would lie
                store.remove_partition(SOURCE, dataset.entity, month)
        quarantine_path = store.write_quarantine(SOURCE, dataset.entity, start, result.quarantine)
        if result.quarantine:
            context.log.warning(f"{len(result.quarantine)} {dataset.name} records quarantined: {quarantine_path}")
        if retries[dataset].total:
            context.log.warning(f"{dataset.name}: the BCB answered only after {retries[dataset]}")
        quality, check = lake_quality.assess(store, SOURCE, dataset.entity, lake_key(dataset), start, end)
        checked = dg.AssetCheckKey(lake_key(dataset), lake_quality.CHECK_NAME) in context.selected_asset_check_keys
        yield dg.MaterializeResult(
            asset_key=lake_key(dataset),
            metadata={
                "row_count": result.table.num_rows,
                "lake_objects_written": len(paths),
                "quarantined": len(result.quarantine),
                "retries": retries[dataset].total,  # of transient failures (429/5xx/timeouts/bad bodies)
                "lake_path": dg.MetadataValue.path(paths[-1] if paths else "none"),
                "preview": dg.MetadataValue.md(preview_markdown(result.table)),
                **quality,
            },
            check_results=[check] if checked else [],
        )


raw_load = raw_load_assets(
    source=SOURCE,
    tables=[
        RawTable.of_dataset(dataset, order_by=dataset.order_by, unique_key=dataset.natural_key) for dataset in DATASETS
    ],
    partitions_def=bcb_partitions,
)
raw_assets = [raw_load]
assets = [bcb_pull, raw_load]

freshness_checks = dg.build_time_partition_freshness_checks(
    assets=raw_assets,
    deadline_cron="0 15 * * *",
    timezone=BUSINESS_TIMEZONE,
)
# Wall-clock freshness is for an operating deployment: the sensor evaluates these checks hourly (RUNNING by
# itself only under APP_ENV=prod; start it in the UI elsewhere), and the ingest jobs leave them out (defs/jobs.py):
# a backfill of 2024 is not stale data, and the historical demo would fail them by construction.
freshness_sensor = dg.build_sensor_for_freshness_checks(
    freshness_checks=freshness_checks,
    minimum_interval_seconds=int(dt.timedelta(hours=1).total_seconds()),
    default_status=dg.DefaultSensorStatus.RUNNING
    if os.environ.get("APP_ENV", "local").lower() == "prod"
    else dg.DefaultSensorStatus.STOPPED,
)
FRESHNESS_CHECKS = dg.AssetSelection.checks(*freshness_checks)
schema_checks = dg.build_column_schema_change_checks(assets=raw_assets)

checks = [*freshness_checks, *schema_checks]
sensors = [freshness_sensor]
