"""Pluggy, the aggregator path to the company's banks: a pull asset writing every dataset to the lake, the raw
load, the `ingest_pluggy` job and the webhook sensor.

Partitions are months, and so are the lake objects: `<lake>/pluggy/<entity>/dt=<month's first day>/` holds the
month's rows of every configured item (transactions by São Paulo booking date, card transactions by purchase date,
a balance in the month of its date, the accounts as each month's pull listed them). Pluggy keeps the history, so
a month is re-pulled whole and re-running it gives the same rows. A run limited to some items
(`item_ids`, what a webhook asks for) re-pulls those and keeps the month's rows of the other items. An HTTP or
credentials failure fails the run before anything is written; bad records are quarantined with their reason
(`_quarantine/pluggy/<entity>/dt=<month>/`).

`pluggy_webhook_sensor` turns the webhooks the receiver spooled (`python -m ingestion.pluggy.webhook`) into runs
of `ingest_pluggy` for the item and month(s) they touch, with run key `pluggy:<item>:<month>:<eventId>`: a
webhook delivered twice is one run. A spooled event is removed once every run it asked for exists (the same
acknowledgement rule as the ERP's RabbitMQ sensor).
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.common.partitioning import month_starts, split_by_month
from ingestion.pluggy import schemas
from ingestion.pluggy.errors import PluggyError
from ingestion.pluggy.extract import pull_items
from ingestion.pluggy.webhook import WebhookEvent, spooled
from orchestration.constants import OWNER
from orchestration.defs import lake_quality
from orchestration.defs.metadata import partition_dates, preview_markdown, without_column
from orchestration.defs.raw_loads import RawTable, raw_load_assets
from orchestration.partitions import month_key, pluggy_partitions
from orchestration.resources.lake import LakeResource
from orchestration.resources.pluggy import PluggyResource
from orchestration.run_resources import k8s_run_tags

SOURCE = "pluggy"
RUN_KEY_TAG = "dagster/run_key"
MAX_EVENTS_PER_TICK = 50


@dataclass(frozen=True)
class PluggyDataset:
    entity: str
    month_column: str | None  # None: the rows go into every month of the run (accounts)
    low_cardinality: tuple[str, ...]
    description: str

    @property
    def schema(self) -> pa.Schema:
        return schemas.SCHEMAS[self.entity]

    @property
    def key(self) -> tuple[str, ...]:
        return schemas.KEYS[self.entity]

    @property
    def lake_key(self) -> dg.AssetKey:
        return dg.AssetKey(["lake", f"{SOURCE}__{self.entity}"])


DATASETS = (
    PluggyDataset(
        "accounts",
        None,
        ("institution", "type", "subtype"),
        "The company's accounts (BANK) and cards (CREDIT) per item.",
    ),
    PluggyDataset(
        "balances", "balance_date", ("institution", "currency"), "Each BANK account's balance as of its updatedAt."
    ),
    PluggyDataset(
        "transactions",
        "booking_date",
        ("institution", "status", "credit_debit_type", "transaction_type", "currency"),
        "Bank account transactions of the month (São Paulo booking date).",
    ),
    PluggyDataset(
        "credit_card_transactions",
        "transaction_date",
        ("institution", "credit_debit_type", "transaction_type", "currency", "brazilian_currency"),
        "Credit-card transactions of the month (São Paulo purchase date), IOF lines included.",
    ),
    PluggyDataset(
        "credit_card_bills",
        "due_date",
        ("institution", "total_currency"),
        "Credit-card bills (faturas) due in the month, as Pluggy lists the closed ones (GET /bills).",
    ),
)


class PluggyPullConfig(dg.Config):
    item_ids: list[str] = []  # empty: every item of PLUGGY_ITEM_IDS; else only these (the month's others are kept)


def _month_tables(dataset: PluggyDataset, table: pa.Table, start: date, end: date) -> dict[date, pa.Table]:
    """The pulled rows of each month of the run, by its first day; the accounts (no month column) are listed again in
    every month's object."""
    if dataset.month_column is None:
        return {month: table for month in month_starts(start, end)}
    return split_by_month(table, dataset.month_column, start, end)


