"""Open Finance Brasil: one pull asset writing every entity to the lake, and a raw-load asset per entity.

`open_finance_pull` (a multi-asset: one pull returns every table) plans the pulls of its partition range
(`OpenFinanceResource.plan`: one per day, each re-reading the trailing window, or one per chunk in a wide
backfill), runs them all, and only then writes `<lake>/open_finance/<entity>/dt=<pull day>/part-000.parquet` for
every day of the range (zero rows on days without a pull) plus `open_finance__pulls` (institution, pull day,
window), which staging uses to keep the latest view of each booking date (rule A, ingestion/open_finance/dedupe.py).
A consent, budget, payload or HTTP failure of any institution fails the partition range before anything is
written. `raw/open_finance__<entity>` replaces the same days in ClickHouse with one `INSERT ... SELECT`.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg
import pyarrow as pa

from ingestion.common.quarantine import QuarantineRecord, SourcePayloadError
from ingestion.open_finance import schemas
from ingestion.open_finance.errors import CallBudgetExceeded, ConsentError
from ingestion.open_finance.extract import InstitutionsFailed, combine
from orchestration.constants import OWNER
from orchestration.defs.metadata import partition_dates, preview_markdown, without_column
from orchestration.defs.raw_loads import raw_load_asset
from orchestration.partitions import open_finance_daily_partitions
from orchestration.resources.lake import LakeResource
from orchestration.resources.open_finance import OpenFinanceResource, PlannedPull

SOURCE = "open_finance"
PULLS = "pulls"

PULLS_SCHEMA = pa.schema(
    [
        pa.field("institution", pa.string(), nullable=False),
        pa.field("pull_date", pa.date32(), nullable=False),
        pa.field("window_start", pa.date32(), nullable=False),
        pa.field("window_end", pa.date32(), nullable=False),
    ]
)


@dataclass(frozen=True)
class OpenFinanceDataset:
    entity: str
    schema: pa.Schema
    key: tuple[str, ...]  # unique within one pull day (raw adds `_partition_date`, the pull day)
    low_cardinality: tuple[str, ...]
    description: str

    @property
    def name(self) -> str:
        return f"{SOURCE}__{self.entity}"


_DESCRIPTIONS = {
    "accounts": "The company's deposit and payment accounts at each institution, as each pull saw them.",
    "balances": "Account balances (available, blocked, automatically invested) at each pull.",
    "transactions": "Account transactions of each pull's trailing window (pending entries included).",
    "credit_card_accounts": "The company's credit-card accounts at each institution.",
    "credit_card_bills": "Credit-card bills due in each pull's window and the following 45 days.",
    "credit_card_transactions": "Credit-card transactions: those of the bills read and the current open spend.",
    "fx_operations": "FX operations (câmbio contracts): list item and detail with rate, values and VET.",
    "fx_operation_events": "Events of each FX operation: contracting, changes, settlement, cancellation.",
}
_LOW_CARDINALITY = {
    "transactions": ("status", "credit_debit_type", "transaction_type", "currency"),
    "credit_card_transactions": ("credit_debit_type", "transaction_type", "currency", "brazilian_currency"),
    "fx_operations": ("operation_type", "foreign_currency", "local_currency"),
    "fx_operation_events": ("event_type",),
}

DATASETS = (
    *(
        OpenFinanceDataset(
            entity,
            schema,
            schemas.KEYS[entity],
            ("institution", *_LOW_CARDINALITY.get(entity, ())),
            _DESCRIPTIONS[entity],
        )
        for entity, schema in schemas.SCHEMAS.items()
    ),
    OpenFinanceDataset(
        PULLS,
        PULLS_SCHEMA,
        ("institution", "pull_date"),
        ("institution",),
        "One row per institution and pull: the pull day and the window of booking dates it re-read.",
    ),
)


def lake_key(dataset: OpenFinanceDataset) -> dg.AssetKey:
    return dg.AssetKey(["lake", dataset.name])


def raw_key(dataset: OpenFinanceDataset) -> dg.AssetKey:
    return dg.AssetKey(["raw", dataset.name])


def _failure(day: date, error: InstitutionsFailed) -> dg.Failure:
    lines = []
    for name, problem in sorted(error.errors.items()):
        if isinstance(problem, ConsentError):
            lines.append(f"- {name}: consent problem: {problem}")
        elif isinstance(problem, CallBudgetExceeded):
            lines.append(f"- {name}: call budget used up: {problem}")
        else:
            lines.append(f"- {name}: {type(problem).__name__}: {problem}")
    return dg.Failure(
        description=(
            f"Open Finance pull for {day} failed at {len(error.errors)} institution(s); nothing was written to "
            "the lake for this partition range.\n" + "\n".join(lines)
        ),
        allow_retries=False,
    )


def _pulls_table(pulls: dict[date, dict]) -> pa.Table:
    rows = [
        {"institution": name, "pull_date": day, "window_start": extract.window[0], "window_end": extract.window[1]}
        for day, extracts in pulls.items()
        for name, extract in sorted(extracts.items())
    ]
    return pa.Table.from_pylist(rows, schema=PULLS_SCHEMA)


@dg.multi_asset(
    name="open_finance_pull",
    specs=[
        dg.AssetSpec(
            lake_key(dataset),
            group_name=SOURCE,
            kinds={"python", "parquet"},
            owners=[OWNER],
            description=f"{dataset.description} Pulled over mutual TLS from every configured institution.",
        )
        for dataset in DATASETS
    ],
    partitions_def=open_finance_daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    can_subset=False,
)
def open_finance_pull(context: dg.AssetExecutionContext, open_finance: OpenFinanceResource, lake: LakeResource):
    """Pull every configured Open Finance institution for the partition range and write each entity's days."""
    start, end = partition_dates(context)
    institutions = open_finance.get_institutions()
    plan = {planned.day: planned for planned in open_finance.plan(start, end)} if institutions else {}
    if not institutions:
        context.log.warning("No Open Finance institution is configured (OPEN_FINANCE_INSTITUTIONS): empty days.")
    store = lake.get_lake()
    pulled: dict[date, dict] = {}
    for day, planned in plan.items():  # everything is fetched before anything is written
        try:
            pulled[day] = open_finance.pull(planned, institutions)
            context.log.info(
                f"Pulled {day} (window {planned.window[0]}..{planned.window[1]}): "
                + ", ".join(
                    f"{name} {extract.tables['transactions'].num_rows} transactions"
                    for name, extract in sorted(pulled[day].items())
                )
            )
        except InstitutionsFailed as error:
            for problem in error.errors.values():
                if isinstance(problem, SourcePayloadError):  # keep the unreadable body for inspection
                    _write_quarantine(store, day, problem.quarantine)
            raise _failure(day, error) from None
    yield from _write(context, store, start, end, plan, pulled)


