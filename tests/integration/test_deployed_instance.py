"""The deployed instance (the root `dagster.yaml`) runs, survives a run worker killed with SIGKILL, and goes on.

A throwaway database on the machine's PostgreSQL (127.0.0.1:5432) and a throwaway DAGSTER_HOME holding a copy of
the REAL root `dagster.yaml`, with two documented keys shortened so the test takes seconds, not minutes:
`run_monitoring.poll_interval_seconds` and `run_monitoring.free_slots_after_run_end_seconds` (both present in the
real file, which the test checks; Dagster reads them as plain ints, never from the environment). Everything else
(PostgreSQL storage and its driver scheme, the QueuedRunCoordinator, pools, run retries) is the file as committed.
The `warehouse` pool is set to 1 slot with the operator command (`dagster instance concurrency set`), so a slot
left behind by the killed run blocks every later run until it is freed.

`dagster-webserver` and `dagster-daemon run` start from .venv/bin on 127.0.0.1 with a workspace holding the
test-only location `tests/integration/deployed_location.py` (why not the real one: its docstring). Its sensor
launches a run whose step takes the `warehouse` slot and waits; the test SIGKILLs that run's worker process and
shows: the run is marked FAILURE (by the code server that launched the worker: the DefaultRunLauncher cannot
resume a run), the daemon's run monitoring frees the slot it held, the run is retried (run_retries) and the next
tick's run succeeds. Before the kill, `importau pools` must see the slot held by a live run and warn about nothing.
Every wait is bounded; everything started is stopped, also on failure, and the database is dropped.

It fails on the unfixed file (no `scheme: postgresql+psycopg2`: the first run never leaves NOT_STARTED, the NOTIFY
error is in the daemon log) and without `free_slots_after_run_end_seconds` (the killed run's slot is never freed;
the retry and the next run stay queued). Wall time: about 50 s on 2 cores at load average 3-4, 30 s of it until
the first run holds the slot (sensor loop 5 s, run queue 5 s, worker start); run with `-s` for the timings.
"""

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import yaml
from psycopg import sql

from orchestration.constants import WAREHOUSE_POOL
from tests.integration.deployed_location import GATE_ENV, probe_job
from tests.servers.graphql import graphql_data
from tests.servers.postgres import postgres_dsn
from tests.servers.processes import free_port, has_env, pids_with_env, started_group

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEPLOYED_CONFIG = REPO_ROOT / "dagster.yaml"
LOCATION_FILE = Path(__file__).with_name("deployed_location.py")
# The only keys of the real file the test changes (30 s and 60 s there: a stale slot would cost 1-1.5 min here).
MONITORING_OVERRIDES = {"poll_interval_seconds": 1, "free_slots_after_run_end_seconds": 1}
START_BOUND_S = 120  # webserver up, first run holding the slot (sensor loop 5 s, queue 5 s, worker start)
FAIL_BOUND_S = 60
FREE_BOUND_S = 60
NEXT_BOUND_S = 120
STOP_BOUND_S = 20

