"""The banks' statement files (OFX, CNAB 240) dropped into the bank inbox: into the lake, and their raw load.

`bank_statement_file_drop` is one multi-asset over `lake/bank_statement__<entity>` (accounts, balances,
transactions): each run processes every file waiting in the bank statements inbox, oldest first
(`ingestion/bank_statements/filedrop.py`: parse, check the trailers and every record against the contract, stamp
the landed ones with the file's arrival, quarantine the bad ones with their line and reason, move the file to
processed/ or quarantine/, never load the same bytes twice) and appends what landed to the lake object of the load
day, as the ERP and customs file drops do. `bank_statement_raw_load` is the source's one raw-load step
(raw_loads.py). Both sit in the group `bank_statements`.
"""

from datetime import timedelta

import dagster as dg

from ingestion.bank_statements import contracts, filedrop
from ingestion.common.lake import append_partition, append_quarantine
from ingestion.common.quarantine import QuarantineRecord
from ingestion.erp.state import FileRegistry
from orchestration.constants import OWNER
from orchestration.defs.metadata import partition_dates, sao_paulo_today
from orchestration.defs.raw_loads import RawTable, raw_load_assets
from orchestration.partitions import erp_partitions, month_key
from orchestration.resources.bank_statements import BankStatementsResource
from orchestration.resources.lake import LakeResource

SOURCE = contracts.SOURCE
GROUP = "bank_statements"


@dg.multi_asset(
    name="bank_statement_file_drop",
    specs=[
        dg.AssetSpec(
            ["lake", f"{SOURCE}__{entity}"],
            group_name=GROUP,
            kinds={"python", "parquet"},
            owners=[OWNER],
            description=f"Bank {entity} from the banks' statement files (OFX, CNAB 240) in the bank inbox.",
        )
        for entity in contracts.ENTITY_NAMES
    ],
    partitions_def=erp_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def bank_statement_file_drop(
    context: dg.AssetExecutionContext, bank_statements: BankStatementsResource, lake: LakeResource
):
    _, end = partition_dates(context)
    day = min(end, sao_paulo_today())  # the load day: today, or the range's last day in a backfill
    store = lake.get_lake()
    registry = FileRegistry(bank_statements.state_dir())
    landed = {entity: 0 for entity in contracts.ENTITY_NAMES}

    def land(result: filedrop.FileResult) -> None:
        for entity, table in result.tables.items():
            if table.num_rows:
                append_partition(store, SOURCE, entity, day, table, contracts.lake_schema(entity))
                landed[entity] += table.num_rows
        by_entity: dict[str, list[QuarantineRecord]] = {}
        for record in result.quarantine:
            by_entity.setdefault(record.entity, []).append(record)
        for entity, records in by_entity.items():
            append_quarantine(store, SOURCE, entity, day, records)

    results = [filedrop.process(file, registry, land) for file in filedrop.scan(bank_statements.inbox())]
    for result in results:
        log = context.log.warning if result.quarantine else context.log.info
        log(f"{result.file.name}: {result.message}")
    files = "\n".join(f"| {r.file.name} | {r.status} | {r.landed} | {len(r.quarantine)} |" for r in results)
    for entity in contracts.ENTITY_NAMES:
        yield dg.MaterializeResult(
            asset_key=["lake", f"{SOURCE}__{entity}"],
            metadata={
                "row_count": landed[entity],
                "quarantined": sum(1 for r in results for q in r.quarantine if q.entity == entity),
                "files_seen": len(results),
                "load_day": day.isoformat(),
                "files": dg.MetadataValue.md(
                    "| file | status | records landed | quarantined |\n|---|---|---|---|\n" + files
                    if files
                    else "_none_"
                ),
            },
        )


raw_load = raw_load_assets(
    source=SOURCE,
    group_name=GROUP,
    tables=[
        RawTable(
            entity=entity,
            schema=contracts.lake_schema(entity),
            order_by=["statement_format", *contracts.ENTITIES[entity].primary_key],
            low_cardinality=[c.name for c in contracts.ENTITIES[entity].columns if c.allowed]
            + ["institution", "currency"],
            description=f"Bank {entity} read from the statement files, every landed record with its file and "
            "arrival (staging keeps one row per key).",
        )
        for entity in contracts.ENTITY_NAMES
    ],
    partitions_def=erp_partitions,
)


@dg.sensor(
    name="bank_statement_file_drop_sensor",
    target=dg.AssetSelection.assets(bank_statement_file_drop),
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def bank_statement_file_drop_sensor(context: dg.SensorEvaluationContext, bank_statements: BankStatementsResource):
    """New files in the bank statements inbox -> one run for the current month (run key: the files' hashes and
    times)."""
    waiting = filedrop.scan(bank_statements.inbox(), min_age=timedelta(seconds=30))
    if not waiting:
        return dg.SkipReason(f"no new file in {bank_statements.inbox()}")
    run_key = ",".join(sorted(f"{file.sha256[:12]}@{file.modified:%Y%m%dT%H%M%S.%f}" for file in waiting))
    return dg.RunRequest(
        run_key=run_key, partition_key=month_key(sao_paulo_today()), tags={"importau/files": str(len(waiting))}
    )


assets = [bank_statement_file_drop, raw_load]
sensors = [bank_statement_file_drop_sensor]