def _write_quarantine(store, day: date, records: list[QuarantineRecord]) -> dict[str, str]:
    """Unreadable bodies name their endpoint, not an entity: they are kept with the pull (`_quarantine/.../pulls`)."""
    entities = {dataset.entity for dataset in DATASETS}
    by_entity: dict[str, list[QuarantineRecord]] = defaultdict(list)
    for record in records:
        by_entity[record.entity if record.entity in entities else PULLS].append(record)
    return {entity: store.write_quarantine(SOURCE, entity, day, rows) for entity, rows in by_entity.items()}


def _write(context, store, start: date, end: date, plan: dict[date, PlannedPull], pulled: dict[date, dict]):
    written: dict[str, list[str]] = defaultdict(list)
    rows: dict[str, int] = defaultdict(int)
    days_with_rows: dict[str, int] = defaultdict(int)
    quarantined: dict[str, int] = defaultdict(int)
    previews: dict[str, pa.Table] = {}
    day = start
    while day <= end:
        extracts = pulled.get(day, {})
        tables = {**combine(extracts.values()), PULLS: _pulls_table({day: extracts})}
        records = [record for extract in extracts.values() for record in extract.quarantine]
        for dataset in DATASETS:
            table = tables[dataset.entity]
            written[dataset.entity].append(store.write_partition(SOURCE, dataset.entity, day, table))
            rows[dataset.entity] += table.num_rows
            days_with_rows[dataset.entity] += bool(table.num_rows)
            if table.num_rows:
                previews[dataset.entity] = table
            bad = [record for record in records if record.entity == dataset.entity]
            quarantined[dataset.entity] += len(bad)
            path = store.write_quarantine(SOURCE, dataset.entity, day, bad)  # none: removes a stale file
            if bad:
                context.log.warning(f"{len(bad)} {dataset.name} records of the {day} pull quarantined: {path}")
        day += timedelta(days=1)
    calls: dict[str, int] = defaultdict(int)
    for extracts in pulled.values():
        for extract in extracts.values():
            for endpoint, count in extract.calls.items():
                calls[endpoint] += count
    for dataset in DATASETS:
        preview = previews.get(dataset.entity, dataset.schema.empty_table())
        metadata = {
            "row_count": rows[dataset.entity],
            "partitions_written": len(written[dataset.entity]),
            "days_with_rows": days_with_rows[dataset.entity],
            "quarantined": quarantined[dataset.entity],
            "lake_path": dg.MetadataValue.path(written[dataset.entity][-1]),
            "preview": dg.MetadataValue.md(preview_markdown(without_column(preview, "raw_json"))),
        }
        if dataset.entity == PULLS:
            metadata["pulls"] = len(plan)
            metadata["institutions"] = ", ".join(sorted({n for extracts in pulled.values() for n in extracts}))
            metadata["api_calls"] = sum(calls.values())
            metadata["api_calls_by_endpoint"] = dg.MetadataValue.json(dict(sorted(calls.items())))
        yield dg.MaterializeResult(asset_key=lake_key(dataset), metadata=metadata)


def _raw_asset(dataset: OpenFinanceDataset) -> dg.AssetsDefinition:
    return raw_load_asset(
        source=SOURCE,
        entity=dataset.entity,
        schema=dataset.schema,
        order_by=dataset.key,
        low_cardinality=dataset.low_cardinality,
        partitions_def=open_finance_daily_partitions,
        description=dataset.description,
    )


raw_assets = [_raw_asset(dataset) for dataset in DATASETS]
assets = [open_finance_pull, *raw_assets]