RUNS = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs { results { runId status parentRunId creationTime } }
    ... on PythonError { message }
  }
}"""
POOL = """
query Pool($pool: String!) {
  instance { concurrencyLimit(concurrencyKey: $pool) { slotCount claimedSlots { runId stepKey } } }
}"""
EVENTS = """
query Events($runId: ID!) {
  logsForRun(runId: $runId, limit: 1000) {
    __typename
    ... on EventConnection { events { ... on MessageEvent { eventType message } } }
  }
}"""


@contextlib.contextmanager
def throwaway_database() -> Iterator[dict[str, str]]:
    """A new database on the machine's PostgreSQL; yields the DAGSTER_PG_* variables; dropped on exit."""
    dsn = postgres_dsn()
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    assert str(params.get("port", 5432)) == "5432", "the deployed dagster.yaml reads PostgreSQL on port 5432"
    name = f"dagster_test_{secrets.token_hex(4)}"
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield {
            "DAGSTER_PG_HOST": str(params.get("host", "127.0.0.1")),
            "DAGSTER_PG_USER": str(params["user"]),
            "DAGSTER_PG_PASSWORD": str(params.get("password", "")),
            "DAGSTER_PG_DB": name,
        }
    finally:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def deployed_home(folder: Path) -> Path:
    """A DAGSTER_HOME with the real root dagster.yaml, only MONITORING_OVERRIDES changed."""
    config = yaml.safe_load(DEPLOYED_CONFIG.read_text())
    monitoring = config.get("run_monitoring") or {}
    assert monitoring.get("enabled") is True, "the deployed dagster.yaml must enable run_monitoring"
    missing = set(MONITORING_OVERRIDES) - set(monitoring)
    assert not missing, f"the deployed dagster.yaml no longer sets run_monitoring.{missing}"
    monitoring.update(MONITORING_OVERRIDES)
    folder.mkdir()
    (folder / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def started(command: list[str], env: dict[str, str], log_path: Path, marker: str):
    """A process in its own process group; on exit the group gets SIGTERM, then SIGKILL, as does anything left
    with this test's marker in its environment (code servers and run workers)."""
    return started_group(command, env, log_path, marker, cwd=REPO_ROOT, bound_s=STOP_BOUND_S, poll_s=0.2)


class Deployment:
    """The webserver's GraphQL API, plus the logs to show when a wait runs out."""

    def __init__(self, port: int, logs: dict[str, Path], processes: list[subprocess.Popen]):
        self.url = f"http://127.0.0.1:{port}/graphql"
        self.logs, self.processes = logs, processes
        self.client = httpx.Client(timeout=30, trust_env=False)  # 127.0.0.1 only, never a proxy

    def logs_tail(self) -> str:
        """Each log's first error lines (a storage error hides under seconds of daemon INFO lines) and its end."""
        parts = []
        for name, path in self.logs.items():
            text = path.read_text(errors="replace")
            errors = [line for line in text.splitlines() if "Error" in line or "ERROR" in line][:5]
            parts.append(f"--- {name}, first errors:\n" + "\n".join(errors) + f"\n--- {name}, end:\n{text[-3000:]}")
        return "\n".join(parts)

    def query(self, text: str, **variables) -> dict:
        return graphql_data(self.client, self.url, text, variables)

    def runs(self) -> list[dict]:
        """The probe job's runs, oldest first."""
        found = self.query(RUNS, filter={"pipelineName": probe_job.name})["runsOrError"]
        assert found["__typename"] == "Runs", found
        return sorted(found["results"], key=lambda run: run["creationTime"])

    def slot_holders(self) -> list[str]:
        pool = self.query(POOL, pool=WAREHOUSE_POOL)["instance"]["concurrencyLimit"]
        return [slot["runId"] for slot in pool["claimedSlots"]]

    def events(self, run_id: str) -> list[dict]:
        return [event for event in self.query(EVENTS, runId=run_id)["logsForRun"]["events"] if event]

    def wait(self, what: str, bound_s: float, probe):
        """Poll `probe` until it returns something truthy; fail with the logs after `bound_s`."""
        deadline, last_error = time.monotonic() + bound_s, None
        while True:
            for process in self.processes:
                assert process.poll() is None, f"{process.args[0]} exited while waiting for {what}\n{self.logs_tail()}"
            try:
                if result := probe():
                    return result
            except httpx.HTTPError as error:  # not up yet, or an error the failure message shows
                last_error = f"{error!r}: {getattr(getattr(error, 'response', None), 'text', '')[:2000]}"
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} within {bound_s} s (last error: {last_error})\n{self.logs_tail()}")
            time.sleep(0.5)


