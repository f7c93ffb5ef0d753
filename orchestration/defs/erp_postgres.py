"""The ERP's PostgreSQL (`ERP_POSTGRES_DSN`) as an incremental, partitioned extraction into the lake.

`lake/erp_postgres__<entity>` is one multi-asset on the ERP's monthly partitions (`ingestion/erp/extraction.py`):
each table is read by change time (`greatest(updated_at, deleted_at)`) from the partition's recorded high-water
mark (the current month) or within its recorded range (a past month: a re-run reads the same range), validated
against the ERP contracts (bad rows quarantined with their reasons), and the versions the lake does not hold yet
land in `erp_postgres/<entity>/dt=<load day>` with the extraction's arrival (`_arrived_at`). `erp_raw_load` loads
them into the same `raw.erp__<entity>` tables as the file drops (its second lake dataset), so staging keeps the
latest version across both: `updated_at`, then arrival. With `key_scan` (the daily schedule sets it on Sundays),
keys the ERP hard-deleted get a tombstone version (`deleted_at` = the scan's arrival): flagged `is_deleted` in
staging, like a soft delete. Each entity's `lake_quality` check (defs/lake_quality.py) rides on its
materialization.

Its own group (`erp_postgres`), outside the demo's main path (`ingest_erp` and the transformations): without
`ERP_POSTGRES_DSN` the schedule skips and a manual run fails saying what to set; the file drops never need it.
The DSN's password never reaches a log line or metadata (`postgres.safe_dsn`, `postgres.where`).
"""

from datetime import date, timedelta

import dagster as dg
from pydantic import Field

from ingestion.common.partitioning import month_starts
from ingestion.erp import contracts, postgres
from ingestion.erp.extraction import (
    LAKE_SOURCE,
    ExtractionBusyError,
    Month,
    TableResult,
    extract_partitions,
    extraction_lock,
)
from ingestion.erp.state import PartitionCursor, PartitionCursors
from orchestration.constants import BUSINESS_TIMEZONE, OWNER
from orchestration.defs import lake_quality
from orchestration.defs.metadata import partition_dates, sao_paulo_today
from orchestration.partitions import erp_partitions, month_key
from orchestration.resources.erp import ErpResource
from orchestration.resources.lake import LakeResource

GROUP = "erp_postgres"
NOT_CONFIGURED = (
    f"{postgres.DSN_ENV} is not set: the ERP PostgreSQL extraction has no database to read. Set it to the ERP "
    "database (libpq `host=... port=5432 dbname=... user=... password=...` or postgresql://...) where the code "
    "location runs; the file drops (ingest_erp) do not need it."
)
KEY_SCAN_WEEKDAY = 6  # Sunday: the daily schedule's run that also scans every key for hard deletes


class ErpPostgresConfig(dg.Config):
    key_scan: bool = Field(
        default=False,
        description="Also read every primary key and record a tombstone for each key the ERP hard-deleted "
        "(runs with the current month's partition; the daily schedule sets it on Sundays).",
    )


def _stamp(value) -> str:
    return value.isoformat(timespec="milliseconds") if value is not None else ""


def _cursor_rows(cursors: dict[str, PartitionCursor]) -> str:
    if not cursors:
        return "_none_"
    lines = ["| partition | start | high water | key | rows landed |", "|---|---|---|---|---|"]
    for partition, cursor in cursors.items():
        key = " ".join(map(str, cursor.high_water_key)) if cursor.high_water_key else ""
        lines.append(f"| {partition} | {_stamp(cursor.start)} | {_stamp(cursor.high_water)} | {key} | {cursor.rows} |")
    return "\n".join(lines)


def _metadata(result: TableResult, database: str, schema: str, key_scan: bool) -> dict:
    return {
        "row_count": result.landed,
        "rows_read": result.read,
        "quarantined": len(result.quarantine),
        "tombstones": result.tombstones,
        "key_scan": result.key_scanned,
        "key_scan_requested": key_scan,
        "table": f"{schema}.{result.entity}",
        "database": database,
        "cursors": dg.MetadataValue.md(_cursor_rows(result.cursors)),
        "lake_path": dg.MetadataValue.path(result.lake_paths[-1] if result.lake_paths else "none"),
        "notes": "; ".join(result.notes),
    }


