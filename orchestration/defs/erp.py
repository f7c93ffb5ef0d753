"""The operational ERP: file drops (CSV/XLSX exports) into the lake, raw loads, and the sensor that watches the inbox.

`lake/erp__<entity>` is one multi-asset: each run processes every file waiting in the inbox, oldest first
(`ingestion/erp/filedrop.py`: validate against the entity contract, stamp the good rows with the file's arrival
`_arrived_at`, land them, quarantine the bad ones with their reasons, move the file to processed/ or quarantine/,
never load the same bytes twice in a row) and appends what landed to the lake object of the load day
(`dt=<São Paulo date of the load>`, or the range's last day in a backfill of past months). Partitions are months;
a day without a drop has no object. Each entity's `lake_quality` check (defs/lake_quality.py) rides on
its materialization. `erp_raw_load` replaces the run's months in ClickHouse atomically, copying
`_arrived_at` from the lake, so a re-run gives the same rows. Staging keeps the latest version of each key: the
newest `updated_at`, then the latest arrival (a corrected file re-dropped with the same `updated_at` wins).
`erp_raw_load` also loads the PostgreSQL extraction's datasets (`lake/erp_postgres__<entity>`, erp_postgres.py)
into the same raw tables, when there are any: a version from either channel competes by the same order.
"""

from datetime import date, timedelta

import dagster as dg
import pyarrow as pa

from ingestion.common.lake import Lake, append_partition, append_quarantine
from ingestion.erp import contracts, filedrop
from ingestion.erp.extraction import LAKE_SOURCE as POSTGRES_LAKE_SOURCE
from ingestion.erp.state import FileRegistry
from orchestration.automation_conditions import merged_raw_load_condition
from orchestration.defs import file_drops, lake_quality
from orchestration.defs.metadata import lake_spec, partition_dates, sao_paulo_today
from orchestration.defs.raw_loads import RawTable, raw_load_assets
from orchestration.partitions import erp_partitions
from orchestration.resources.erp import ErpResource
from orchestration.resources.lake import LakeResource

SOURCE = "erp"
UNKNOWN_ENTITY = "unknown_entity"  # quarantine of files whose name names no entity


def _append(store: Lake, entity: str, day: date, table: pa.Table) -> None:
    """Add rows (in `contracts.lake_schema`, arrival included) to the day's partition (one object per partition,
    rewritten whole; the rows already there keep their arrivals)."""

    def has_arrivals(existing: pa.Table) -> None:
        if contracts.ARRIVED_AT not in existing.schema.names:
            raise ValueError(
                f"{store.uri(store.partition_path(SOURCE, entity, day))} was written before ERP rows carried "
                f"{contracts.ARRIVED_AT}: see ingestion/erp/README.md (data landed before arrivals) to reload it"
            )

    append_partition(store, SOURCE, entity, day, table, contracts.lake_schema(entity), has_arrivals)


@dg.multi_asset(
    name="erp_file_drop",
    specs=[
        lake_spec(
            ["lake", f"{SOURCE}__{entity}"],
            SOURCE,
            f"ERP {entity.replace('_', ' ')} from the file-drop inbox, validated against its contract.",
        )
        for entity in contracts.ENTITY_NAMES
    ],
    check_specs=lake_quality.check_specs([dg.AssetKey(["lake", f"{SOURCE}__{e}"]) for e in contracts.ENTITY_NAMES]),
    partitions_def=erp_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def erp_file_drop(context: dg.AssetExecutionContext, erp: ErpResource, lake: LakeResource):
    start, end = partition_dates(context)
    day = min(end, sao_paulo_today())  # the load day: today, or the range's last day in a backfill
    store = lake.get_lake()
    registry = FileRegistry(erp.state_dir())
    landed = {entity: 0 for entity in contracts.ENTITY_NAMES}

    def land(result: filedrop.FileResult) -> None:
        entity = result.entity or UNKNOWN_ENTITY
        if result.entity and result.table is not None and result.table.num_rows:
            _append(store, result.entity, day, result.table)
            landed[result.entity] += result.table.num_rows
        if result.quarantine:
            append_quarantine(store, SOURCE, entity, day, result.quarantine)

    results = [filedrop.process(file, registry, land) for file in filedrop.scan(erp.inbox())]
    for result in results:
        log = context.log.warning if result.quarantine or result.status == "quarantined" else context.log.info
        log(f"{result.file.name}: {result.message}")
    files = "\n".join(
        f"| {r.file.name} | {r.status} | {r.rows} | {len(r.quarantine)} | "
        f"{r.arrived_at.isoformat(timespec='milliseconds') if r.arrived_at else ''} |"
        for r in results
    )
    for entity in contracts.ENTITY_NAMES:
        quarantined = sum(len(r.quarantine) for r in results if r.entity == entity)
        key = dg.AssetKey(["lake", f"{SOURCE}__{entity}"])
        quality, check = lake_quality.assess(store, SOURCE, entity, key, start, end)
        yield dg.MaterializeResult(
            asset_key=key,
            check_results=[check],
            metadata={
                **quality,
                "row_count": landed[entity],
                "quarantined": quarantined,
                "files_seen": len(results),
                "load_day": day.isoformat(),
                "lake_path": dg.MetadataValue.path(
                    store.uri(store.partition_path(SOURCE, entity, day)) if landed[entity] else "none"
                ),
                "files": dg.MetadataValue.md(
                    "| file | status | rows | quarantined | arrived_at |\n|---|---|---|---|---|\n" + files
                    if files
                    else "_none_"
                ),
            },
        )


raw_load = raw_load_assets(
    source=SOURCE,
    tables=[
        RawTable(
            entity=entity,
            schema=contracts.lake_schema(entity),
            order_by=contracts.ENTITIES[entity].primary_key,
            low_cardinality=[c.name for c in contracts.ENTITIES[entity].columns if c.allowed],
            description=f"ERP {entity.replace('_', ' ')}, every loaded version with its arrival, from the "
            "file drops and the PostgreSQL extraction (staging keeps the latest).",
            more_lake_sources=(POSTGRES_LAKE_SOURCE,),
        )
        for entity in contracts.ENTITY_NAMES
    ],
    partitions_def=erp_partitions,
    automation_condition=merged_raw_load_condition(),
)
raw_assets = [raw_load]


@file_drops.inbox_sensor("erp_file_drop_sensor", erp_file_drop)
def erp_file_drop_sensor(context: dg.SensorEvaluationContext, erp: ErpResource):
    """New files in the ERP inbox → one run for the current month (the run key is the files' content hashes and
    modification times: the same bytes dropped again later, a revert, start a run of their own)."""
    return file_drops.inbox_run_request(filedrop.scan(erp.inbox(), min_age=timedelta(seconds=30)), erp.inbox())


assets = [erp_file_drop, raw_load]
sensors = [erp_file_drop_sensor]