def test_deployed_instance_recovers_from_a_killed_run(tmp_path):
    started_at = time.monotonic()
    gate = tmp_path / "gate"
    gate.mkdir()
    marker = f"{GATE_ENV}={gate}"
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        yaml.safe_dump(
            {
                "load_from": [
                    {
                        "python_file": {
                            "relative_path": str(LOCATION_FILE),
                            "working_directory": str(REPO_ROOT),
                            "location_name": "deployed_test",
                        }
                    }
                ]
            }
        )
    )
    port = free_port()
    logs = {"daemon": tmp_path / "daemon.log", "webserver": tmp_path / "webserver.log"}
    with contextlib.ExitStack() as stack:
        pg_env = stack.enter_context(throwaway_database())
        env = {key: value for key, value in os.environ.items() if not key.startswith("DAGSTER_")}
        env.update(pg_env, DAGSTER_HOME=str(deployed_home(tmp_path / "dagster_home")), **{GATE_ENV: str(gate)})
        # The operator's command: one warehouse slot, so a slot the killed run keeps blocks every later run.
        subprocess.run(
            [str(BIN / "dagster"), "instance", "concurrency", "set", WAREHOUSE_POOL, "1"],
            env=env,
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
            timeout=120,
        )
        webserver = stack.enter_context(
            started(
                [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), "-w", str(workspace)],
                env,
                logs["webserver"],
                marker,
            )
        )
        daemon = stack.enter_context(
            started([str(BIN / "dagster-daemon"), "run", "-w", str(workspace)], env, logs["daemon"], marker)
        )
        deployment = Deployment(port, logs, [webserver, daemon])

        # 1. A sensor tick launches a run; its step takes the only warehouse slot and waits.
        first = deployment.wait(
            "run holding the warehouse slot",
            START_BOUND_S,
            lambda: next((run for run in deployment.runs() if run["runId"] in deployment.slot_holders()), None),
        )
        first_id = first["runId"]
        pid_file = gate / f"{first_id}.pid"
        deployment.wait("pid file of the first run", START_BOUND_S, pid_file.exists)
        worker_pid = int(pid_file.read_text())
        assert has_env(worker_pid, marker), f"pid {worker_pid} is not a process of this test"
        held_at = time.monotonic()
        # The operator's check sees the slot held by a live run: no warning.
        pools = subprocess.run(
            [str(BIN / "importau"), "pools"], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
        )
        assert pools.returncode == 0 and f"run {first_id} step" in pools.stderr, pools.stderr
        assert "WARNING" not in pools.stderr, pools.stderr

        # 2. Kill its worker; later runs may finish.
        os.kill(worker_pid, signal.SIGKILL)
        killed_at = time.monotonic()
        (gate / "open").touch()

        # 3. The run is failed, 4. its slot freed, 5. the run retried and the next tick's run succeeds.
        deployment.wait(
            "FAILURE of the killed run",
            FAIL_BOUND_S,
            lambda: next(run for run in deployment.runs() if run["runId"] == first_id)["status"] == "FAILURE",
        )
        failed_at = time.monotonic()
        deployment.wait("free warehouse slot", FREE_BOUND_S, lambda: first_id not in deployment.slot_holders())
        freed_at = time.monotonic()
        deployment.wait(
            "successful retry and next tick's run",
            NEXT_BOUND_S,
            lambda: (
                any(run["parentRunId"] == first_id and run["status"] == "SUCCESS" for run in deployment.runs())
                and any(
                    run["parentRunId"] is None and run["runId"] != first_id and run["status"] == "SUCCESS"
                    for run in deployment.runs()
                )
            ),
        )
        done_at = time.monotonic()

        messages = [f"{event['eventType']}: {event['message']}" for event in deployment.events(first_id)]
        assert any(f"Run execution process for {first_id}" in message for message in messages), messages
        print(
            f"\nfirst run held the slot {held_at - started_at:.1f} s after start; after SIGKILL of pid {worker_pid}: "
            f"FAILURE {failed_at - killed_at:.1f} s, slot freed {freed_at - killed_at:.1f} s, retry and next run "
            f"succeeded {done_at - killed_at:.1f} s\nthe killed run's last events: {messages[-3:]}"
        )
    assert not pids_with_env(marker), "processes of this test outlived it"
