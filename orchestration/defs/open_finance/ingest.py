"""Open Finance Brasil: one pull asset writing every entity to the lake, and a raw-load asset per entity.

Partitions are months. `open_finance_pull` (a multi-asset: one pull returns every table) plans the pulls of its
range up to the institution's today (`OpenFinanceResource.plan`: one per day, each re-reading the trailing
window, or one per chunk in a wide backfill), keeps the pull days already in the lake (except today's, whose view
keeps changing; `refresh: true` re-pulls them), runs the rest, and only then writes
`<lake>/open_finance/<entity>/dt=<pull day>/part-000.parquet` per pull day with rows, plus `open_finance__pulls`
(institution, pull day, window), which staging uses to keep the latest view of each booking date (rule A,
ingestion/open_finance/dedupe.py). So the daily run of the current month pulls today only. A consent, budget,
payload or HTTP failure of any institution fails the run before anything is written. Each entity's `lake_quality`
check (defs/lake_quality.py) rides on its materialization. `open_finance_raw_load`
replaces the same months in ClickHouse atomically, with each table's blocking `no_duplicate_keys` check.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.common.private_temp import private_temp_dir
from ingestion.common.quarantine import QuarantineRecord, SourcePayloadError
from ingestion.open_finance import schemas
from ingestion.open_finance.errors import CallBudgetExceeded, ConsentError
from ingestion.open_finance.extract import InstitutionsFailed, combine
from orchestration.defs import lake_quality
from orchestration.defs.metadata import lake_spec, partition_dates, preview_markdown, without_column
from orchestration.defs.raw_loads import RawTable, raw_load_assets
from orchestration.partitions import open_finance_partitions
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


class OpenFinancePullConfig(dg.Config):
    refresh: bool = False  # pull again the days already in the lake (by default only today's view is re-read)


@dg.multi_asset(
    name="open_finance_pull",
    specs=[
        lake_spec(
            lake_key(dataset),
            SOURCE,
            f"{dataset.description} Pulled over mutual TLS from every configured institution.",
        )
        for dataset in DATASETS
    ],
    check_specs=lake_quality.check_specs([lake_key(dataset) for dataset in DATASETS]),
    partitions_def=open_finance_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    can_subset=False,
)
def open_finance_pull(
    context: dg.AssetExecutionContext,
    open_finance: OpenFinanceResource,
    lake: LakeResource,
    config: OpenFinancePullConfig,
):
    """Pull every configured Open Finance institution for the partition range and write each pull day."""
    start, end = partition_dates(context)
    today = open_finance.current_day()
    institutions = open_finance.get_institutions()
    store = lake.get_lake()
    if not institutions:
        context.log.warning("No Open Finance institution is configured (OPEN_FINANCE_INSTITUTIONS): nothing pulled.")
    planned = open_finance.plan(start, min(end, today)) if institutions and start <= today else []
    already = set(store.list_partitions(SOURCE, PULLS))
    plan = {
        pull.day: pull
        for pull in planned
        if config.refresh or pull.day >= today or pull.day not in already  # today's view keeps changing
    }
    if len(plan) < len(planned):
        context.log.info(f"{len(planned) - len(plan)} pull day(s) already in the lake kept (refresh=True re-pulls)")
    pulled: dict[date, dict] = {}
    # Everything is fetched before anything is written; meanwhile each pull waits in a private local folder, not
    # in memory (a year of a large company is ~400k rows with their raw JSON: held in memory it was ~1 GB, issue 10).
    # It holds bank data: removed on every exit path, and a killed run's by the next pull (private_temp_dir).
    with private_temp_dir("importau-open-finance-pull-") as parking:
        for day, pull in plan.items():
            try:
                pulled[day] = open_finance.pull(pull, institutions)
            except InstitutionsFailed as error:
                for problem in error.errors.values():
                    if isinstance(problem, SourcePayloadError):  # keep the unreadable body for inspection
                        _write_quarantine(store, day, problem.quarantine)
                raise _failure(day, error) from None
            context.log.info(
                f"Pulled {day} (window {pull.window[0]}..{pull.window[1]}): "
                + ", ".join(
                    f"{name} {extract.tables['transactions'].num_rows} transactions"
                    for name, extract in sorted(pulled[day].items())
                )
            )
            _park(Path(parking), day, pulled[day])
        yield from _write(context, store, Path(parking), plan, pulled, len(planned) - len(plan), (start, end))


def _parked(parking: Path, day: date) -> Path:
    return parking / day.isoformat()


def _park(parking: Path, day: date, extracts: dict) -> None:
    """Write a day's tables (all institutions together) to `parking` and let the extracts keep only their counts."""
    folder = _parked(parking, day)
    folder.mkdir()
    for entity, table in combine(extracts.values()).items():
        pq.write_table(table, folder / f"{entity}.parquet")
    for extract in extracts.values():
        extract.tables = {entity: table.schema.empty_table() for entity, table in extract.tables.items()}


