"""The operational ERP: file drops (CSV/XLSX exports) into the lake, raw loads, and the sensor that watches the inbox.

`lake/erp__<entity>` is one multi-asset: each run processes every file waiting in the inbox
(`ingestion/erp/filedrop.py`: validate against the entity contract, land the good rows, quarantine the bad ones
with their reasons, move the file to processed/ or quarantine/, never load the same bytes twice) and appends
what landed to the run's partition, the São Paulo date of the load (the last day of a ranged run). Every other
day of the range gets its zero-row partition if it has none yet. Staging keeps the latest version of each key.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pyarrow as pa

from ingestion.common.lake import Lake
from ingestion.common.partitioning import days_between
from ingestion.common.quarantine import QuarantineRecord
from ingestion.erp import contracts, filedrop
from ingestion.erp.state import FileRegistry
from orchestration.constants import BUSINESS_TIMEZONE, OWNER
from orchestration.defs.metadata import partition_dates
from orchestration.defs.raw_loads import raw_load_asset
from orchestration.partitions import erp_daily_partitions
from orchestration.resources.erp import ErpResource
from orchestration.resources.lake import LakeResource

SOURCE = "erp"
UNKNOWN_ENTITY = "unknown_entity"  # quarantine of files whose name names no entity


def _append(store: Lake, entity: str, day: date, table: pa.Table) -> None:
    """Add rows to the day's partition (one object per partition, rewritten whole)."""
    parts = [store.read_partition(SOURCE, entity, day)] if store.exists(SOURCE, entity, day) else []
    store.write_partition(SOURCE, entity, day, pa.concat_tables([*parts, table.cast(contracts.schema(entity))]))


def _append_quarantine(store: Lake, entity: str, day: date, records: list[QuarantineRecord]) -> None:
    try:
        previous = store.read_quarantine(SOURCE, entity, day).to_pylist()
    except Exception:  # no quarantine yet for that day
        previous = []
    merged = [QuarantineRecord(**{k: row[k] for k in QuarantineRecord.__dataclass_fields__}) for row in previous]
    store.write_quarantine(SOURCE, entity, day, [*merged, *records])


@dg.multi_asset(
    name="erp_file_drop",
    specs=[
        dg.AssetSpec(
            ["lake", f"{SOURCE}__{entity}"],
            group_name=SOURCE,
            kinds={"python", "parquet"},
            owners=[OWNER],
            description=f"ERP {entity.replace('_', ' ')} from the file-drop inbox, validated against its contract.",
        )
        for entity in contracts.ENTITY_NAMES
    ],
    partitions_def=erp_daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def erp_file_drop(context: dg.AssetExecutionContext, erp: ErpResource, lake: LakeResource):
    start, day = partition_dates(context)
    store = lake.get_lake()
    registry = FileRegistry(erp.state_dir())
    landed = {entity: 0 for entity in contracts.ENTITY_NAMES}

    def land(result: filedrop.FileResult) -> None:
        entity = result.entity or UNKNOWN_ENTITY
        if result.entity and result.table is not None and result.table.num_rows:
            _append(store, result.entity, day, result.table)
            landed[result.entity] += result.table.num_rows
        if result.quarantine:
            _append_quarantine(store, entity, day, result.quarantine)

    results = [filedrop.process(file, registry, land) for file in filedrop.scan(erp.inbox())]
    empty = 0
    for entity in contracts.ENTITY_NAMES:
        for missing in (d for d in days_between(start, day) if not store.exists(SOURCE, entity, d)):
            store.write_partition(SOURCE, entity, missing, contracts.schema(entity).empty_table())
            empty += 1
    for result in results:
        log = context.log.warning if result.quarantine or result.status == "quarantined" else context.log.info
        log(f"{result.file.name}: {result.message}")
    files = "\n".join(f"| {r.file.name} | {r.status} | {r.rows} | {len(r.quarantine)} |" for r in results)
    for entity in contracts.ENTITY_NAMES:
        quarantined = sum(len(r.quarantine) for r in results if r.entity == entity)
        yield dg.MaterializeResult(
            asset_key=["lake", f"{SOURCE}__{entity}"],
            metadata={
                "row_count": landed[entity],
                "quarantined": quarantined,
                "files_seen": len(results),
                "empty_partitions_written": empty,
                "lake_path": dg.MetadataValue.path(store.uri(store.partition_path(SOURCE, entity, day))),
                "files": dg.MetadataValue.md(
                    "| file | status | rows | quarantined |\n|---|---|---|---|\n" + files if files else "_none_"
                ),
            },
        )


raw_assets = [
    raw_load_asset(
        source=SOURCE,
        entity=entity,
        schema=contracts.schema(entity),
        order_by=contracts.ENTITIES[entity].primary_key,
        low_cardinality=[c.name for c in contracts.ENTITIES[entity].columns if c.allowed],
        partitions_def=erp_daily_partitions,
        description=f"ERP {entity.replace('_', ' ')}, every loaded version (staging keeps the latest).",
    )
    for entity in contracts.ENTITY_NAMES
]


@dg.sensor(
    name="erp_file_drop_sensor",
    target=dg.AssetSelection.assets(erp_file_drop),
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def erp_file_drop_sensor(context: dg.SensorEvaluationContext, erp: ErpResource):
    """New files in the ERP inbox → one run for today's partition (the run key is the files' content hashes)."""
    waiting = filedrop.scan(erp.inbox(), min_age=timedelta(seconds=30))
    if not waiting:
        return dg.SkipReason(f"no new file in {erp.inbox()}")
    today = datetime.now(ZoneInfo(BUSINESS_TIMEZONE)).date().isoformat()
    run_key = ",".join(sorted(file.sha256[:12] for file in waiting))
    return dg.RunRequest(run_key=run_key, partition_key=today, tags={"importau/files": str(len(waiting))})


assets = [erp_file_drop, *raw_assets]
sensors = [erp_file_drop_sensor]
