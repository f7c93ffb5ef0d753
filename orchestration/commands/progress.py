"""Progress for long commands: a few lines on the terminal, every event in a log file.

A command that runs jobs in-process (`importau demo` runs them with `dg.execute_job`) does two things:

- it opens a `progress_session(log_file)`: from then on everything the process writes to its stdout and stderr
  (Dagster, dbt's own output, Python warnings, subprocesses) goes to `log_file` at the file-descriptor level, and
  only what the command means a person to read reaches the terminal (`echo`, and the progress lines below);
- it selects the `importau_progress` logger in each run's config (`progress_run_config(log_file)`), which leaves
  Dagster's console logger out of the run. That logger receives every structured event of the run (DEBUG
  included), writes each one to the log file, and prints one line per finished step (its duration; per asset
  materialized the `row_count` and `quarantined` of its metadata; asset checks passed/warned/failed; dbt tests
  passed/warned/failed), one line per finished run, and every error in full with its step.

On a terminal the running step is shown on a status line that updates itself and is replaced by the step's line;
on a pipe or a CI log there are only the finished lines, without colour.

The logger is registered in the Definitions (`orchestration/definitions.py`) beside Dagster's `console` logger,
so a run whose config names no logger (the UI, sensors, schedules) logs exactly as before. Its per-run counts live
in this process: with an executor that runs steps in other processes each step still prints its own line, but
the run line only counts the steps that ran here.

The events Dagster writes straight to the instance when it creates a run (ASSET_MATERIALIZATION_PLANNED and
ASSET_CHECK_EVALUATION_PLANNED) never pass through a logger; `append_run_creation_events` copies them from the
instance's event log into the file after the run.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import dagster as dg

EV = dg.DagsterEventType
LOGGER_KEY = "importau_progress"
MARKS = {"ok": "✓", "fail": "✗", "warn": "!"}
ASCII_MARKS = {"ok": "+", "fail": "x", "warn": "!"}
LONG_TEXT = 300  # metadata text longer than this (previews) is elided in the log file; the UI shows it whole

_lock = threading.RLock()
_log_files: dict[str, TextIO] = {}
_runs: dict[str, _RunProgress] = {}
_terminal: Terminal | None = None


# ---------------------------------------------------------------------------------------------------------- terminal


class Terminal:
    """Where the progress lines go. `live` (a TTY): colours, and a status line naming the running steps with their
    elapsed time, redrawn every second; otherwise plain lines only."""

    def __init__(self, stream: TextIO, live: bool | None = None, log_file: str | None = None):
        self.stream = stream
        self.log_file = log_file  # gets a copy of every permanent line
        self.live = _isatty(stream) if live is None else live
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        self.marks = MARKS if encoding == "utf8" else ASCII_MARKS
        self._running: dict[tuple[str, str], tuple[str, float]] = {}
        self._status_shown = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def line(self, text: str, style: str | None = None) -> None:
        """Print one permanent line (or several, when `text` has newlines)."""
        colour = {"ok": "32", "fail": "31", "warn": "33", "dim": "2"}.get(style or "") if self.live else None
        with _lock:
            self._clear_status()
            self.stream.write(f"\x1b[{colour}m{text}\x1b[0m\n" if colour else f"{text}\n")
            self._draw_status()
            self.stream.flush()
            if self.log_file:
                stamp = _now()
                _write_log(self.log_file, "\n".join(f"{stamp} - importau - {line}" for line in text.split("\n")))

    def mark(self, kind: str) -> str:
        return self.marks[kind]

    def step_started(self, run_id: str, step_key: str, label: str) -> None:
        if not self.live:
            return
        with _lock:
            self._running[(run_id, step_key)] = (label, time.monotonic())
            self._clear_status()
            self._draw_status()
            self.stream.flush()
            if self._thread is None:
                self._thread = threading.Thread(target=self._tick, name="importau-progress", daemon=True)
                self._thread.start()

    def step_ended(self, run_id: str, step_key: str) -> None:
        if not self.live:
            return
        with _lock:
            self._running.pop((run_id, step_key), None)
            self._clear_status()
            self._draw_status()
            self.stream.flush()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        with _lock:
            self._running.clear()
            self._clear_status()
            self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            with _lock:
                if self._running:
                    self._clear_status()
                    self._draw_status()
                    self.stream.flush()

    def _clear_status(self) -> None:
        if self._status_shown:
            self.stream.write("\r\x1b[2K")
            self._status_shown = False

    def _draw_status(self) -> None:
        if not (self.live and self._running):
            return
        now = time.monotonic()
        running = ", ".join(f"{label} {format_duration(now - started)}" for label, started in self._running.values())
        text = f"    ... {running}"[: self._width() - 1]  # one screen line, or \r cannot clear it
        self.stream.write(f"\x1b[2m{text}\x1b[0m")
        self._status_shown = True

    def _width(self) -> int:
        try:
            return os.get_terminal_size(self.stream.fileno()).columns or 80
        except (AttributeError, OSError, ValueError):
            return 80


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def terminal() -> Terminal:
    """The session's terminal, else one on the current sys.stdout (a logger used outside a session)."""
    return _terminal if _terminal is not None else Terminal(sys.stdout, live=False)


