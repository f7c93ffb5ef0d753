"""Benchmark: the demo company end to end (each source's Dagster run, then `transform`), a 10-year BCB backfill
and one daily increment, against a floor measured in the same scenario.

Scenarios, each in a fresh subprocess (the "driver") with its own temporary IMPORTAU_DATA_DIR and DAGSTER_HOME
(`<data>/dagster_home`, the local SQLite instance of `importau demo`):
  scale S   what `importau demo` does, with the demo company generated at scale S (`generate_demo_company(out,
            scale=S)`; `importau demo` has no scale of its own, its ERP stand-in always generates scale 1): the
            stand-ins started as `demo_services_env` starts them (the company's exports dropped into the inbox, the
            BCB replay server, the Open Finance sandbox bank serving the company's bank truth), dbt parse if
            stale, then one run per source through `demo.run_job` (ingest_bcb 2022-01..2024-12, ingest_open_finance and
            ingest_erp 2024-01..2024-12, ranged runs tagged with month keys; ingest_customs and ingest_bank_statements
            on the customs declarations and the empty statements inbox, as the demo) and one `transform` run (dbt
            + ML).
  daily     after the scale-1 year, in the SAME data folder and Dagster home (a new driver process): one more day,
            2025-01-01, the day after the demo's end, the way the schedules ask for it: each source job for the
            partition holding that day (`dagster/partition` = 2025-01-01), with the sandbox bank's today moved to
            that day (OPEN_FINANCE_SANDBOX_TODAY), then `transform_daily` (what the automation sensors run on a
            normal day: dbt, scoring, recommendations; training retrains on its weekly cron). The BCB replay
            has no recording after 2024-12-31 (and 2025-01-01 is a holiday), and the demo company has no ERP
            export after its year, so the BCB and ERP runs land nothing new: the daily cost is the fixed cost of
            the path. Without scale 1 among --scales the year is built first as its own scenario ("daily base").
  bcb N y   `ingest_bcb` for (2025-N)-01..2024-12 against the replay server (recordings 2015-2024), nothing else.

Per run (= per source, and the transform): wall seconds around `demo.run_job` (run creation included), rows (the
`row_count` of the run's raw-table materializations; for the transform, the rows of the tables it built in
staging/intermediate/marts/ml), rows/s, peak RSS (the driver and all its descendants, dbt included, sampled
every 0.2 s, and at least the driver's own VmHWM, reset before each run; the sandbox bank is a stand-in for the
banks and runs in a process of its own, left out and reported apart; in brackets the peak PSS sum, which
counts a page shared by several processes once: the chDB library alone is about 300 MB resident in the driver and
again in each dbt process), Dagster events written (rows of the
run's `event_logs` in `<home>/history/runs/<run_id>.db`, where the SQLite event log keeps every event; the asset
and check events are also copied into `<home>/history/runs/index.db`, counted in brackets), lake objects added
(files under `<data>/lake`), the Dagster home's size after the run, and the ratio to the floor. The "start-up"
row is what `importau demo` does before its first run (stand-ins, dbt parse if stale, the definitions import);
"runs" sums the runs, "start-up + runs" adds the start-up (the peak RSS of the driver's largest single process, from
wait4, in brackets; the driver's own wall time, in the JSON, also holds the API floor replays).

Floor, in the same scenario:
  API       the HTTP requests the run made, replayed one after another with a bare client, right after the run,
            against the same local servers: the BCB replay server's request log with one httpx.Client, and the
            sandbox bank's request log with `open_finance_pull.replay` (mutual TLS, a ready token, no budget).
  load      (after the driver exits, on a copy of its warehouse) the run's Parquet objects loaded by chDB with one
            `INSERT INTO <fresh MergeTree ORDER BY tuple()> SELECT * FROM file('<the run's objects>', 'Parquet')`
            per dataset, as bcb_ingestion.py and erp_demo.py time their baselines; for the ERP also reading the
            dropped CSV exports (`erp_demo.csv_baseline`), the ERP having no API.
  SQL       for the transform: every model's compiled SQL from that run's dbt target folders, run directly in
            dependency order on the same copy (`dbt_marts.compiled_models` + `dbt_marts.direct`); models the run did
            not build (skipped after a failure) are left out. ML training and scoring and the dbt tests have no
            floor: they are inside the transform's ratio (the details also give the dbt steps / compiled SQL).
x floor = wall / floor (blank for a failed run). No timing is asserted anywhere; a failed run is reported with its
error (and any ERROR-severity check that did not pass), and the runs after it in that scenario are not started.

    .venv/bin/python benchmarks/end_to_end.py                       # scale 1 + daily + BCB 10 years
    .venv/bin/python benchmarks/end_to_end.py --scales 1,10 --bcb-years 0 --no-daily --json out.json
"""

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))
sys.path.insert(1, str(BENCHMARKS))

from orchestration.constants import DEMO_END_DATE, DEMO_MARKET_HISTORY_START_DATE, DEMO_START_DATE  # noqa: E402

LAST_REPLAY_YEAR = 2024  # the BCB replay serves 2015-2024
DAILY_DAY = (date.fromisoformat(DEMO_END_DATE) + timedelta(days=1)).isoformat()
SOURCES = ("bcb", "open_finance", "erp")  # the sources with a floor (API + load)
# the demo's other source jobs (orchestration/defs/jobs.py SOURCE_JOBS), run as `importau demo` runs them, without a
# floor of their own: the customs declarations' file drop and the (empty) bank statements inbox; without their raw
# tables the transform's staging of those sources fails
FILE_SOURCES = ("customs_files", "bank_statements")
PARTITION_TAG = "dagster/partition"
# The environment a scenario must not inherit (another data folder, instance, warehouse or stand-in).
STRIP_ENV = (
    "CLICKHOUSE_",
    "IMPORTAU_",
    "DBT_",
    "APP_ENV",
    "DAGSTER_HOME",
    "OPEN_FINANCE_",
    "BCB_",
    "ERP_",
    "LAKE_URL",
    "S3_",
    "MLFLOW_",
    "DEMO_",
    "AIRBYTE_",
)
MODEL_DATABASES = ("staging", "intermediate", "marts", "ml")
PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1024 * 1024


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ------------------------------------------------------------------------------------------------ measuring helpers


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(child) for child in handle.read().split()]
    except OSError:
        pass
    return found