def _unpark(parking: Path, day: date) -> dict[str, pa.Table]:
    folder = _parked(parking, day)
    return {
        entity: pq.read_table(folder / f"{entity}.parquet", schema=schema) for entity, schema in schemas.SCHEMAS.items()
    }


def _write_quarantine(store, day: date, records: list[QuarantineRecord]) -> dict[str, str]:
    """Unreadable bodies name their endpoint, not an entity: they are kept with the pull (`_quarantine/.../pulls`)."""
    entities = {dataset.entity for dataset in DATASETS}
    by_entity: dict[str, list[QuarantineRecord]] = defaultdict(list)
    for record in records:
        by_entity[record.entity if record.entity in entities else PULLS].append(record)
    return {entity: store.write_quarantine(SOURCE, entity, day, rows) for entity, rows in by_entity.items()}


def _write(
    context,
    store,
    parking: Path,
    plan: dict[date, PlannedPull],
    pulled: dict[date, dict],
    kept: int,
    months: tuple[date, date],
):
    """One object per entity and pull day with rows (a pull that now has none removes a stale object)."""
    written: dict[str, list[str]] = defaultdict(list)
    rows: dict[str, int] = defaultdict(int)
    quarantined: dict[str, int] = defaultdict(int)
    previews: dict[str, pa.Table] = {}
    for day, extracts in sorted(pulled.items()):
        tables = {**_unpark(parking, day), PULLS: _pulls_table({day: extracts})}
        records = [record for extract in extracts.values() for record in extract.quarantine]
        for dataset in DATASETS:
            table = tables[dataset.entity]
            if table.num_rows:
                written[dataset.entity].append(store.write_partition(SOURCE, dataset.entity, day, table))
                previews[dataset.entity] = table
            else:
                store.remove_partition(SOURCE, dataset.entity, day)
            rows[dataset.entity] += table.num_rows
            bad = [record for record in records if record.entity == dataset.entity]
            quarantined[dataset.entity] += len(bad)
            path = store.write_quarantine(SOURCE, dataset.entity, day, bad)  # none: removes a stale file
            if bad:
                context.log.warning(f"{len(bad)} {dataset.name} records of the {day} pull quarantined: {path}")
    calls: dict[str, int] = defaultdict(int)
    retries: dict[str, int] = defaultdict(int)
    for extracts in pulled.values():
        for extract in extracts.values():
            for endpoint, count in extract.calls.items():
                calls[endpoint] += count
            for reason, count in extract.retries.items():
                retries[reason] += count
    if retries:
        by_reason = ", ".join(f"{reason} x{count}" for reason, count in sorted(retries.items()))
        context.log.warning(f"the institutions answered only after {sum(retries.values())} retries ({by_reason})")
    for dataset in DATASETS:
        preview = previews.get(dataset.entity, dataset.schema.empty_table())
        paths = written[dataset.entity]
        metadata = {
            "row_count": rows[dataset.entity],
            "lake_objects_written": len(paths),
            "quarantined": quarantined[dataset.entity],
            "lake_path": dg.MetadataValue.path(paths[-1] if paths else "none"),
            "preview": dg.MetadataValue.md(preview_markdown(without_column(preview, "raw_json"))),
        }
        if dataset.entity == PULLS:
            metadata["pulls"] = len(plan)
            metadata["pull_days_kept"] = kept
            metadata["institutions"] = ", ".join(sorted({n for extracts in pulled.values() for n in extracts}))
            metadata["api_calls"] = sum(calls.values())
            metadata["api_calls_by_endpoint"] = dg.MetadataValue.json(dict(sorted(calls.items())))
            metadata["retries"] = sum(retries.values())  # of transient failures (429/5xx/timeouts/bad bodies)
            metadata["retries_by_reason"] = dg.MetadataValue.json(dict(sorted(retries.items())))
        quality, check = lake_quality.assess(store, SOURCE, dataset.entity, lake_key(dataset), *months)
        yield dg.MaterializeResult(asset_key=lake_key(dataset), metadata={**metadata, **quality}, check_results=[check])


raw_load = raw_load_assets(
    source=SOURCE,
    tables=[
        RawTable.of_dataset(
            dataset,
            order_by=dataset.key,
            # each pull re-reads its window, so the same key lands once per pull day: unique within a pull day
            unique_key=dataset.key if dataset.entity == PULLS else (*dataset.key, "_partition_date"),
        )
        for dataset in DATASETS
    ],
    partitions_def=open_finance_partitions,
)
raw_assets = [raw_load]
assets = [open_finance_pull, raw_load]
