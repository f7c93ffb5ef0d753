"""The ERP's PostgreSQL -> lake -> `raw.erp__<entity>` through the platform's own assets, for the integration test.

`postgres_run` materializes `erp_postgres_extract` and `erp_raw_load` with `dg.materialize` for one month
partition, or a range of months as one run (`dagster/asset_partition_range_*` tags, as a single-run backfill), in
a subprocess (chDB hosts one engine folder per process, see tests/README.md), with `ERP_POSTGRES_DSN` in its
environment as a deployment sets it, the ERP state, the lake and the chDB warehouse under the given folders, and
`IMPORTAU_TODAY` when a business day is given (a replayed day). It returns the rows landed, read, quarantined and
tombstoned per entity, the recorded cursors, the raw row counts, whether the run succeeded and its failure
message, and writes every event of the run (serialized, metadata and log lines included) to `<data_dir>/events-
<n>.txt`, so the test can look for the DSN's password in it.

By hand: `python tests/integration/erp_postgres_pipeline.py <data_dir> <lake> <first month> <last month>
<key_scan 0|1>` with `ERP_POSTGRES_DSN` and `IMPORTAU_DATA_DIR` set; prints the summary as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.dbt.dbt_harness import dbt_env


def postgres_run(
    data_dir: Path,
    lake: Path,
    dsn: str,
    first: str,
    last: str | None = None,
    key_scan: bool = False,
    today: str | None = None,
) -> dict:
    """One run of the extraction and the raw load for months `first`..`last` (`YYYY-MM-01`), in a subprocess."""
    env = {**dbt_env(data_dir), "ERP_POSTGRES_DSN": dsn}
    if today:
        env["IMPORTAU_TODAY"] = today
    completed = subprocess.run(
        [sys.executable, __file__, str(data_dir), str(lake), first, last or first, "1" if key_scan else "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    summary = json.loads(completed.stdout.strip().splitlines()[-1])
    summary["output"] = completed.stdout + completed.stderr
    return summary


def _run(data_dir: str, lake: str, first: str, last: str, key_scan: bool) -> dict:
    import dagster as dg
    from dagster._serdes import serialize_value

    from ingestion.erp.state import PartitionCursors
    from orchestration.defs.erp import raw_load
    from orchestration.defs.erp_postgres import erp_postgres_extract
    from orchestration.resources.erp import ErpResource
    from orchestration.resources.lake import LakeResource
    from orchestration.resources.warehouse import ClickHouseResource

    erp = ErpResource(data_dir=data_dir)
    tags = {}
    if first != last:
        tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [erp_postgres_extract, raw_load],
            partition_key=first if first == last else None,
            tags=tags,
            run_config={"ops": {"erp_postgres_extract": {"config": {"key_scan": key_scan}}}},
            resources={
                "erp": erp,
                "lake": LakeResource(url=lake, data_dir=data_dir),
                "warehouse": ClickHouseResource(url="", data_dir=data_dir),
            },
            instance=instance,
            raise_on_error=False,
        )
        logs = instance.all_logs(result.run_id)
        runs = sorted(Path(data_dir).glob("events-*.txt"))
        (Path(data_dir) / f"events-{len(runs) + 1}.txt").write_text("\n".join(serialize_value(entry) for entry in logs))
    failure = next(
        (event.event_specific_data.error.message for event in result.all_events if event.is_step_failure), None
    )
    lake_rows, raw_rows = {}, {}
    for event in result.get_asset_materialization_events():
        layer, name = event.asset_key.path
        metadata = {key: value.value for key, value in event.materialization.metadata.items()}
        if layer == "lake":
            lake_rows[name.removeprefix("erp_postgres__")] = {
                key: metadata[key] for key in ("row_count", "rows_read", "quarantined", "tombstones", "key_scan")
            }
        else:
            raw_rows[name.removeprefix("erp__")] = metadata["row_count"]
    return {
        "success": result.success,
        "failure": failure,
        "run_id": result.run_id,
        "lake": lake_rows,
        "raw_rows": raw_rows,
        "cursors": PartitionCursors.load(erp.state_dir()).to_dict(),
    }


if __name__ == "__main__":
    data_dir, lake, first, last, key_scan = sys.argv[1:6]
    print(json.dumps(_run(data_dir, lake, first, last, key_scan == "1")))