# Processes of stand-ins for the outside world (the sandbox bank): left out of the platform's memory sums.
STAND_IN_PIDS: set[int] = set()


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _statm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/statm").read_text()
    except OSError:
        return ""


def _tree(root: int) -> list[int]:
    """The process and its descendants, without the stand-ins, and without a child between vfork and exec: it shares
    the root's memory, and /proc shows the root's program and the root's very pages for it (a scale-1 transform once
    summed the driver's 1,144 MB twice that way). A child that forked without exec has pages of its own: it counts."""
    pids, stack, seen, program, root_pages = [], [root], set(), _cmdline(root), None
    while stack:
        pid = stack.pop()
        if pid in seen or pid in STAND_IN_PIDS:
            continue
        seen.add(pid)
        stack += _children(pid)
        if pid != root and _cmdline(pid) == program:
            root_pages = root_pages or _statm(root)  # read once a walk, and only when a child runs the root's program
            if _statm(pid) == root_pages:
                continue
        pids.append(pid)
    return pids


def tree_rss(root: int) -> int:
    """Resident bytes of a process and all its descendants, now."""
    total = 0
    for pid in _tree(root):
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * PAGE
        except OSError:
            continue
    return total


def tree_pss(root: int) -> int:
    """Proportional resident bytes of the tree, now: a page shared by n processes counts 1/n in each. The RSS sum
    counts shared pages once per process: the 555 MB chDB library is mapped by the driver AND by each dbt process
    (about 260-300 MB resident in each), Python's own libraries likewise; the PSS sum counts them once."""
    total = 0
    for pid in _tree(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            continue
    return total


def vm_hwm(pid: int | str = "self") -> int:
    """The peak resident bytes of a process (its own, not its children's)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


BANK_STAND_IN_START_S = 120


@contextlib.contextmanager
def bank_stand_in_process():
    """The Open Finance sandbox bank (`sandbox_bank_env`) in a process of its own, as a real bank is outside the
    platform: at scale 30 it holds the company's bank truth (~330 MB), which the driver's peak RSS used to count.
    Yields (its OPEN_FINANCE_* variables, a function returning its peak RSS); it stops when its stdin closes."""
    import select

    bank = subprocess.Popen(
        [sys.executable, __file__, "--bank-stand-in"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    STAND_IN_PIDS.add(bank.pid)
    try:
        ready, _, _ = select.select([bank.stdout], [], [], BANK_STAND_IN_START_S)
        line = bank.stdout.readline() if ready else ""
        if not line:
            raise RuntimeError(f"the sandbox bank stand-in did not start within {BANK_STAND_IN_START_S} s")
        yield json.loads(line), lambda: vm_hwm(bank.pid)
    finally:
        bank.stdin.close()
        try:
            bank.wait(timeout=30)
        except subprocess.TimeoutExpired:
            bank.kill()
            bank.wait(timeout=30)
        STAND_IN_PIDS.discard(bank.pid)


def serve_bank_stand_in() -> None:
    """`--bank-stand-in`: start the sandbox bank, print its variables as one JSON line, serve until stdin closes."""
    from orchestration.commands.sandbox_bank import sandbox_bank_env

    with sandbox_bank_env() as env:
        print(json.dumps(env), flush=True)
        sys.stdin.read()


def reset_vm_hwm() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux >= 4.0)


def resident_kinds(pid: int | str = "self") -> dict[str, int]:
    """A process's resident bytes by kind (/proc/<pid>/smaps_rollup): anonymous (heaps: Python's, pyarrow's, chDB's)
    and file-backed (the libraries' code, chDB's ~300 MB among them)."""
    kinds = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("Rss", "Anonymous", "Shared_Clean", "Private_Clean"):
                kinds[name] = int(value.split()[0]) * 1024
    return kinds


def process_label(pid: int) -> str:
    """`driver` for this process, else the program a descendant runs (`dbt`, `python -m ...`), for per-process peaks."""
    if pid == os.getpid():
        return "driver"
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "gone"
    words = [Path(a.decode(errors="replace")).name for a in argv[:3] if a]
    return " ".join(words[1:] if words and words[0].startswith("python") else words[:1]) or str(pid)


class RssSampler(threading.Thread):
    """The peaks of tree_rss and tree_pss (this process and its descendants) since the last take()/take_pss(), and
    each process's own peak RSS since the last take_processes(), by its label.

    RSS is read every `interval` (statm: cheap); PSS every `pss_every` samples, since smaps_rollup makes the kernel
    walk every mapping of every process: sampling it every 0.2 s cost this process about 15 % of a core (py-spy of
    the daily, 13 s of samples in an 88 s run) on a 2-core machine the measured runs need. A pid's label is read
    at every sample: a child's program changes at exec."""

    def __init__(self, interval: float = 0.2, pss_every: int = 5):
        super().__init__(daemon=True, name="rss-sampler")
        self.interval, self.pss_every, self.peak, self.peak_pss = interval, pss_every, 0, 0
        self._lock = threading.Lock()
        self.process_peaks: dict[str, int] = {}

    def run(self) -> None:
        sample = 0
        while True:
            rss, each = 0, {}
            pss = tree_pss(os.getpid()) if sample % self.pss_every == 0 else 0
            for pid in _tree(os.getpid()):  # tree_rss, process by process
                with contextlib.suppress(OSError):
                    resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
                    rss += resident
                    label = process_label(pid)
                    each[label] = max(each.get(label, 0), resident)
            with self._lock:
                self.peak, self.peak_pss = max(self.peak, rss), max(self.peak_pss, pss)
                for label, resident in each.items():
                    self.process_peaks[label] = max(self.process_peaks.get(label, 0), resident)
            sample += 1
            time.sleep(self.interval)

    def take_processes(self) -> dict[str, int]:
        with self._lock:
            peaks, self.process_peaks = self.process_peaks, {}
        return peaks

    def take(self) -> int:
        now = tree_rss(os.getpid())
        with self._lock:
            peak, self.peak = max(self.peak, now), now
        return peak

    def take_pss(self) -> int:
        now = tree_pss(os.getpid())
        with self._lock:
            peak, self.peak_pss = max(self.peak_pss, now), now
        return peak


