"""The ERP's PostgreSQL -> lake -> `raw.erp__<entity>` -> staging, as one daily run does it, for the integration test.

`extract_day` runs `extract_incremental` for every contract entity from the given cursors and writes each table
as Parquet at `<lake>/erp/<entity>/dt=<day>/part-000.parquet` (a re-run overwrites the same file). `land_day`
then replaces day `<day>` of every raw table, in a subprocess (chDB hosts one engine folder per process, and the
pytest process has its own, see tests/README.md): it creates the raw tables as the dbt tests do
(`create_erp_raw_tables`: `ensure_raw_table` from the lake schemas), deletes `_partition_date = day` (a
synchronous lightweight DELETE: this harness replaces one day, the platform's loader replaces whole months) and
inserts the rows with `_arrived_at` and `_loaded_at` = the run's load time (the extraction arrives when it runs),
`_partition_date = day` and `_source_file` = the Parquet path. Only after that does the caller store the
cursors.

`file_drop_run` is the file-drop path as the platform runs it: `erp_file_drop` (every file waiting in the inbox
to the lake, bad rows quarantined) then `erp_raw_load` (the month replaced in `raw.erp__<entity>`), materialized
with `dg.materialize` for one month partition in a subprocess, with the inbox, the ERP state, the lake and the
chDB warehouse under the given folders. It prints the rows landed and quarantined and the raw rows per entity.

By hand: `python tests/integration/erp_pipeline.py <data_dir> <lake> <YYYY-MM-DD> <loaded_at ISO>` with
`IMPORTAU_DATA_DIR=<data_dir>`; it prints the raw row count of every entity for that day as JSON.
`python tests/integration/erp_pipeline.py file-drop <data_dir> <inbox> <lake> <YYYY-MM-01>` runs the file drop.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pyarrow.parquet as pq

from ingestion.erp import contracts
from ingestion.erp.postgres import Extraction, extract_incremental
from ingestion.erp.state import CursorStore
from tests.dbt.dbt_harness import dbt_env
from tests.dbt.erp_raw_fixtures import create_erp_raw_tables, raw_key

METADATA = ["_partition_date", "_loaded_at", "_source_file"]


def batch_file(lake: Path, entity: str, day: date) -> Path:
    return Path(lake) / "erp" / entity / f"dt={day.isoformat()}" / "part-000.parquet"


def extract_day(conn, schema: str, cursors: CursorStore, lake: Path, day: date) -> dict[str, Extraction]:
    """Extract every entity from `cursors` (not changed here) and write the day's Parquet files."""
    extractions = {}
    for entity in contracts.ENTITY_NAMES:
        extraction = extract_incremental(conn, entity, cursors.get(entity), schema=schema)
        assert extraction.quarantine == [], [record.reason for record in extraction.quarantine]
        path = batch_file(lake, entity, day)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(extraction.table, path)
        extractions[entity] = extraction
    return extractions


def advanced(cursors: CursorStore, extractions: dict[str, Extraction]) -> CursorStore:
    """The cursors after the extractions landed (a copy; `cursors` is left as it was)."""
    after = CursorStore.from_dict(cursors.to_dict())
    for entity, extraction in extractions.items():
        after.set(entity, extraction.cursor)
    return after


def land_day(data_dir: Path, lake: Path, day: date, loaded_at: datetime) -> dict[str, int]:
    """Replace day `day` of every raw ERP table with the day's Parquet files, in a subprocess; rows per entity."""
    completed = subprocess.run(
        [sys.executable, __file__, str(data_dir), str(lake), day.isoformat(), loaded_at.isoformat()],
        env=dbt_env(data_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout)


def file_drop_run(data_dir: Path, inbox: Path, lake: Path, month: str) -> dict:
    """`erp_file_drop` then `erp_raw_load` for month `month` (`YYYY-MM-01`), in a subprocess; returns
    `{"lake": {"erp__<entity>": {"rows": landed, "quarantined": n}}, "raw_rows": {"erp__<entity>": month rows}}`."""
    completed = subprocess.run(
        [sys.executable, __file__, "file-drop", str(data_dir), str(inbox), str(lake), month],
        env=dbt_env(data_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _file_drop_run(data_dir: str, inbox: str, lake: str, month: str) -> dict:
    import dagster as dg

    from orchestration.defs.erp import erp_file_drop, raw_load
    from orchestration.resources.erp import ErpResource
    from orchestration.resources.lake import LakeResource
    from orchestration.resources.warehouse import ClickHouseResource

    result = dg.materialize(
        [erp_file_drop, raw_load],
        partition_key=month,
        resources={
            "erp": ErpResource(inbox_dir=inbox, data_dir=data_dir),
            "lake": LakeResource(url=lake, data_dir=data_dir),
            "warehouse": ClickHouseResource(url="", data_dir=data_dir),
        },
        raise_on_error=True,
    )
    lake_rows, raw_rows = {}, {}
    for event in result.get_asset_materialization_events():
        layer, name = event.asset_key.path
        metadata = event.materialization.metadata
        if layer == "lake":
            lake_rows[name] = {"rows": metadata["row_count"].value, "quarantined": metadata["quarantined"].value}
        else:
            raw_rows[name] = metadata["row_count"].value
    return {"lake": lake_rows, "raw_rows": raw_rows}


def _land(data_dir: str, lake: str, day: date, loaded_at: datetime) -> dict[str, int]:
    from ingestion.common.warehouse import open_warehouse

    counts = {}
    with open_warehouse("", data_dir, owner="pytest tests/integration erp_pipeline") as warehouse:
        client = warehouse.client
        create_erp_raw_tables(client)
        for entity in contracts.ENTITY_NAMES:
            table = f"raw.{raw_key(entity)}"
            client.command(
                f"DELETE FROM {table} WHERE _partition_date = {{day:Date}}",
                parameters={"day": day},
                settings={"lightweight_deletes_sync": 2},
            )
            path = batch_file(Path(lake), entity, day)
            names = contracts.schema(entity).names
            rows = pq.read_table(path).to_pylist()
            if rows:
                client.insert(
                    table,
                    [[row[name] for name in names] + [loaded_at, day, loaded_at, str(path)] for row in rows],
                    column_names=[*names, contracts.ARRIVED_AT, *METADATA],
                )
            counted = client.query(f"SELECT count() FROM {table} WHERE _partition_date = {{day:Date}}", {"day": day})
            counts[entity] = int(counted.result_rows[0][0])
    return counts


if __name__ == "__main__" and sys.argv[1] == "file-drop":
    print(json.dumps(_file_drop_run(*sys.argv[2:6])))
elif __name__ == "__main__":
    data_dir, lake, day, loaded_at = sys.argv[1:5]
    json.dump(_land(data_dir, lake, date.fromisoformat(day), datetime.fromisoformat(loaded_at)), sys.stdout)
