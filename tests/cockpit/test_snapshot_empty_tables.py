"""A mart with no rows is published and read like any other: its Native file carries no columns to infer, so the
snapshot's manifest records each table's structure (found by test_bcb_slice: a `--no-ml` demo's empty marts made
every `importau sql` fail with "The table structure cannot be extracted from a Native format file")."""

import json
import subprocess
import sys

from tests.dbt.dbt_harness import REPO, dbt_env

SCRIPT = r"""
import json, sys
from ingestion.common.warehouse import open_warehouse
from ingestion.common.warehouse_snapshot import SnapshotReader, publish_snapshot

data_dir = sys.argv[1]
with open_warehouse(None, data_dir, owner="test") as warehouse:
    # nothing in marts or ml yet (a staging-only dbt build publishes too): an empty snapshot, not an error
    first = publish_snapshot(warehouse.client, warehouse.target.chdb_path, source="test")
    assert json.loads((first / "manifest.json").read_text())["tables"] == {}
    warehouse.command(
        "CREATE TABLE marts.fct_empty_one (day Date, amount Decimal(18, 2), "
        "bank LowCardinality(Nullable(String))) ENGINE = MergeTree ORDER BY day"
    )
    warehouse.command("CREATE TABLE marts.fct_full_one (day Date) ENGINE = MergeTree ORDER BY day")
    warehouse.command("INSERT INTO marts.fct_full_one VALUES ('2024-12-31')")
    publish_snapshot(warehouse.client, warehouse.target.chdb_path, source="test")
    chdb_path = warehouse.target.chdb_path
reader = SnapshotReader(chdb_path)
empty = reader.query("SELECT count() AS n, toTypeName(any(amount)) AS t FROM marts.fct_empty_one").result_rows
full = reader.query("SELECT count() FROM marts.fct_full_one").result_rows
print(json.dumps({"empty": [list(r) for r in empty], "full": full[0][0], "structures": reader.manifest["structures"]}))
"""


def test_an_empty_mart_is_published_with_its_columns_and_reads_as_zero_rows(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        cwd=REPO,
        env=dbt_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["empty"] == [[0, "Decimal(18, 2)"]]
    assert out["full"] == 1
    assert out["structures"]["marts.fct_empty_one"] == (
        "`day` Date, `amount` Decimal(18, 2), `bank` LowCardinality(Nullable(String))"
    )