def count_files(folder: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(folder)) if folder.exists() else 0


def dir_bytes(folder: Path) -> int:
    total = 0
    for base, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(base, name)).st_size
    return total


def lake_objects(data: Path, source: str | None = None) -> int:
    lake = data / "lake"
    if source is None:
        return count_files(lake)
    return count_files(lake / source) + count_files(lake / "_quarantine" / source)


def run_event_counts(home: Path, run_id: str) -> dict:
    """Rows the SQLite event log holds for a run: its own shard (every event) and its copies in index.db."""
    shard, index = home / "history" / "runs" / f"{run_id}.db", home / "history" / "runs" / "index.db"
    by_type, steps, index_rows = {}, {}, 0
    if shard.exists():
        with contextlib.closing(sqlite3.connect(f"file:{shard}?mode=ro", uri=True)) as db:
            for event_type, count in db.execute("SELECT dagster_event_type, count(*) FROM event_logs GROUP BY 1"):
                by_type[event_type or "(log message)"] = count
            timeline = db.execute(
                "SELECT step_key, dagster_event_type, timestamp FROM event_logs WHERE dagster_event_type IN "
                "('STEP_START', 'STEP_SUCCESS', 'STEP_FAILURE', 'PIPELINE_START', 'RUN_START') "
                "OR id = (SELECT min(id) FROM event_logs)"
            ).fetchall()
        first = min(datetime.fromisoformat(str(ts)) for _, _, ts in timeline) if timeline else None
        marks: dict[str, dict[str, datetime]] = {}
        for step, event_type, ts in timeline:
            marks.setdefault(step or "(run)", {})[event_type] = datetime.fromisoformat(str(ts))
        for step, seen in marks.items():
            if step == "(run)":
                continue
            end = seen.get("STEP_SUCCESS") or seen.get("STEP_FAILURE")
            if "STEP_START" in seen and end:
                steps[step] = round((end - seen["STEP_START"]).total_seconds(), 2)
        with contextlib.closing(sqlite3.connect(f"file:{shard}?mode=ro", uri=True)) as db:
            planned = db.execute(
                "SELECT min(timestamp), max(timestamp) FROM event_logs WHERE dagster_event_type LIKE '%_PLANNED'"
            ).fetchone()
        if planned and planned[0]:
            span = datetime.fromisoformat(str(planned[1])) - datetime.fromisoformat(str(planned[0]))
            steps["(PLANNED events: first to last)"] = round(span.total_seconds(), 2)
        run = marks.get("(run)", {})
        run_start = run.get("PIPELINE_START") or run.get("RUN_START")  # stored under its legacy name
        if first and run_start:
            steps["(run creation: first event to RUN_START)"] = round((run_start - first).total_seconds(), 2)
    if index.exists():
        with contextlib.closing(sqlite3.connect(f"file:{index}?mode=ro", uri=True)) as db:
            index_rows = db.execute("SELECT count(*) FROM event_logs WHERE run_id = ?", (run_id,)).fetchone()[0]
    return {"events": sum(by_type.values()), "index_events": index_rows, "by_type": by_type, "steps_s": steps}


# ------------------------------------------------------------------------------------------------------- the driver


def materialized_rows(instance, run_id: str) -> dict[str, int]:
    """row_count per asset of the run (a ranged run repeats one materialization's metadata per partition)."""
    import dagster as dg

    rows: dict[str, int] = {}
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        materialization = entry.asset_materialization
        value = materialization.metadata.get("row_count") or materialization.metadata.get("dagster/row_count")
        if value is not None and value.value is not None:
            key = "/".join(materialization.asset_key.path)
            rows[key] = max(rows.get(key, 0), int(value.value))
    return rows


def run_errors(instance, run_id: str) -> list[str]:
    """Each failed step's error and its root cause, one line each (the tracebacks are in the run's log)."""
    import dagster as dg

    def line(error) -> str:
        text = next((t.strip() for t in error.message.splitlines() if t.strip()), "")
        return f"{error.cls_name}: {text}"[:400]

    errors = []
    for kind in (dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE):
        for entry in instance.all_logs(run_id, of_type=kind):
            event = entry.dagster_event
            error = getattr(event.event_specific_data, "error", None)
            if error is None:
                errors.append(f"{event.step_key or 'run'}: {(event.message or '').strip()[:400]}")
                continue
            root = error
            while root.cause or root.context:
                root = root.cause or root.context
            errors.append(
                f"{event.step_key or 'run'}: {line(error)}" + (f" (cause: {line(root)})" if root is not error else "")
            )
        if errors:  # the run's failure repeats its step's
            break
    return errors


def _plain(value):
    """A metadata value as JSON can hold it: scalars as they are, anything else (a table's records, which Dagster
    forbids iterating, a path, a timestamp) as its text."""
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


def failed_checks(instance, run_id: str) -> list[str]:
    """Asset checks of the run that did not pass: key, severity and their metadata (e.g. a refused promotion)."""
    import dagster as dg

    failed = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.event_specific_data
        if evaluation.passed:
            continue
        metadata = {k: _plain(getattr(v, "value", v)) for k, v in evaluation.metadata.items()}
        severity = getattr(evaluation.severity, "value", evaluation.severity)
        key = "/".join(evaluation.asset_key.path)
        failed.append(f"{key} {evaluation.check_name} ({severity}): {json.dumps(metadata, default=str)[:600]}")
    return failed


def bcb_api_floor(base_url: str, paths: list[str]) -> float:
    """The BCB requests of a run again, one after another, with one bare httpx client: seconds."""
    import httpx

    with httpx.Client(base_url=base_url, timeout=60) as client:
        started = time.perf_counter()
        for path in paths:
            response = client.get(path)
            if response.status_code >= 500:
                raise RuntimeError(f"BCB replay floor: HTTP {response.status_code} for {path}")
        return time.perf_counter() - started


def sandbox_requests(institution, method: str) -> list[dict]:
    from ingestion.open_finance.auth import http_client

    with http_client(institution, 30) as http:
        response = http.request(method, f"{institution.api_base_url}/_sandbox/requests")
        response.raise_for_status()
        return response.json()


