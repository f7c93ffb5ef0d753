"""`importau sql` end to end: a real subprocess on a temporary data dir (its own embedded warehouse)."""

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from ingestion.common.warehouse import hold_warehouse_lock

REPO_ROOT = Path(__file__).resolve().parents[2]


def importau(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("importau")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "orchestration.cli"]
    env = {k: v for k, v in os.environ.items() if k not in ("CLICKHOUSE_URL",)}
    env["IMPORTAU_DATA_DIR"] = str(data_dir)
    return subprocess.run([*command, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_sql_prints_a_table_then_csv(tmp_path):
    setup = (
        "CREATE TABLE marts.fx (currency String, rate Decimal(38, 15)) ENGINE = MergeTree ORDER BY currency",
        "INSERT INTO marts.fx VALUES ('EUR', 5.4), ('USD', 4.971234567890123)",
    )
    for statement in setup:
        assert importau("sql", statement, data_dir=tmp_path).returncode == 0
    table = importau("sql", "SELECT currency, rate FROM marts.fx ORDER BY currency", data_dir=tmp_path)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["currency", "rate"]
    assert lines[2].split() == ["EUR", "5.400000000000000"]
    assert lines[3].split() == ["USD", "4.971234567890123"]
    assert lines[-1] == "(2 rows)"
    as_csv = importau("sql", "--csv", "SELECT currency, rate FROM marts.fx ORDER BY currency", data_dir=tmp_path)
    assert list(csv.reader(io.StringIO(as_csv.stdout))) == [
        ["currency", "rate"],
        ["EUR", "5.400000000000000"],
        ["USD", "4.971234567890123"],
    ]
    assert (tmp_path / "warehouse").is_dir()


def test_bad_sql_is_one_line_and_exit_code_1(tmp_path):
    done = importau("sql", "SELECT * FROM marts.no_such_table", data_dir=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "UNKNOWN_TABLE" in done.stderr or "Unknown table" in done.stderr


def test_busy_warehouse_is_one_line_naming_the_holder(tmp_path):
    with hold_warehouse_lock(str(tmp_path / "warehouse"), owner="dagster run 1234abcd step raw__bcb__ptax"):
        done = importau("sql", "SELECT 1", data_dir=tmp_path)
    assert done.returncode == 1
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1
    assert f"pid {os.getpid()}" in message and "dagster run 1234abcd step raw__bcb__ptax" in message


def test_url_option_overrides_the_environment(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    done = importau("sql", "--url", f"chdb://{elsewhere}", "SELECT 42 AS answer", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "42" in done.stdout
    assert elsewhere.is_dir() and not (tmp_path / "warehouse").exists()


def test_help_lists_sql():
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "sql" in done.stdout
