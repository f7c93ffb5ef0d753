"""Process helpers for the integration tests that start servers of their own (test_ui_runs, test_deployed_instance).

`free_port` is a free TCP port on 127.0.0.1. `die_with_parent` is a `preexec_fn`: the child gets SIGTERM when
the process that started it dies (PR_SET_PDEATHSIG), so nothing outlives pytest. `pids_with_env(marker)` lists
the processes (this one aside) whose environment holds the entry `marker` (e.g. `IMPORTAU_DATA_DIR=<the test's
folder>`): the ones a test started, and theirs, including those that left its process group (run workers).
`stop_group` sends SIGTERM to a process group, waits a bounded time, sends SIGKILL to the group and then to every
process still carrying the marker, until none is left or the bound runs out (the caller asserts none is left).
`started_group` starts a command in its own process group (output to a log file) and stops it with `stop_group`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: nothing outlives pytest


def has_env(pid: int, marker: str) -> bool:
    with contextlib.suppress(OSError):
        return marker.encode() in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return False


def pids_with_env(marker: str) -> list[int]:
    """Processes whose environment holds `marker` (a test's unique folder): the ones it started, and theirs."""
    pids = [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    return [pid for pid in pids if pid != os.getpid() and has_env(pid, marker)]


def stop_group(process: subprocess.Popen, marker: str, bound_s: float, poll_s: float = 0.5) -> None:
    """SIGTERM the process group, wait up to `bound_s`, SIGKILL the group and any process with `marker` left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=bound_s)
    deadline = time.monotonic() + bound_s
    while (left := pids_with_env(marker)) and time.monotonic() < deadline:
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(poll_s)


@contextlib.contextmanager
def started_group(
    command: list[str],
    env: dict[str, str],
    log_path: Path,
    marker: str,
    *,
    cwd: Path,
    bound_s: float,
    poll_s: float = 0.5,
) -> Iterator[subprocess.Popen]:
    """A process in its own process group (stdout and stderr to `log_path`), dying with this one; on exit the group
    gets SIGTERM, then SIGKILL, as does anything left with `marker` in its environment (`stop_group`)."""
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so the whole tree stops together
            preexec_fn=die_with_parent,
        )
    try:
        yield process
    finally:
        stop_group(process, marker, bound_s, poll_s)