def echo(text: str = "", style: str | None = None) -> None:
    """Print a line a person should read: on the terminal and, in a session, in the log file too."""
    terminal().line(text, style)


# -------------------------------------------------------------------------------------------------------- log file


def _open_log(path: str) -> TextIO:
    with _lock:
        handle = _log_files.get(path)
        if handle is None or handle.closed:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            handle = open(path, "a", buffering=1, encoding="utf-8", errors="replace")  # noqa: SIM115 (kept open)
            _log_files[path] = handle
        return handle


def _close_log(path: str) -> None:
    with _lock:
        handle = _log_files.pop(path, None)
        if handle is not None and not handle.closed:
            handle.close()


def _write_log(path: str, text: str) -> None:
    with _lock:
        _open_log(path).write(text + "\n")


def _now() -> str:
    return dt.datetime.now(dt.UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S %z")


def _timestamp(created: float) -> str:
    return dt.datetime.fromtimestamp(created, dt.UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S %z")


# --------------------------------------------------------------------------------------------------------- session

_session_log: str | None = None


@contextmanager
def progress_session(
    log_file: str | os.PathLike, stream: TextIO | None = None, capture_output: bool = True
) -> Iterator[Terminal]:
    """Progress lines to `stream` (default: this process's stdout as it is now), everything else to `log_file`.

    With `capture_output`, file descriptors 1 and 2 point at the log file until the session ends, and
    sys.stdout/sys.stderr write to them, so whatever anything prints (Python code, Dagster's compute-log
    capture, dbt's output, warnings, child processes, C libraries) lands in the file; the terminal keeps a
    descriptor of its own."""
    global _terminal, _session_log
    path = str(Path(log_file).resolve())
    log = _open_log(path)
    log.write(f"{_now()} - importau - log of `{' '.join([Path(sys.argv[0]).name, *sys.argv[1:]])}`\n")
    for python_stream in (sys.stdout, sys.stderr):
        python_stream.flush()
    own_stream = None
    if stream is None:
        try:
            terminal_fd = sys.stdout.fileno()
        except (AttributeError, OSError, ValueError):
            terminal_fd = 1
        encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
        own_stream = open(os.dup(terminal_fd), "w", buffering=1, encoding=encoding, errors="replace")  # noqa: SIM115
        stream = own_stream
    saved_fds: list[tuple[int, int]] = []
    saved_streams = (sys.stdout, sys.stderr)
    if capture_output:
        for fd in (1, 2):
            saved_fds.append((fd, os.dup(fd)))
            os.dup2(log.fileno(), fd)
        # Python's own streams onto those descriptors (under pytest they are not), line-buffered.
        sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    previous = (_terminal, _session_log)
    _terminal, _session_log = Terminal(stream, log_file=path), path
    try:
        yield _terminal
    finally:
        _terminal.close()
        _terminal, _session_log = previous
        if capture_output:
            for python_stream in (sys.stdout, sys.stderr):
                try:
                    python_stream.close()  # flushes; the descriptor stays open (closefd=False)
                except (OSError, ValueError):
                    pass
            sys.stdout, sys.stderr = saved_streams
        for fd, copy in saved_fds:
            os.dup2(copy, fd)
            os.close(copy)
        if own_stream is not None:
            own_stream.close()
        _close_log(path)


def session_log_file() -> str | None:
    """The log file of the open `progress_session`, if any."""
    return _session_log


def new_log_file(data_dir: str | os.PathLike, command: str) -> Path:
    """`<data dir>/logs/<command>-<local time>.log`."""
    return Path(data_dir).resolve() / "logs" / f"{command}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.log"


def progress_run_config(log_file: str | os.PathLike) -> dict[str, Any]:
    """The `loggers` part of a run config that selects this logger (and so leaves the console logger out)."""
    return {"loggers": {LOGGER_KEY: {"config": {"log_file": str(Path(log_file).resolve())}}}}


# ---------------------------------------------------------------------------------------------------------- logger


@dataclass
class _StepProgress:
    key: str
    started: float
    rows: dict[str, dict[str, tuple[int | None, int | None]]] = field(default_factory=dict)
    checks: Counter = field(default_factory=Counter)
    warned_checks: Counter = field(default_factory=Counter)
    dbt_tests: Counter = field(default_factory=Counter)
    warned_dbt_tests: Counter = field(default_factory=Counter)
    dbt_tests_seen: set[str] = field(default_factory=set)
    not_rebuilt: set[str] = field(default_factory=set)  # dbt models the daily build left out (inputs unchanged)
    warnings: int = 0

    def asset_rows(self) -> dict[str, tuple[int | None, int | None]]:
        """Per asset: (rows, quarantined), summed over distinct materializations. A ranged run repeats one
        materialization's metadata on every partition of the range: those repeats count once."""
        totals = {}
        for asset, by_fingerprint in self.rows.items():
            rows = [r for r, _ in by_fingerprint.values() if r is not None]
            quarantined = [q for _, q in by_fingerprint.values() if q is not None]
            totals[asset] = (sum(rows) if rows else None, sum(quarantined) if quarantined else None)
        return totals


@dataclass
class _RunProgress:
    job_name: str
    started: float
    steps: dict[str, _StepProgress] = field(default_factory=dict)
    outcomes: Counter = field(default_factory=Counter)
    assets: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    checks: Counter = field(default_factory=Counter)
    dbt_tests: Counter = field(default_factory=Counter)
    errors_shown: set[str] = field(default_factory=set)


def _int(value: Any) -> int | None:
    value = getattr(value, "value", value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _text(value: Any) -> str:
    """A metadata value on one line of the log file; long text (previews) elided, as `<N characters>`."""
    value = getattr(value, "value", getattr(value, "text", value))
    text = str(value)
    return f"<{len(text)} characters>" if len(text) > LONG_TEXT else text.replace("\n", "\\n")


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes}m{seconds:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _counts(counter: Counter, warned_names: Counter | None = None) -> str:
    """`3 passed, 1 warned (name), 1 failed`: zero warned/failed are left out."""
    parts = [f"{counter['passed']:,} passed"]
    if counter["warned"]:
        parts.append(f"{counter['warned']:,} warned" + (f" ({_named(warned_names)})" if warned_names else ""))
    if counter["failed"]:
        parts.append(f"{counter['failed']:,} failed")
    return ", ".join(parts)


def _named(names: Counter, limit: int = 3) -> str:
    shown = [name if count == 1 else f"{name} x{count}" for name, count in names.most_common(limit)]
    return ", ".join(shown) + (", ..." if len(names) > limit else "")


def _error_text(error: Any) -> str:
    """The chain of messages of a SerializableErrorInfo, then the stack of the innermost one (the user's code);
    the framework frames of the outer wrappers are in the log file."""
    chain = []
    current = error
    while current is not None:
        chain.append(current)
        current = current.cause or current.context
    lines = [chain[0].message.rstrip()]
    for inner in chain[1:]:
        lines.append(f"caused by {inner.message.rstrip()}")
    if chain[-1].stack:
        lines.append("".join(chain[-1].stack).rstrip())
    return "\n".join(lines)


def _indent(text: str, prefix: str = "      ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


class ProgressHandler(logging.Handler):
    """Every record to the log file; progress lines for the events that matter to the terminal."""

    def __init__(self, log_file: str | None):
        super().__init__(level=logging.DEBUG)
        self.log_file = log_file

    def emit(self, record: logging.LogRecord) -> None:
        try:
            with _lock:
                self._to_file(record)
                self._to_terminal(record)
        except Exception:  # a progress line must never fail a run
            self.handleError(record)

    def _to_file(self, record: logging.LogRecord) -> None:
        if not self.log_file:
            return
        line = f"{_timestamp(record.created)} - dagster - {record.levelname} - {record.getMessage()}"
        event = (getattr(record, "dagster_meta", None) or {}).get("dagster_event")
        metadata = _event_metadata(event) if event is not None else None
        if metadata:
            line += " - metadata: " + ", ".join(f"{key}={_text(value)}" for key, value in metadata.items())
        _write_log(self.log_file, line)

    def _to_terminal(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None)
        if not meta or not meta.get("run_id"):
            return
        out = terminal()
        run_id = meta["run_id"]
        event = meta.get("dagster_event")
        run = _runs.get(run_id)
        if run is None:  # kept from RUN_START (or the first step) to the run's end; a stray record gets a scratch one
            run = _RunProgress(job_name=meta.get("job_name") or "run", started=record.created)
            if event is not None and event.event_type in (EV.RUN_START, EV.STEP_START):
                _runs[run_id] = run
        step_key = meta.get("step_key") or (event.step_key if event is not None else None)
        step = run.steps.get(step_key) if step_key else None
        if event is None:  # a message the code logged
            if record.levelno >= logging.ERROR:
                out.line(f"    {out.mark('fail')} {step_key or run.job_name}: {meta.get('orig_message')}", "fail")
            elif record.levelno >= logging.WARNING and step is not None:
                step.warnings += 1
            return

        kind = event.event_type
        data = event.event_specific_data
        if kind == EV.RUN_START:
            run.started = record.created
        elif kind == EV.STEP_START and step_key:
            run.steps[step_key] = _StepProgress(step_key, record.created)
            out.step_started(run_id, step_key, step_key)
        elif kind == EV.ASSET_MATERIALIZATION and step is not None:
            materialization = data.materialization
            md = materialization.metadata
            fingerprint = repr(sorted((key, repr(value)) for key, value in md.items()))
            step.rows.setdefault(materialization.asset_key.to_user_string(), {})[fingerprint] = (
                _int(md.get("row_count")),
                _int(md.get("quarantined")),
            )
            if getattr(md.get("importau/rebuilt"), "value", True) is False:
                step.not_rebuilt.add(materialization.asset_key.to_user_string())
        elif kind == EV.ASSET_CHECK_EVALUATION and step is not None:
            self._check(out, run, step, data)
        elif kind == EV.ASSET_OBSERVATION and step is not None:
            self._dbt_test_observation(out, run, step, data.asset_observation)
        elif kind == EV.STEP_SUCCESS and step_key:
            duration = data.duration_ms / 1000 if getattr(data, "duration_ms", None) is not None else None
            self._step_done(out, run, run_id, step_key, "ok", duration, record.created)
        elif kind == EV.STEP_FAILURE and step_key:
            self._step_done(out, run, run_id, step_key, "fail", None, record.created)
            if data.error is not None:
                run.errors_shown.add(data.error.to_string())
                out.line(_indent(_error_text(data.error)), "fail")
        elif kind == EV.STEP_SKIPPED and step_key:
            run.outcomes["skipped"] += 1
            out.line(f"    - {step_key} skipped (an upstream step failed)", "dim")
        elif kind == EV.STEP_UP_FOR_RETRY and step_key:
            out.step_ended(run_id, step_key)
            out.line(f"    {out.mark('warn')} {step_key} failed, will retry: {event.message}", "warn")
        elif kind in (EV.RUN_SUCCESS, EV.RUN_FAILURE, EV.RUN_CANCELED):
            self._run_done(out, run_id, run, kind, event, record.created)
        else:
            error = getattr(data, "error", None)
            if error is not None and error.to_string() not in run.errors_shown:
                run.errors_shown.add(error.to_string())
                where = step_key or run.job_name
                out.line(f"    {out.mark('fail')} {where}: {event.message or kind.value}", "fail")
                out.line(_indent(_error_text(error)), "fail")

    def _check(self, out: Terminal, run: _RunProgress, step: _StepProgress, evaluation: Any) -> None:
        metadata = evaluation.metadata or {}
        unique_id = _text(metadata.get("unique_id", ""))
        is_dbt_test = unique_id.startswith("test.")
        warn = evaluation.severity == dg.AssetCheckSeverity.WARN
        outcome = "passed" if evaluation.passed else ("warned" if warn else "failed")
        if is_dbt_test:
            step.dbt_tests_seen.add(unique_id)
            step.dbt_tests[outcome] += 1
            run.dbt_tests[outcome] += 1
            if outcome == "warned":
                step.warned_dbt_tests[evaluation.check_name] += 1
        else:
            step.checks[outcome] += 1
            run.checks[outcome] += 1
            if outcome == "warned":
                step.warned_checks[evaluation.check_name] += 1
        if outcome == "failed":
            details = evaluation.description or ", ".join(
                f"{key}={_text(value)}" for key, value in metadata.items() if key != "unique_id"
            )
            what = "dbt test" if is_dbt_test else "check"
            out.line(
                f"    {out.mark('fail')} {what} {evaluation.check_name} on {evaluation.asset_key.to_user_string()} "
                f"failed: {details}",
                "fail",
            )

    def _dbt_test_observation(self, out: Terminal, run: _RunProgress, step: _StepProgress, observation: Any) -> None:
        """dagster-dbt reports a test with several parents as an observation of each parent: count it once."""
        metadata = observation.metadata or {}
        unique_id = _text(metadata.get("unique_id", ""))
        status = _text(metadata.get("status", "")).lower()
        if not unique_id.startswith("test.") or not status or unique_id in step.dbt_tests_seen:
            return
        step.dbt_tests_seen.add(unique_id)
        outcome = {"pass": "passed", "warn": "warned"}.get(status, "failed")
        step.dbt_tests[outcome] += 1
        run.dbt_tests[outcome] += 1
        name = unique_id.split(".")[2] if unique_id.count(".") >= 2 else unique_id
        if outcome == "warned":
            step.warned_dbt_tests[name] += 1
        elif outcome == "failed":
            out.line(f"    {out.mark('fail')} dbt test {name} {status}", "fail")

    def _step_done(
        self, out: Terminal, run: _RunProgress, run_id: str, step_key: str, outcome: str, duration, ended: float
    ) -> None:
        out.step_ended(run_id, step_key)
        step = run.steps.get(step_key) or _StepProgress(step_key, ended)
        duration = ended - step.started if duration is None else duration
        run.outcomes[outcome] += 1
        assets = step.asset_rows()
        run.assets.update(assets)
        parts = []
        if assets:
            rows = [r for r, _ in assets.values() if r is not None]
            quarantined = [q for _, q in assets.values() if q is not None]
            if len(assets) == 1 and next(iter(assets)).replace("/", "__") == step_key:
                what = ""
            elif len(assets) == 1:
                what = next(iter(assets))
            else:
                what = f"{len(assets)} assets"
            if step.not_rebuilt:
                what += f" ({len(step.not_rebuilt):,} not rebuilt: inputs unchanged)"
            if rows:
                what = f"{what}{', ' if what else ''}{plural(sum(rows), 'row')}"
            if sum(quarantined):
                what += f", {sum(quarantined):,} quarantined"
            parts.append(what or "materialized")
        if step.checks:
            parts.append(f"checks {_counts(step.checks, step.warned_checks)}")
        if step.dbt_tests:
            parts.append(f"dbt tests {_counts(step.dbt_tests, step.warned_dbt_tests)}")
        if step.warnings:
            parts.append(f"{plural(step.warnings, 'warning')} in the log")
        label = "" if outcome == "ok" else " FAILED"
        details = f"  {'; '.join(parts)}" if parts else ""
        problems = step.checks["failed"] or step.dbt_tests["failed"] or sum(q or 0 for _, q in assets.values())
        style = "fail" if outcome == "fail" else ("warn" if problems else None)
        out.line(f"    {out.mark(outcome)} {step_key}{label} {format_duration(duration)}{details}", style)

    def _run_done(self, out: Terminal, run_id: str, run: _RunProgress, kind, event, ended: float) -> None:
        _runs.pop(run_id, None)
        outcome = {
            EV.RUN_SUCCESS: "SUCCESS",
            EV.RUN_FAILURE: "FAILURE",
            EV.RUN_CANCELED: "CANCELED",
        }[kind]
        steps = sum(run.outcomes[k] for k in ("ok", "fail", "skipped"))
        parts = [plural(steps, "step")]
        if run.outcomes["fail"] or run.outcomes["skipped"]:
            parts[0] += f" ({run.outcomes['fail']} failed, {run.outcomes['skipped']} skipped)"
        if run.assets:
            by_layer: Counter = Counter()
            quarantined = 0
            for asset, (rows, bad) in run.assets.items():
                if rows is not None:
                    by_layer[asset.split("/")[0]] += rows
                quarantined += bad or 0
            rows_text = ", ".join(f"{layer} {rows:,}" for layer, rows in by_layer.items())
            parts.append(plural(len(run.assets), "asset") + (f" (rows: {rows_text})" if rows_text else ""))
            if quarantined:
                parts.append(f"{plural(quarantined, 'row')} quarantined")
        if run.checks:
            parts.append(f"checks {_counts(run.checks)}")
        if run.dbt_tests:
            parts.append(f"dbt tests {_counts(run.dbt_tests)}")
        mark = out.mark("ok" if outcome == "SUCCESS" else "fail")
        out.line(
            f"  {mark} {run.job_name} {outcome} in {format_duration(ended - run.started)}: {'; '.join(parts)}",
            "ok" if outcome == "SUCCESS" else "fail",
        )
        error = getattr(event.event_specific_data, "error", None)
        if error is not None and error.to_string() not in run.errors_shown:
            out.line(_indent(_error_text(error), "    "), "fail")
        elif outcome != "SUCCESS" and event.message and not run.outcomes["fail"]:
            out.line(f"    {event.message}", "fail")


def _event_metadata(event: Any) -> dict[str, Any] | None:
    data = event.event_specific_data
    if event.event_type == EV.ASSET_MATERIALIZATION:
        return dict(data.materialization.metadata)
    if event.event_type == EV.ASSET_OBSERVATION:
        return dict(data.asset_observation.metadata)
    if event.event_type == EV.ASSET_CHECK_EVALUATION:
        return {"passed": data.passed, "severity": data.severity.value, **dict(data.metadata or {})}
    return None


@dg.logger(
    config_schema={
        "log_file": dg.Field(
            str,
            is_required=False,
            default_value="",
            description="File that receives every record (DEBUG included); empty: none.",
        )
    },
    description="Progress lines (one per step and per run, errors in full) on the terminal; every event in a file.",
)
def importau_progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    log = logging.Logger(LOGGER_KEY, level=logging.DEBUG)
    log.addHandler(ProgressHandler(init_context.logger_config["log_file"] or None))
    return log


# ------------------------------------------------------------------------------------- events outside the loggers

RUN_CREATION_EVENTS = {
    EV.ASSET_MATERIALIZATION_PLANNED,
    EV.ASSET_CHECK_EVALUATION_PLANNED,
}


def append_run_creation_events(instance: dg.DagsterInstance, run_id: str, log_file: str | os.PathLike) -> int:
    """Copy the events Dagster wrote at run creation (never sent to loggers) into the log file; returns how many."""
    path = str(Path(log_file).resolve())
    count = 0
    cursor = None
    while True:
        connection = instance.get_records_for_run(run_id, cursor=cursor, of_type=RUN_CREATION_EVENTS, limit=5000)
        lines = []
        for record in connection.records:
            entry = record.event_log_entry
            level = logging.getLevelName(entry.level) if isinstance(entry.level, int) else str(entry.level)
            event = entry.dagster_event
            data = event.event_specific_data if event is not None else None
            partition = getattr(data, "partition", None)
            subset = getattr(data, "partitions_subset", None)
            where = f" [partition {partition}]" if partition else (f" [{subset}]" if subset is not None else "")
            kind = event.event_type_value if event is not None else "LOG"
            message = (event.message if event is not None else None) or entry.user_message
            lines.append(
                f"{_timestamp(entry.timestamp)} - dagster - {level} - {entry.job_name} - {run_id} - {kind} - "
                f"{message}{where}"
            )
        count += len(lines)
        if lines:
            with _lock:
                handle = _open_log(path)
                if count == len(lines):
                    handle.write(
                        f"{_now()} - importau - events written to the instance when run {run_id} was created "
                        "(before RUN_START; Dagster does not send them to loggers):\n"
                    )
                handle.write("\n".join(lines) + "\n")
        if not connection.has_more:
            break
        cursor = connection.cursor
    return count


__all__ = [
    "LOGGER_KEY",
    "Terminal",
    "append_run_creation_events",
    "echo",
    "format_duration",
    "importau_progress_logger",
    "new_log_file",
    "progress_run_config",
    "progress_session",
    "session_log_file",
]
