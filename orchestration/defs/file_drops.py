"""What the file-drop assets share: the inbox sensor (ERP, customs, bank statements) and, for the drops of a file
parsed whole (customs.py, bank_statements.py over `ingestion/erp/parsed_filedrop.py`), the lake specs, the raw
tables, the landing of a result into the lake and the materializations with their metadata."""

from collections.abc import Callable, Iterator
from datetime import date
from types import ModuleType

import dagster as dg
import pyarrow as pa

from ingestion.common.lake import Lake, append_partition, append_quarantine
from ingestion.common.quarantine import QuarantineRecord
from ingestion.erp.parsed_filedrop import FileResult
from orchestration.constants import OWNER
from orchestration.defs.metadata import sao_paulo_today
from orchestration.defs.raw_loads import RawTable
from orchestration.partitions import month_key


def inbox_sensor(name: str, asset) -> Callable:
    """The decorator of an inbox sensor: every minute, stopped until turned on, targeting the file-drop `asset`."""
    return dg.sensor(
        name=name,
        target=dg.AssetSelection.assets(asset),
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
    )


def inbox_run_request(waiting: list, inbox: str) -> dg.RunRequest | dg.SkipReason:
    """New files in an inbox -> one run for the current month (the run key is the files' content hashes and
    modification times: the same bytes dropped again later, a revert, start a run of their own)."""
    if not waiting:
        return dg.SkipReason(f"no new file in {inbox}")
    run_key = ",".join(sorted(f"{file.sha256[:12]}@{file.modified:%Y%m%dT%H%M%S.%f}" for file in waiting))
    return dg.RunRequest(
        run_key=run_key, partition_key=month_key(sao_paulo_today()), tags={"importau/files": str(len(waiting))}
    )


def lake_specs(contracts: ModuleType, group: str, describe: Callable[[str], str]) -> list[dg.AssetSpec]:
    """The specs of a parsed drop's lake datasets, `lake/<source>__<entity>` (Parquet written by Python)."""
    return [
        dg.AssetSpec(
            ["lake", f"{contracts.SOURCE}__{entity}"],
            group_name=group,
            kinds={"python", "parquet"},
            owners=[OWNER],
            description=describe(entity),
        )
        for entity in contracts.ENTITY_NAMES
    ]


def raw_tables(
    contracts: ModuleType, describe: Callable[[str], str], key_prefix: tuple = (), more_low_cardinality: tuple = ()
) -> list[RawTable]:
    """The raw tables of a parsed drop (`raw.<source>__<entity>`): the lake schema, ordered by `key_prefix` then
    the primary key, the columns with an allowed set (and `more_low_cardinality`) as LowCardinality."""
    return [
        RawTable(
            entity=entity,
            schema=contracts.lake_schema(entity),
            order_by=[*key_prefix, *contracts.ENTITIES[entity].primary_key],
            low_cardinality=[c.name for c in contracts.ENTITIES[entity].columns if c.allowed]
            + list(more_low_cardinality),
            description=describe(entity),
        )
        for entity in contracts.ENTITY_NAMES
    ]


class ParsedLanding:
    """Lands a batch of parsed files' results in the lake of the load day (`land`, handed to `process_many`: one
    append per entity and batch), counting the records landed per entity; then `materializations` reports them,
    one per `lake/<source>__<entity>`."""

    def __init__(self, store: Lake, contracts: ModuleType, day: date):
        self.store, self.contracts, self.day = store, contracts, day
        self.landed = {entity: 0 for entity in contracts.ENTITY_NAMES}

    def land(self, results: list[FileResult]) -> None:
        source = self.contracts.SOURCE
        for entity in self.contracts.ENTITY_NAMES:
            tables = [r.tables[entity] for r in results if entity in r.tables and r.tables[entity].num_rows]
            if tables:
                schema = self.contracts.lake_schema(entity)
                table = pa.concat_tables([t.cast(schema) for t in tables])
                append_partition(self.store, source, entity, self.day, table, schema)
                self.landed[entity] += table.num_rows
        by_entity: dict[str, list[QuarantineRecord]] = {}
        for record in (record for result in results for record in result.quarantine):
            by_entity.setdefault(record.entity, []).append(record)
        for entity, records in by_entity.items():
            append_quarantine(self.store, source, entity, self.day, records)

    def materializations(
        self, context: dg.AssetExecutionContext, results: list[FileResult], **extra: object
    ) -> Iterator[dg.MaterializeResult]:
        """Log each file's outcome, then one materialization per entity: rows landed, records quarantined, files
        seen, the load day, a table of the files (and `extra` metadata, after `files_seen`)."""
        for result in results:
            log = context.log.warning if result.quarantine else context.log.info
            log(f"{result.file.name}: {result.message}")
        files = "\n".join(f"| {r.file.name} | {r.status} | {r.landed} | {len(r.quarantine)} |" for r in results)
        for entity in self.contracts.ENTITY_NAMES:
            yield dg.MaterializeResult(
                asset_key=["lake", f"{self.contracts.SOURCE}__{entity}"],
                metadata={
                    "row_count": self.landed[entity],
                    "quarantined": sum(1 for r in results for q in r.quarantine if q.entity == entity),
                    "files_seen": len(results),
                    **extra,
                    "load_day": self.day.isoformat(),
                    "files": dg.MetadataValue.md(
                        "| file | status | records landed | quarantined |\n|---|---|---|---|\n" + files
                        if files
                        else "_none_"
                    ),
                },
            )
