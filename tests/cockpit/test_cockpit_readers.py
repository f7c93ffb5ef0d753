"""Readers never wait for the writer: while a run holds the embedded warehouse, `importau sql` and the cockpit's
data layer answer from the last published snapshot, and the run goes on and succeeds.

The run here is a real writer process: it takes the warehouse through `open_warehouse` (the lock every run
takes), commits a first state and publishes it (what every dbt build does at its end), then writes more and keeps
the warehouse until the test lets it go; then it publishes again and exits 0. The readers run in their own
processes, as they do for a user (chDB hosts one engine per process).
"""

import subprocess
import sys
import time
from pathlib import Path

from ingestion.common.warehouse import read_lock_holder
from tests.dbt.dbt_harness import BIN, REPO, dbt_env

WRITER = r"""
import sys, time
from pathlib import Path
from ingestion.common.warehouse import open_warehouse
from ingestion.common.warehouse_snapshot import publish_snapshot

data_dir, signals = sys.argv[1], Path(sys.argv[2])
with open_warehouse(None, data_dir, owner="test run (writer)") as warehouse:
    warehouse.command(
        "CREATE TABLE marts.fct_cash_position_daily (date Date, line_type LowCardinality(String), "
        "institution LowCardinality(Nullable(String)), currency LowCardinality(String), "
        "amount_brl Nullable(Decimal(18, 4))) ENGINE = MergeTree ORDER BY (line_type, date)"
    )
    insert = (
        "INSERT INTO marts.fct_cash_position_daily "
        "VALUES ('2024-12-31', 'account_balance', {bank:String}, 'BRL', {v:UInt32})"
    )
    warehouse.command(insert, parameters={"bank": "bank_001", "v": 100})
    publish_snapshot(warehouse.client, warehouse.target.chdb_path, source="test run")  # committed: 100
    warehouse.command(insert, parameters={"bank": "bank_002", "v": 50})
    (signals / "holding").touch()
    deadline = time.monotonic() + 300
    while not (signals / "go").exists():
        if time.monotonic() > deadline:
            sys.exit("the test never let the writer go")
        time.sleep(0.1)
    publish_snapshot(warehouse.client, warehouse.target.chdb_path, source="test run")  # committed: 150
print("writer done")
"""

DATA_LAYER = r"""
import sys
from datetime import date
from cockpit.data import CockpitData, Filters

data = CockpitData("", sys.argv[1])
frame = data.frame("CASH_AS_OF", Filters(date(2024, 1, 1), date(2024, 12, 31)))
print(frame["balances_brl"][0])
data.close()
"""

SUM = "SELECT sum(amount_brl) AS total FROM marts.fct_cash_position_daily"


def sql(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "importau"), "sql", *args], env=dbt_env(data_dir), capture_output=True, text=True, timeout=300
    )


def data_layer(data_dir: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", DATA_LAYER, str(data_dir)],
        env=dbt_env(data_dir),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def wait_for(path: Path, writer: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert writer.poll() is None, writer.communicate()[1][-3000:]
        assert time.monotonic() < deadline, f"the writer did not reach {path.name} in {timeout} s"
        time.sleep(0.1)


def test_readers_see_the_committed_state_while_a_run_holds_the_warehouse(tmp_path):
    signals = tmp_path / "signals"
    signals.mkdir()
    chdb_path = str(tmp_path / "warehouse")
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path), str(signals)],
        env=dbt_env(tmp_path),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(signals / "holding", writer)
        assert read_lock_holder(chdb_path)["owner"] == "test run (writer)"

        read = sql(tmp_path, SUM)
        assert read.returncode == 0, read.stderr
        assert read.stdout.split()[2:] == ["100.0000", "(1", "row)"]  # the committed 100, not the 150 being written
        assert data_layer(tmp_path) == "100.0000"
        live = sql(tmp_path, "--live", SUM)  # the writer's lock itself: refused at once, naming the run
        assert live.returncode == 1 and "test run (writer)" in live.stderr

        assert read_lock_holder(chdb_path)["owner"] == "test run (writer)"  # the run held it all along
        assert writer.poll() is None
        (signals / "go").touch()
        out, err = writer.communicate(timeout=300)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait(timeout=30)
    assert writer.returncode == 0, err[-3000:]
    assert "writer done" in out
    after = sql(tmp_path, SUM)
    assert after.returncode == 0 and "150.0000" in after.stdout
    assert data_layer(tmp_path) == "150.0000"


def test_a_reader_of_a_warehouse_nothing_was_published_for_opens_it_itself(tmp_path):
    """Before the first dbt build there is no snapshot: `importau sql` reads the warehouse (free) as before."""
    read = sql(tmp_path, "SELECT 1 AS one")
    assert read.returncode == 0 and read.stderr == "", read.stderr
    assert (tmp_path / "warehouse").is_dir()
    assert read.stdout.split()[2:] == ["1", "(1", "row)"]