def open_finance_api_floor(institutions) -> tuple[float, int]:
    """Each sandbox bank's logged requests replayed by `open_finance_pull.replay` (one after another)."""
    from open_finance_pull import replay

    from ingestion.open_finance.auth import TokenStore
    from ingestion.open_finance.transport import CallSettings

    store = TokenStore(Path(os.environ["OPEN_FINANCE_STATE_DIR"]) / "tokens.json")
    seconds, calls = 0.0, 0
    for institution in institutions:
        requests = sandbox_requests(institution, "GET")
        if not requests:
            continue
        calls += sum(
            1 for r in requests if r["method"] == "GET" and not r["path"].startswith("/open-banking/consents/")
        )
        seconds += replay(SimpleNamespace(institution=institution), store, requests, 1, CallSettings())
    return seconds, calls


def drive(spec: dict) -> None:
    """One scenario in this process, as `importau demo` runs it; results to spec['result'] after every step."""
    out: dict = {"startup": {}, "jobs": [], "failure": None}
    result_path = Path(spec["result"])

    def save() -> None:
        result_path.write_text(json.dumps(out, indent=1))

    sampler = RssSampler()
    sampler.start()
    data = Path(os.environ["IMPORTAU_DATA_DIR"])
    began = time.perf_counter()
    reset_vm_hwm()
    stages: dict[str, float] = {}

    def stage(name: str, fn, *args, **kwargs):
        t0 = time.perf_counter()
        value = fn(*args, **kwargs)
        stages[name] = round(time.perf_counter() - t0, 3)
        return value

    def progress_module():
        try:
            from orchestration.commands import progress  # as `importau demo` logs (imports dagster)
        except ImportError:  # an older tree: Dagster's console logger, into the driver's log
            return None
        return progress

    progress = stage("python imports (dagster)", progress_module)

    with contextlib.ExitStack() as stack:
        from orchestration.commands.local_instance import prepare_local_instance

        home = stage("instance", prepare_local_instance)
        if progress is not None:
            stack.enter_context(progress.progress_session(progress.new_log_file(data, "benchmark")))
        if spec["generate"]:  # the ERP stand-in of `importau demo` (erp_demo_env), at the scenario's scale

            def erp_stand_in() -> None:
                from orchestration.commands.erp_demo import drop_declarations, drop_exports, generate_demo_company

                demo = generate_demo_company(data / "demo", scale=spec["scale"])
                inbox, customs = data / "erp" / "inbox", data / "customs" / "inbox"
                drop_exports(demo / "erp_exports", inbox)
                drop_declarations(demo / "customs_declarations", customs)
                statements = data / "bank_statements" / "inbox"  # empty, as in `importau demo` (bank from Open Finance)
                statements.mkdir(parents=True, exist_ok=True)
                os.environ.update(
                    ERP_INBOX_DIR=str(inbox),
                    CUSTOMS_INBOX_DIR=str(customs),
                    BANK_STATEMENTS_INBOX=str(statements),
                    DEMO_BANK_TRUTH_DIR=str(demo / "bank"),
                )

            stage("generate demo company + drop exports", erp_stand_in)
            from orchestration.commands.demo import release_memory

            release_memory()  # as erp_demo_env: the generator's garbage (about 200 MB at scale 30) back to the system
        from sandboxes.bcb_replay.server import ReplayServer

        server = stage("BCB replay server", lambda: stack.enter_context(ReplayServer()))
        os.environ.update(server.env())
        institutions, bank_peak = (), None
        if spec["open_finance"]:
            from ingestion.open_finance.config import load_institutions

            bank_env, bank_peak = stage(
                "Open Finance sandbox bank", lambda: stack.enter_context(bank_stand_in_process())
            )
            os.environ.update(bank_env)
            institutions = load_institutions(os.environ)

        def dbt_parse() -> bool:
            try:  # as `importau demo`: parse only when a dbt file is newer than the manifest
                from orchestration.dbt_manifest import refresh_manifest
            except ImportError:  # an older tree: always parse
                from orchestration.commands.dbt_manifest import prepare_manifest

                prepare_manifest()
                return True
            return bool(refresh_manifest()[1])

        parsed = stage("dbt parse (if stale)", dbt_parse)
        from orchestration.commands import demo
        from orchestration.defs.jobs import SOURCE_JOBS

        stage("definitions import", demo.job_named, SOURCE_JOBS[0][0])
        import dagster as dg

        instance = dg.DagsterInstance.get()
        out["startup"] = {
            "wall_s": round(time.perf_counter() - began, 3),
            "stages_s": stages,
            "dbt_parsed": parsed,
            "peak_rss": max(sampler.take(), vm_hwm()),
            "peak_pss": sampler.take_pss(),
            "lake_objects": lake_objects(data),
            "home_bytes": dir_bytes(home),
            "load": loadavg(),
        }
        save()

        plan = []
        for name, group in SOURCE_JOBS:
            if group in spec["ranges"] and demo.job_named(name).asset_layer.executable_asset_keys:
                plan.append((name, group))
        if spec["transform"]:  # the job's name: `transform` for a year, `transform_daily` for the daily increment
            plan.append((spec["transform"], "transform"))
        for name, group in plan:
            if group == "transform":
                tags, first, last = {}, None, None
            else:
                first, last = spec["ranges"][group]
                if first == last:  # one partition, as a schedule requests it
                    tags = {PARTITION_TAG: first}
                else:
                    tags = {demo.RANGE_START_TAG: first, demo.RANGE_END_TAG: last}
            source = group if group in SOURCES else None
            lake_before = lake_objects(data, source) if source else lake_objects(data)
            bcb_before = len(server.requests)
            for institution in institutions:
                sandbox_requests(institution, "DELETE")
            load_before = loadavg()
            sampler.take(), sampler.take_pss(), sampler.take_processes()
            driver_kinds = resident_kinds()
            reset_vm_hwm()
            t0 = time.perf_counter()
            try:
                success, run_id = demo.run_job(name, tags)
                crash = None
            except Exception as error:  # noqa: BLE001 - reported, not hidden
                success, run_id, crash = False, None, f"{type(error).__name__}: {error}"
            wall = time.perf_counter() - t0
            peak, peak_pss = max(sampler.take(), vm_hwm()), sampler.take_pss()
            driver_kinds_after = resident_kinds()  # before the floor's replay below, which runs in this process too
            record = {
                "job": name,
                "group": group,
                "tags": tags,
                "first": first,
                "last": last,
                "run_id": run_id,
                "success": success,
                "wall_s": round(wall, 3),
                "peak_rss": peak,
                "peak_pss": peak_pss,
                # what the driver held when the run started, and each process's own peak during it (by program)
                "driver_rss_before": driver_kinds.get("Rss", 0),
                "driver_resident_kinds_before": driver_kinds,  # anonymous (heaps) vs file-backed (libraries)
                "driver_resident_kinds_after": driver_kinds_after,
                "process_peaks": sampler.take_processes(),
                "load": f"{load_before} -> {loadavg()}",
                "lake_objects_added": (lake_objects(data, source) if source else lake_objects(data)) - lake_before,
                "lake_objects_total": lake_objects(data),
                "home_bytes": dir_bytes(home),
            }
            if run_id:
                record.update(run_event_counts(home, run_id))
                record["asset_rows"] = materialized_rows(instance, run_id)
                record["rows"] = sum(v for k, v in record["asset_rows"].items() if k.startswith("raw/"))
                record["failed_checks"] = failed_checks(instance, run_id)
                if not success:
                    record["errors"] = run_errors(instance, run_id)
            if crash:
                record["errors"] = [crash]
            floor: dict = {}
            try:
                if group == "bcb":
                    paths = server.requests[bcb_before:]
                    floor["api_s"] = round(bcb_api_floor(server.base_url, paths), 3)
                    floor["api_calls"] = len(paths)
                elif group == "open_finance":
                    seconds, calls = open_finance_api_floor(institutions)
                    floor["api_s"], floor["api_calls"] = round(seconds, 3), calls
            except Exception as error:  # noqa: BLE001
                floor["api_error"] = f"{type(error).__name__}: {error}"
            record["floor"] = floor
            out["jobs"].append(record)
            save()
            if not success:
                out["failure"] = f"{name} failed (run {run_id}): " + "\n".join(record.get("errors", []))[:4000]
                break
        if bank_peak is not None:
            out["stand_in_bank_peak_rss"] = bank_peak()
    out["wall_s"] = round(time.perf_counter() - began, 3)
    out["home_bytes"] = dir_bytes(Path(os.environ["DAGSTER_HOME"]))
    out["lake_objects"] = lake_objects(data)
    save()


