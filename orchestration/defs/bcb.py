"""Banco Central do Brasil: lake and raw-load assets for SGS series, PTAX, the closing file and Focus.

Each dataset has two daily-partitioned assets. `lake/bcb__<entity>` calls the pure client in `ingestion/bcb/`
for the whole partition range in one go (ranged API requests), then writes one Parquet object per day, empty days
included. `raw/bcb__<entity>` replaces the same days in ClickHouse with one `INSERT ... SELECT` over the lake.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import dagster as dg
import pyarrow as pa

from ingestion.bcb import pulls, schemas
from ingestion.common.partitioning import split_by_day
from ingestion.common.quarantine import SourcePayloadError
from orchestration.constants import OWNER
from orchestration.defs.metadata import partition_dates, preview_markdown
from orchestration.defs.raw_loads import raw_load_asset
from orchestration.partitions import bcb_daily_partitions
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
    pull: Callable[[BcbApiResource, date, date], pulls.ExtractResult]
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
        pull=lambda api, start, end: pulls.pull_sgs(api.get_client(), api.series_codes(), start, end),
        description="SGS time series (PTAX USD buy/sell, Selic, CDI, IPCA, IGP-M) as published by the BCB.",
    ),
    BcbDataset(
        entity="ptax_quotes",
        schema=schemas.PTAX_QUOTES,
        date_column="quote_date",
        order_by=("currency", "quote_date", "quoted_at", "bulletin_type"),
        natural_key=("currency", "quoted_at", "bulletin_type"),
        low_cardinality=("currency", "bulletin_type"),
        pull=lambda api, start, end: pulls.pull_ptax(api.get_client(), api.ptax_currency_list(), start, end),
        description="Every PTAX bulletin of the day (opening, intermediates, closing) from the Olinda OData API.",
    ),
    BcbDataset(
        entity="closing_rates",
        schema=schemas.CLOSING_RATES,
        date_column="quote_date",
        order_by=("currency", "quote_date"),
        natural_key=("currency", "quote_date"),
        low_cardinality=("currency", "currency_type", "bcb_currency_code"),
        pull=lambda api, start, end: pulls.pull_closing_rates(
            api.get_client(), start, end, currencies=api.closing_currency_list()
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
        pull=lambda api, start, end: pulls.pull_focus(api.get_client(), start, end),
        description="Focus survey: market expectations for IPCA, Selic, the exchange rate and IGP-M.",
    ),
)


def _lake_asset(dataset: BcbDataset) -> dg.AssetsDefinition:
    @dg.asset(
        name=dataset.name,
        key_prefix="lake",
        group_name=SOURCE,
        kinds={"python", "parquet"},
        owners=[OWNER],
        partitions_def=bcb_daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description=dataset.description,
    )
    def _lake(context: dg.AssetExecutionContext, bcb: BcbApiResource, lake: LakeResource) -> dg.MaterializeResult:
        start, end = partition_dates(context)
        store = lake.get_lake()
        try:
            result = dataset.pull(bcb, start, end)  # everything is fetched before anything is written
        except SourcePayloadError as error:
            # Keep the unreadable body for inspection; the partitions already in the lake stay as they were.
            path = store.write_quarantine(SOURCE, dataset.entity, start, error.quarantine)
            raise dg.Failure(description=f"{error} (body quarantined at {path})") from error
        days = split_by_day(result.table, dataset.date_column, start, end)
        paths = [store.write_partition(SOURCE, dataset.entity, day, table) for day, table in days.items()]
        quarantine_path = store.write_quarantine(SOURCE, dataset.entity, start, result.quarantine)
        if result.quarantine:
            context.log.warning(f"{len(result.quarantine)} {dataset.name} records quarantined: {quarantine_path}")
        return dg.MaterializeResult(
            metadata={
                "row_count": result.table.num_rows,
                "partitions_written": len(paths),
                "days_with_rows": sum(1 for table in days.values() if table.num_rows),
                "quarantined": len(result.quarantine),
                "lake_path": dg.MetadataValue.path(paths[-1]),
                "preview": dg.MetadataValue.md(preview_markdown(result.table)),
            }
        )

    return _lake


def _raw_asset(dataset: BcbDataset) -> dg.AssetsDefinition:
    return raw_load_asset(
        source=SOURCE,
        entity=dataset.entity,
        schema=dataset.schema,
        order_by=dataset.order_by,
        low_cardinality=dataset.low_cardinality,
        partitions_def=bcb_daily_partitions,
        description=dataset.description,
    )


lake_assets = [_lake_asset(dataset) for dataset in DATASETS]
raw_assets = [_raw_asset(dataset) for dataset in DATASETS]
assets = [*lake_assets, *raw_assets]