def _sorted(table: pa.Table, key: tuple[str, ...]) -> pa.Table:
    return table.sort_by([(column, "ascending") for column in key])


@dg.multi_asset(
    name="pluggy_pull",
    specs=[
        dg.AssetSpec(
            dataset.lake_key,
            group_name=SOURCE,
            kinds={"python", "parquet"},
            owners=[OWNER],
            description=f"{dataset.description} Pulled from Pluggy's data API (ingestion/pluggy).",
        )
        for dataset in DATASETS
    ],
    check_specs=lake_quality.check_specs([dataset.lake_key for dataset in DATASETS]),
    partitions_def=pluggy_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    can_subset=False,
)
def pluggy_pull(
    context: dg.AssetExecutionContext, pluggy: PluggyResource, lake: LakeResource, config: PluggyPullConfig
):
    """Pull the run's months from Pluggy for every configured item (or the items in `item_ids`)."""
    start, end = partition_dates(context)
    store = lake.get_lake()
    items = pluggy.items(config.item_ids or None)
    extract = None
    if not items:
        context.log.warning("No Pluggy item is configured (PLUGGY_ITEM_IDS): nothing pulled.")
    else:
        with pluggy.client() as client:
            try:
                extract = pull_items(client, items, start, end, pluggy.current_day())
            except PluggyError as error:
                raise dg.Failure(
                    description=f"Pluggy pull of {start}..{end} failed; nothing was written to the lake: {error}",
                    allow_retries=False,
                ) from None
    for item_id, status in sorted(extract.item_status.items() if extract else []):
        if status not in ("UPDATED", "UPDATING"):
            context.log.warning(
                f"Pluggy item {item_id} is {status}: its data is as of its last successful sync; "
                "if it needs the user (LOGIN_ERROR, WAITING_USER_INPUT, OUTDATED), reconnect it in Pluggy Connect"
            )
    pulled_items = [item.item_id for item in items]
    quarantined: dict[tuple[str, date], list] = defaultdict(list)
    for month, record in extract.quarantine if extract else []:
        quarantined[(record.entity, month)].append(record)
    for dataset in DATASETS:
        table = extract.tables[dataset.entity] if extract else dataset.schema.empty_table()
        rows, paths, bad, preview = 0, [], 0, dataset.schema.empty_table()
        months = _month_tables(dataset, table, start, end) if extract else {}  # none: the lake is left as it is
        for month, part in months.items():
            if config.item_ids and store.exists(SOURCE, dataset.entity, month):
                kept = store.read_partition(SOURCE, dataset.entity, month).cast(dataset.schema)
                kept = kept.filter(pc.invert(pc.is_in(kept["item_id"], pa.array(pulled_items))))
                part = pa.concat_tables([kept, part])
            if part.num_rows:
                paths.append(store.write_partition(SOURCE, dataset.entity, month, _sorted(part, dataset.key)))
                preview = part
            else:
                store.remove_partition(SOURCE, dataset.entity, month)
            rows += part.num_rows
            records = quarantined.get((dataset.entity, month), [])
            bad += len(records)
            path = store.write_quarantine(SOURCE, dataset.entity, month, records)  # none: removes a stale file
            if records:
                context.log.warning(
                    f"{len(records)} pluggy {dataset.entity} records of {month:%Y-%m} quarantined: {path}"
                )
        metadata = {
            "row_count": rows,
            "lake_objects_written": len(paths),
            "quarantined": bad,
            "lake_path": dg.MetadataValue.path(paths[-1] if paths else "none"),
            "preview": dg.MetadataValue.md(preview_markdown(without_column(preview, "raw_json"))),
        }
        if dataset.entity == "accounts" and extract:
            metadata["items"] = ", ".join(f"{i.institution}={i.item_id}" for i in items)
            metadata["item_status"] = dg.MetadataValue.json(extract.item_status)
            metadata["api_calls"] = sum(extract.calls.values())
            metadata["api_calls_by_endpoint"] = dg.MetadataValue.json(dict(sorted(extract.calls.items())))
            metadata["retries"] = sum(extract.retries.values())
            metadata["retries_by_reason"] = dg.MetadataValue.json(dict(sorted(extract.retries.items())))
        if dataset.entity == "balances" and extract:
            metadata["balances_outside_range"] = extract.balances_outside_range
        quality, check = lake_quality.assess(store, SOURCE, dataset.entity, dataset.lake_key, start, end)
        yield dg.MaterializeResult(asset_key=dataset.lake_key, metadata={**metadata, **quality}, check_results=[check])