# -------------------------------------------------------------------------------------------------------- the floor


def load_floor(wh, lake: Path, source: str, first: str | None, last: str | None) -> dict:
    """One INSERT ... SELECT * FROM file(<the run's objects>) per dataset of the source into fresh MergeTrees."""
    seconds, rows, objects = 0.0, 0, 0
    for entity_dir in sorted(p for p in (lake / source).iterdir() if p.is_dir()) if (lake / source).exists() else []:
        days = sorted(
            d.name[3:]
            for d in entity_dir.iterdir()
            if d.name.startswith("dt=")
            and (d / "part-000.parquet").exists()
            and (first is None or first <= d.name[3:] <= last)
        )
        if not days:
            continue
        objects += len(days)
        every = len(days) == sum(1 for d in entity_dir.iterdir() if d.name.startswith("dt="))
        pattern = "dt=*" if every else "dt={" + ",".join(days) + "}"
        reader = f"file('{entity_dir}/{pattern}/part-000.parquet', 'Parquet')"
        table = f"floor.{source}__{entity_dir.name}"
        wh.command(f"DROP TABLE IF EXISTS {table} SYNC")
        wh.command(f"CREATE TABLE {table} ENGINE = MergeTree ORDER BY tuple() EMPTY AS SELECT * FROM {reader}")
        t0 = time.perf_counter()
        wh.command(f"INSERT INTO {table} SELECT * FROM {reader}")
        seconds += time.perf_counter() - t0
        rows += int(wh.query_rows(f"SELECT count() FROM {table}")[0][0])
    return {"load_s": round(seconds, 3), "load_rows": rows, "load_objects": objects}


