"""The chDB bridge of `importau-dbt` (orchestration/dbt_chdb.py): environment, isolation, warehouse lock."""

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from orchestration.dbt_chdb import profile_env
from tests.dbt.dbt_harness import REPO, dbt_env, run_dbt


def test_profile_env_for_the_embedded_default_and_a_chdb_url(tmp_path):
    assert profile_env("", str(tmp_path)) == {"IMPORTAU_CHDB_PATH": str((tmp_path / "warehouse").resolve())}
    assert profile_env("chdb:///srv/importau/wh", str(tmp_path)) == {"IMPORTAU_CHDB_PATH": "/srv/importau/wh"}


def test_profile_env_for_a_server_url(tmp_path):
    env = profile_env("https://dbt:s%40cret@ch.example.com:9443/", str(tmp_path))
    assert env == {
        "CLICKHOUSE_HOST": "ch.example.com",
        "CLICKHOUSE_PORT": "9443",
        "CLICKHOUSE_USER": "dbt",
        "CLICKHOUSE_PASSWORD": "s@cret",
        "CLICKHOUSE_SECURE": "True",
    }
    assert profile_env("http://ch:8123/", str(tmp_path))["CLICKHOUSE_SECURE"] == "False"


def test_the_bridge_imports_neither_dagster_nor_a_chdb_engine():
    code = (
        "import sys, orchestration.dbt_chdb as bridge; bridge.install(); "
        "assert 'dagster' not in sys.modules, 'dagster imported'; "
        "assert 'chdb' not in sys.modules, 'chdb imported before any connection'"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr


def test_the_warehouse_folder_is_not_part_of_the_profile_hash():
    """dbt hashes `connection_info()` into the manifest's profile hash and re-parses the whole project when it
    differs. The warehouse folder is different in every data dir (each test, benchmark and deployment), so it must
    not be in it, or every dbt step throws partial parsing away (issue 10: about 4 s per step)."""
    code = (
        "import orchestration.dbt_chdb as bridge; bridge.install(); "
        "import dbt.adapters.clickhouse as plugin; "
        "info = lambda path: dict(plugin.Plugin.credentials(database='', schema='staging', driver='chdb', "
        "chdb_path=path).connection_info()); "
        "a, b = info('/data/a/warehouse'), info('/data/b/warehouse'); "
        "assert a == b and 'chdb_path' not in a, a; print(sorted(a))"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    assert "driver" in completed.stdout


def test_dbt_sessions_run_with_our_query_settings(tmp_path):
    """profiles.yml's custom_settings carry ingestion/common/warehouse.py QUERY_SETTINGS into every dbt session
    (on chDB 26.9 the query condition cache made a dbt test of stg_bank__credit_card_transactions fail)."""
    from ingestion.common.warehouse import QUERY_SETTINGS

    names = ", ".join(f"getSetting('{name}') AS {name}" for name in QUERY_SETTINGS)
    shown = run_dbt(tmp_path, "show", "--inline", f"select {names}", "--output", "json", "--log-format", "json")
    assert shown.returncode == 0, shown.output[-3000:]
    preview = next(json.loads(line)["data"]["preview"] for line in shown.output.splitlines() if '"preview"' in line)
    assert json.loads(preview) == [{name: bool(value) for name, value in QUERY_SETTINGS.items()}]


def test_a_busy_warehouse_stops_dbt_with_the_holders_name(tmp_path):
    holder_code = textwrap.dedent(
        f"""
        import sys, time
        from ingestion.common.warehouse import hold_warehouse_lock
        with hold_warehouse_lock({str(tmp_path / "warehouse")!r}, "dagster run 1234 (test holder)"):
            print("held", flush=True)
            time.sleep(120)
        """
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", holder_code],
        env=dbt_env(tmp_path),
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        run = run_dbt(tmp_path, "debug")
        assert run.returncode != 0
        assert "WarehouseBusyError" in run.output, run.output[-3000:]
        assert "dagster run 1234 (test holder)" in run.output
        assert f"pid {holder.pid}" in run.output
        assert time.monotonic() - started < 60  # at once, no waiting for the lock
    finally:
        holder.kill()
        holder.wait()
    assert not (Path(tmp_path) / "warehouse").exists() or os.listdir(tmp_path / "warehouse") == []


CONCURRENT_CLIENTS = """
import json, sys, threading
from orchestration import dbt_chdb
dbt_chdb.install()
import dbt.adapters.clickhouse as plugin
from dbt.adapters.clickhouse import connections

credentials = plugin.Plugin.credentials.from_dict(
    {"driver": "chdb", "chdb_path": sys.argv[1], "schema": "staging", "use_lw_deletes": True}
)
results, errors = {}, []

def work(n):
    try:
        client = connections.get_db_client(credentials)  # what dbt's connection manager calls, per thread
        client.command(f"CREATE TABLE IF NOT EXISTS t{n} (x UInt32) ENGINE = MergeTree ORDER BY x")
        for _ in range(5):
            client.command(f"INSERT INTO t{n} SELECT number FROM numbers(100)")
        results[n] = [client.command(f"SELECT count() FROM t{n}"), client.command("SELECT currentDatabase()")]
        client.close()
    except Exception as error:
        errors.append(repr(error))

threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
lock_text = open(sys.argv[1] + ".lock").read()
dbt_chdb._shutdown()
print(json.dumps({"results": results, "errors": errors, "lock": lock_text}))
"""


def test_concurrent_dbt_clients_share_one_chdb_engine(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-c", CONCURRENT_CLIENTS, str(tmp_path / "warehouse")],
        env=dbt_env(tmp_path),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    assert outcome["errors"] == []
    assert outcome["results"] == {str(n): [500, "staging"] for n in range(8)}
    assert '"owner": "importau-dbt' in outcome["lock"]  # held while the clients were open
    assert (tmp_path / "warehouse.lock").read_text() == ""  # released at shutdown