raw_load = raw_load_assets(
    source=SOURCE,
    tables=[
        RawTable(
            entity=dataset.entity,
            schema=dataset.schema,
            order_by=dataset.key,
            low_cardinality=dataset.low_cardinality,
            description=dataset.description,
            # the accounts are listed again in every month's object; everything else lands in one month
            unique_key=(*dataset.key, "_partition_date") if dataset.month_column is None else dataset.key,
        )
        for dataset in DATASETS
    ],
    partitions_def=pluggy_partitions,
)

ingest_pluggy = dg.define_asset_job(
    "ingest_pluggy",
    selection=dg.AssetSelection.groups(SOURCE),
    description="Every Pluggy lake and raw-load asset for a partition range, in one run.",
    tags=k8s_run_tags("ingestion"),
)


def webhook_run_requests(
    events: list[tuple[Path, WebhookEvent]],
    run_exists: Callable[[str], bool],
    configured: set[str],
    first_month: date,
    today: date,
) -> tuple[list[dg.RunRequest], list[Path], list[str]]:
    """(run requests to make, spooled files whose runs all exist, notes on events dropped)."""
    requests, done, notes = [], [], []
    for path, event in events:
        if event.item_id not in configured:
            notes.append(f"{event.event} for item {event.item_id}, which is not in PLUGGY_ITEM_IDS: dropped")
            done.append(path)
            continue
        months = [m for m in event.months() if first_month <= m <= today]
        missing = [m for m in months if not run_exists(event.run_key(m))]
        if not missing:
            done.append(path)
        for month in missing:
            requests.append(
                dg.RunRequest(
                    run_key=event.run_key(month),
                    partition_key=month_key(month),
                    run_config={"ops": {"pluggy_pull": {"config": {"item_ids": [event.item_id]}}}},
                    tags={"importau/pluggy_event": event.event, "importau/pluggy_item": event.item_id},
                )
            )
    return requests, done, notes


@dg.sensor(
    name="pluggy_webhook_sensor",
    job=ingest_pluggy,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def pluggy_webhook_sensor(context: dg.SensorEvaluationContext, pluggy: PluggyResource):
    """Pluggy webhooks (transactions created/updated/deleted, item updated) request the item's month(s)."""
    settings = pluggy.settings()
    if settings is None:
        return dg.SkipReason("PLUGGY_ITEM_IDS is not set")
    folder = pluggy.spool_dir()
    events = list(spooled(folder, MAX_EVENTS_PER_TICK))

    def run_exists(run_key: str) -> bool:
        return bool(context.instance.get_run_ids(dg.RunsFilter(tags={RUN_KEY_TAG: run_key}), limit=1))

    first = date.fromisoformat(pluggy_partitions.start.date().isoformat())
    requests, done, notes = webhook_run_requests(
        events, run_exists, {item.item_id for item in settings.items}, first, pluggy.current_day()
    )
    for note in notes:
        context.log.warning(note)
    for path in done:
        path.unlink(missing_ok=True)
    if not requests:
        return dg.SkipReason(f"{len(done)} webhook(s) done, none waiting for a run")
    return dg.SensorResult(run_requests=requests)


assets = [pluggy_pull, raw_load]
jobs = [ingest_pluggy]
sensors = [pluggy_webhook_sensor]