def month_end(month_key: str) -> str:
    first = date.fromisoformat(month_key)
    return ((first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).isoformat()


def floors(spec: dict, driven: dict) -> dict:
    """The chDB parts of the floor, on a copy of the scenario's warehouse (the scenario's own stays untouched)."""
    from ingestion.common.warehouse import open_warehouse

    data, work = Path(spec["data_dir"]), Path(spec["work"])
    copy = work / "floor"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(data / "warehouse", copy / "warehouse", symlinks=True)
    result: dict = {"jobs": {}}
    try:
        with open_warehouse(None, str(copy), owner="end_to_end benchmark floor") as wh:
            wh.command("CREATE DATABASE IF NOT EXISTS floor")
            for job in driven["jobs"]:
                if job["group"] not in SOURCES or not job["success"]:
                    continue
                first, last = job["first"], month_end(job["last"])
                floor = load_floor(wh, data / "lake", job["group"], first, last)
                if job["group"] == "erp" and spec["generate"]:
                    from erp_demo import csv_baseline

                    seconds, rows = csv_baseline(data / "demo" / "erp_exports")
                    floor["csv_read_s"], floor["csv_rows"] = round(seconds, 3), rows
                result["jobs"][job["job"]] = floor
            built = wh.query_rows(
                "SELECT database, sum(total_rows), count() FROM system.tables WHERE database IN "
                f"({', '.join(repr(d) for d in MODEL_DATABASES)}) AND engine NOT IN ('View', 'MaterializedView') "
                "GROUP BY database ORDER BY database"
            )
            result["model_tables"] = {db: {"rows": int(rows or 0), "tables": int(n)} for db, rows, n in built}
        transform = next((j for j in driven["jobs"] if j["group"] == "transform"), None)
        if transform and transform.get("run_id"):  # a failed transform too, when its dbt steps compiled the models
            result["jobs"][transform["job"]] = sql_floor(copy / "warehouse", transform["run_id"], work)
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    return result


def sql_floor(chdb_path: Path, run_id: str, work: Path) -> dict:
    """The transform run's compiled models (its dbt target folders, moved out of dbt_project/target into the
    scenario folder) run directly, in dependency order."""
    from dbt_marts import compiled_models, direct

    targets = sorted((REPO / "dbt_project" / "target").glob(f"*-{run_id[:7]}-*"))
    if not targets:
        return {"sql_error": f"no dbt target folder of run {run_id[:7]} under dbt_project/target"}
    kept = work / "dbt_targets"
    kept.mkdir(exist_ok=True)
    merged = work / f"compiled-{run_id[:7]}"
    shutil.rmtree(merged, ignore_errors=True)
    merged.mkdir()
    for target in targets:
        moved = Path(shutil.move(str(target), kept / target.name))
        if (moved / "compiled").exists():
            shutil.copytree(moved / "compiled", merged / "compiled", dirs_exist_ok=True)
        if (moved / "manifest.json").exists() and not (merged / "manifest.json").exists():  # an older tree's step
            shutil.copyfile(moved / "manifest.json", merged / "manifest.json")
    if not (merged / "manifest.json").exists():  # the steps run with --no-write-json: the manifest they were run from
        project_manifest = REPO / "dbt_project" / "target" / "manifest.json"
        if not project_manifest.exists():
            return {"sql_error": f"no manifest: neither the run's dbt target folders nor {project_manifest}"}
        shutil.copyfile(project_manifest, merged / "manifest.json")
    # A model dbt did not build in this run (its step skipped after a failure) has no compiled SQL: leave it out.
    manifest = json.loads((merged / "manifest.json").read_text())
    missing = [
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
        and not (merged / "compiled" / node["package_name"] / node["original_file_path"]).exists()
    ]
    for uid in missing:
        del manifest["nodes"][uid]
    (merged / "manifest.json").write_text(json.dumps(manifest))
    try:
        models = compiled_models(merged)
        seconds = direct(chdb_path, models)
    except Exception as error:  # noqa: BLE001 - reported
        return {"sql_error": f"{type(error).__name__}: {str(error)[:1000]}"}
    return {"sql_s": round(seconds, 3), "models": len(models), "models_not_built": len(missing)}


# -------------------------------------------------------------------------------------------------------- the parent


def child_env(spec: dict) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(STRIP_ENV)}
    data = Path(spec["data_dir"])
    env.update(
        IMPORTAU_DATA_DIR=str(data),
        DAGSTER_HOME=str(data / "dagster_home"),
        PYTHONPATH=str(REPO),
        PYTHONUNBUFFERED="1",
    )
    if spec.get("sandbox_today"):
        env["OPEN_FINANCE_SANDBOX_TODAY"] = spec["sandbox_today"]
    return env