@dg.multi_asset(
    name="erp_postgres_extract",
    specs=[
        dg.AssetSpec(
            ["lake", f"{LAKE_SOURCE}__{entity}"],
            group_name=GROUP,
            kinds={"python", "postgres", "parquet"},
            owners=[OWNER],
            description=f"ERP {entity.replace('_', ' ')} read incrementally from the ERP's PostgreSQL, validated "
            "against its contract; hard deletes found by the key scan are tombstones.",
        )
        for entity in contracts.ENTITY_NAMES
    ],
    check_specs=lake_quality.check_specs(
        [dg.AssetKey(["lake", f"{LAKE_SOURCE}__{entity}"]) for entity in contracts.ENTITY_NAMES]
    ),
    partitions_def=erp_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def erp_postgres_extract(
    context: dg.AssetExecutionContext, config: ErpPostgresConfig, erp: ErpResource, lake: LakeResource
):
    if not erp.postgres_dsn():
        raise dg.Failure(description=NOT_CONFIGURED)
    start, end = partition_dates(context)
    months = [Month.of(first) for first in month_starts(start, end)]
    today = sao_paulo_today()
    store = lake.get_lake()
    state = erp.state_dir()
    try:
        with extraction_lock(state), erp.postgres_connection() as conn:
            database = postgres.where(conn)
            context.log.info(f"reading {erp.postgres_schema}.* on {database} for {months[0].key}..{months[-1].key}")
            results = extract_partitions(
                conn,
                store,
                PartitionCursors.load(state),
                months,
                today,
                schema=erp.postgres_schema,
                overlap=timedelta(minutes=erp.postgres_overlap_minutes),
                key_scan=config.key_scan,
                save=lambda cursors: cursors.save(state),
            )
    except (postgres.ErpDatabaseError, ExtractionBusyError) as error:  # messages name the database, masked
        raise dg.Failure(description=str(error)) from None
    for entity, result in results.items():
        for record in result.quarantine:
            context.log.warning(f"quarantined: {record.reason}")
        if result.tombstones:
            context.log.warning(f"{entity}: {result.tombstones} key(s) hard-deleted in the ERP, recorded as deleted")
        key = dg.AssetKey(["lake", f"{LAKE_SOURCE}__{entity}"])
        quality, check = lake_quality.assess(store, LAKE_SOURCE, entity, key, start, end)
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={**_metadata(result, database, erp.postgres_schema, config.key_scan), **quality},
            check_results=[check],
        )


def key_scan_run_config(day: date) -> dict:
    """The run config of the schedule's run on `day`: the key scan on Sundays."""
    return {"ops": {"erp_postgres_extract": {"config": {"key_scan": day.weekday() == KEY_SCAN_WEEKDAY}}}}


@dg.schedule(
    name="erp_postgres_daily_schedule",
    target=dg.AssetSelection.assets(erp_postgres_extract),
    cron_schedule="30 6 * * *",
    execution_timezone=BUSINESS_TIMEZONE,
)
def erp_postgres_daily_schedule(context: dg.ScheduleEvaluationContext, erp: ErpResource):
    """Every morning: the current month's partition (the ERP's changes since its high-water mark), with the
    hard-delete key scan on Sundays; the raw load follows (ingestion automation). Skips without ERP_POSTGRES_DSN."""
    if not erp.postgres_dsn():
        return dg.SkipReason(NOT_CONFIGURED)
    today = context.scheduled_execution_time.date()
    return dg.RunRequest(
        run_key=today.isoformat(), partition_key=month_key(today), run_config=key_scan_run_config(today)
    )


assets = [erp_postgres_extract]
schedules = [erp_postgres_daily_schedule]