def run_child(mode: str, spec: dict, log: Path, timeout: float) -> tuple[int, dict]:
    """This file in a fresh process (its own session, killed whole on timeout); exit code and its wait4 rusage."""
    spec_path = Path(spec["work"]) / f"{mode}-spec.json"
    spec_path.write_text(json.dumps(spec))
    with open(log, "a") as handle:
        process = subprocess.Popen(
            [sys.executable, __file__, f"--{mode}", str(spec_path)],
            env=child_env(spec),
            cwd=REPO,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    timer = threading.Timer(timeout, lambda: os.killpg(process.pid, signal.SIGKILL))
    timer.start()
    try:
        started = time.perf_counter()
        _, status, usage = os.wait4(process.pid, 0)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        raise
    finally:
        timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    with contextlib.suppress(ProcessLookupError):  # anything the scenario left running in its session
        os.killpg(process.pid, signal.SIGKILL)
    return process.returncode, {
        "wall_s": round(time.perf_counter() - started, 3),
        "maxrss": usage.ru_maxrss * 1024,  # the largest single process of the scenario
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
    }


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def run_scenario(spec: dict, timeout: float) -> dict:
    work = Path(spec["work"])
    work.mkdir(parents=True, exist_ok=True)
    spec["result"] = str(work / "driver-result.json")
    log = work / "driver.log"
    print(f"[{time.strftime('%H:%M:%S')}] {spec['name']}: driver starting (load {loadavg()}; log {log})", flush=True)
    code, usage = run_child("driver", spec, log, timeout)
    result_file = Path(spec["result"])
    driven = json.loads(result_file.read_text()) if result_file.exists() else {"jobs": [], "startup": {}}
    driven.update(name=spec["name"], kind=spec["kind"], scale=spec.get("scale"), exit_code=code, process=usage)
    if code != 0 and not driven.get("failure"):
        driven["failure"] = f"driver exited {code}:\n{tail(log)}"
    for job in driven["jobs"]:
        print(f"    {job['job']}: {job['wall_s']:.1f} s, {'ok' if job['success'] else 'FAILED'}", flush=True)
    if any(job["success"] for job in driven["jobs"]):
        floor_spec = {**spec, "result": str(work / "floor-result.json"), "driven": driven}
        print(f"[{time.strftime('%H:%M:%S')}] {spec['name']}: floor (load {loadavg()})", flush=True)
        code, floor_usage = run_child("floor", floor_spec, work / "floor.log", timeout)
        floor_file = Path(floor_spec["result"])
        driven["floor"] = json.loads(floor_file.read_text()) if floor_file.exists() else {"jobs": {}}
        driven["floor"]["process"] = floor_usage
        if code != 0:
            driven["floor"]["error"] = f"floor exited {code}:\n{tail(work / 'floor.log')}"
    else:
        driven["floor"] = {"jobs": {}}
    merge_floor(driven)
    if driven.get("failure"):
        print(f"    FAILURE: {driven['failure'][:2000]}", flush=True)
    return driven


def merge_floor(driven: dict) -> None:
    """Floor seconds per job: API + load (+ CSV read) for a source, compiled SQL for the transform."""
    chdb = driven["floor"].get("jobs", {})
    for job in driven["jobs"]:
        parts = {**job.get("floor", {}), **chdb.get(job["job"], {})}
        job["floor"] = parts
        keys = ("sql_s",) if job["group"] == "transform" else ("api_s", "load_s", "csv_read_s")
        known = [parts[k] for k in keys if k in parts]
        job["floor_s"] = round(sum(known), 3) if known and not any(k.endswith("_error") for k in parts) else None
        if job["group"] == "transform":
            tables = driven["floor"].get("model_tables", {})
            job["rows"] = sum(t["rows"] for t in tables.values()) if tables else None


def scenarios(args, tmp: Path) -> list[dict]:
    def year(name: str, scale: float) -> dict:
        slug = name.replace(" ", "-")
        return {
            "name": name,
            "kind": "year",
            "scale": scale,
            "work": str(tmp / slug),
            "data_dir": str(tmp / slug / "data"),
            "generate": True,
            "open_finance": True,
            "ranges": {
                "bcb": [month_key(min(DEMO_START_DATE, DEMO_MARKET_HISTORY_START_DATE)), month_key(DEMO_END_DATE)],
                "open_finance": [month_key(DEMO_START_DATE), month_key(DEMO_END_DATE)],
                "erp": [month_key(DEMO_START_DATE), month_key(DEMO_END_DATE)],
                **{group: [month_key(DEMO_START_DATE), month_key(DEMO_END_DATE)] for group in FILE_SOURCES},
            },
            "transform": "transform",
        }

    plan = [year(f"scale {scale:g}", scale) for scale in args.scales]
    if args.daily:
        base = next((s for s in plan if s["scale"] == 1), None)
        if base is None:
            base = year("daily base (scale 1)", 1.0)
            plan.insert(0, base)
        plan.insert(
            plan.index(base) + 1,
            {
                "name": f"daily {DAILY_DAY}",
                "kind": "daily",
                "base": base["name"],
                "scale": 1.0,
                "work": str(tmp / "daily"),
                "data_dir": base["data_dir"],  # the same folder and Dagster home: the day after that year
                "generate": False,
                "open_finance": True,
                "sandbox_today": DAILY_DAY,
                "ranges": {group: [month_key(DAILY_DAY)] * 2 for group in (*SOURCES, *FILE_SOURCES)},
                "transform": "transform_daily",
            },
        )
    if args.bcb_years:
        first_year = LAST_REPLAY_YEAR - args.bcb_years + 1
        bcb = {
            "name": f"bcb {args.bcb_years} y",
            "kind": "bcb",
            "scale": None,
            "work": str(tmp / "bcb"),
            "data_dir": str(tmp / "bcb" / "data"),
            "generate": False,
            "open_finance": False,
            "ranges": {"bcb": [f"{first_year}-01-01", f"{LAST_REPLAY_YEAR}-12-01"]},
            "transform": None,
        }
        # after the first year scenario (and its daily), before the bigger scales
        at = next((i + 1 for i, s in enumerate(plan) if s["kind"] == "daily"), 1 if plan else 0)
        plan.insert(at, bcb)
    return plan


def month_key(day: str) -> str:
    return date.fromisoformat(day).replace(day=1).isoformat()


# --------------------------------------------------------------------------------------------------------- report


def fmt_mb(value) -> str:
    return f"{value / MB:,.0f}" if value else ""


def fmt_num(value, digits: int = 0) -> str:
    if value is None or value == "":
        return ""
    return f"{value:,.{digits}f}"


def mem(record: dict) -> str:
    """Peak RSS summed over the process tree, and in brackets the peak PSS sum (shared pages counted once)."""
    pss = record.get("peak_pss")
    return f"{fmt_mb(record.get('peak_rss'))} ({fmt_mb(pss)})" if pss else fmt_mb(record.get("peak_rss"))


def report(results: list[dict]) -> str:
    lines = [
        "| scenario | step | wall s | rows | rows/s | peak RSS MB (PSS) | events (index) | lake objects + | "
        "Dagster home MB | floor s | x floor | load avg (1 min, start -> end) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        startup = r.get("startup") or {}
        if startup:
            lines.append(
                f"| {r['name']} | start-up | {startup['wall_s']:.1f} | | | {mem(startup)} | | "
                f"{startup['lake_objects']} | {fmt_mb(startup['home_bytes'])} | | | {startup['load']} |"
            )
        for job in r["jobs"]:
            rows, wall = job.get("rows"), job["wall_s"]
            floor = job.get("floor_s")
            ratio = f"{wall / floor:.1f}" if floor and job["success"] else ""
            events = f"{job.get('events', 0):,} ({job.get('index_events', 0):,})" if job.get("run_id") else ""
            status = "" if job["success"] else " **FAILED**"
            lines.append(
                f"| {r['name']} | {job['job']}{status} | {wall:.1f} | {fmt_num(rows)} | "
                f"{fmt_num(rows / wall if rows else None)} | {mem(job)} | {events} | "
                f"{job['lake_objects_added']} | {fmt_mb(job['home_bytes'])} | {fmt_num(floor, 2)} | {ratio} | "
                f"{job['load'].split()[0]} -> {job['load'].split()[-3]} |"
            )
        runs = r["jobs"]
        if runs:
            wall = sum(j["wall_s"] for j in runs)
            floors = [j.get("floor_s") for j in runs]
            floor = sum(floors) if all(f is not None for f in floors) else None
            rows = sum(j.get("rows") or 0 for j in runs if j["group"] in SOURCES)
            events = sum(j.get("events", 0) for j in runs)
            index = sum(j.get("index_events", 0) for j in runs)
            peak = max(j["peak_rss"] for j in runs)
            peaks = {"peak_rss": peak, "peak_pss": max((j.get("peak_pss") or 0) for j in runs)}
            lines.append(
                f"| {r['name']} | **runs** | {wall:.1f} | {fmt_num(rows)} | {fmt_num(rows / wall if rows else None)} "
                f"| {mem(peaks)} | {events:,} ({index:,}) | {sum(j['lake_objects_added'] for j in runs)} | "
                f"{fmt_mb(r.get('home_bytes'))} | {fmt_num(floor, 2)} | {f'{wall / floor:.1f}' if floor else ''} | |"
            )
            total = wall + (startup.get("wall_s") or 0)
            largest = (r.get("process") or {}).get("maxrss")
            lines.append(
                f"| {r['name']} | **start-up + runs** | {total:.1f} | | | "
                f"{fmt_mb(max(peak, startup.get('peak_rss', 0)))} (largest process {fmt_mb(largest)}) | | "
                f"{r.get('lake_objects', '')} in the lake | "
                f"{fmt_mb(r.get('home_bytes'))} | {fmt_num(floor, 2)} | {f'{total / floor:.1f}' if floor else ''} | |"
            )
    return "\n".join(lines)


def floor_report(results: list[dict]) -> str:
    lines = [
        "| scenario | step | API s (calls) | chDB load s (rows, objects) | ERP CSV read s | compiled SQL s (models) "
        "| floor s | rows landed vs floor rows |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        for job in r["jobs"]:
            f = job.get("floor", {})
            api = f"{f['api_s']:.2f} ({f.get('api_calls', 0):,})" if "api_s" in f else f.get("api_error", "")
            load = f"{f['load_s']:.2f} ({f['load_rows']:,}, {f['load_objects']})" if "load_s" in f else ""
            csv = f"{f['csv_read_s']:.2f}" if "csv_read_s" in f else ""
            sql = f"{f['sql_s']:.2f} ({f['models']})" if "sql_s" in f else f.get("sql_error", "")
            if f.get("models_not_built"):
                sql += f", {f['models_not_built']} not built by the run"

            check = ""
            if "load_rows" in f and job.get("rows") is not None:
                check = "same" if f["load_rows"] == job["rows"] else f"{job['rows']:,} vs {f['load_rows']:,}"
            lines.append(
                f"| {r['name']} | {job['job']} | {api} | {load} | {csv} | {sql} | {fmt_num(job.get('floor_s'), 2)} "
                f"| {check} |"
            )
    return "\n".join(lines)


def details(results: list[dict]) -> str:
    out = []
    for r in results:
        startup = r.get("startup") or {}
        if startup:
            stages = ", ".join(f"{k} {v:.1f} s" for k, v in startup["stages_s"].items())
            bank = r.get("stand_in_bank_peak_rss")
            bank = f"; the sandbox bank's own process (not counted above) peaked at {fmt_mb(bank)}" if bank else ""
            out.append(f"{r['name']}: start-up {stages}{bank}")
        for job in r["jobs"]:
            steps = sorted(job.get("steps_s", {}).items(), key=lambda kv: -kv[1])[:8]
            kinds = sorted(job.get("by_type", {}).items(), key=lambda kv: -kv[1])[:4]
            out.append(
                f"  {job['job']}: steps "
                + ", ".join(f"{k} {v:.1f} s" for k, v in steps)
                + "; most events: "
                + ", ".join(f"{k} {v:,}" for k, v in kinds)
            )
            dbt_s = sum(v for k, v in job.get("steps_s", {}).items() if k.startswith("dbt_"))
            sql_s = job.get("floor", {}).get("sql_s")
            if dbt_s and sql_s:
                out.append(f"    dbt steps {dbt_s:.1f} s = {dbt_s / sql_s:.1f}x the compiled SQL ({sql_s:.1f} s)")
            checks = job.get("failed_checks", [])
            for check in checks:
                if "(ERROR)" in check:
                    out.append(f"    check failed: {check}")
            warned = sum("(WARN)" in check for check in checks)
            if warned:
                out.append(f"    {warned} check(s) warned (in the JSON)")
        if r.get("failure"):
            out.append(f"  FAILURE: {r['failure']}")
        if r.get("floor", {}).get("error"):
            out.append(f"  FLOOR FAILURE: {r['floor']['error']}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1", help="demo company scales, comma-separated (default 1)")
    parser.add_argument(
        "--daily", action=argparse.BooleanOptionalAction, default=True, help="the day after the scale-1 year"
    )
    parser.add_argument("--bcb-years", type=int, default=10, help="BCB backfill years ending 2024 (0: none; 1-10)")
    parser.add_argument("--json", type=Path, help="write every measurement here")
    parser.add_argument("--keep", action="store_true", help="keep the scenario folders (printed)")
    parser.add_argument("--timeout-min", type=float, default=120, help="per scenario process (default 120)")
    parser.add_argument("--driver", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--floor", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--bank-stand-in", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bank_stand_in:
        serve_bank_stand_in()
        return 0
    if args.driver:
        drive(json.loads(args.driver.read_text()))
        return 0
    if args.floor:
        spec = json.loads(args.floor.read_text())
        result = floors(spec, spec["driven"])
        Path(spec["result"]).write_text(json.dumps(result, indent=1))
        return 0
    args.scales = [float(s) for s in args.scales.split(",") if s.strip()]
    if not 0 <= args.bcb_years <= 10 or any(s <= 0 for s in args.scales):
        parser.error("--bcb-years 0..10 (the replay serves 2015-2024); scales > 0")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the temp folder is removed
    revision = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.strip()
    header = (
        f"{platform.system()} {platform.release()} {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, tree {revision or '?'}; load average at start {loadavg()}"
    )
    print(header, flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="importau-bench-e2e-"))
    results: list[dict] = []
    started = time.perf_counter()
    try:
        by_name: dict[str, dict] = {}
        for spec in scenarios(args, tmp):
            base = by_name.get(spec.get("base", ""))
            if spec["kind"] == "daily" and (base is None or base.get("failure") or not base["jobs"]):
                results.append({**spec, "jobs": [], "failure": f"not run: its base {spec['base']} failed"})
                continue
            result = run_scenario(spec, args.timeout_min * 60)
            by_name[spec["name"]] = result
            results.append(result)
            if args.json:
                args.json.write_text(json.dumps({"machine": header, "scenarios": results}, indent=1))
    finally:
        if args.keep:
            print(f"scenario folders kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{header}; at end {loadavg()}; {time.perf_counter() - started:.0f} s in all\n")
    print(report(results))
    print("\nFloor parts (API replayed right after the run; chDB on a copy of the scenario's warehouse):\n")
    print(floor_report(results))
    print()
    print(details(results))
    if args.json:
        args.json.write_text(json.dumps({"machine": header, "scenarios": results}, indent=1))
        print(f"\nJSON: {args.json}")
    return 1 if any(r.get("failure") for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
