"""Private temporary folders for key material (private keys, certificates, tokens), gone on every exit path.

`private_temp_dir(prefix)` makes `<tmp>/<prefix><pid>.<start>-<random>` (mode 0700, as `mkdtemp` does) and removes
it when the block ends, normally or through an exception; SIGINT arrives as KeyboardInterrupt, and inside
`terminate_unwinds()` SIGTERM raises SystemExit, so both unwind through it too. `atexit` removes any folder this
process still holds when the interpreter exits. A SIGKILL runs nothing, so the name records its owner: the pid and
the process start time (clock ticks since boot, from /proc), which tells a recycled pid from the owner. The next
`private_temp_dir` or `make_private_dir` of that prefix removes every folder whose owner is gone (`sweep_stale`).
Only this user's folders whose name carries an owner are touched: an untagged one (made by an older version, or by
something else) may belong to a process still running, so it is left alone.
"""

import atexit
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_LIVE: dict[str, int] = {}  # folder -> pid of the process that made it (a forked child must not remove it)
_LIVE_LOCK = threading.Lock()


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from field 3 (state) on; None when there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[1].split()  # the command name (field 2) may hold spaces and parentheses


def start_ticks(pid: int) -> int:
    """When the process started (clock ticks since boot), 0 where /proc does not say."""
    try:
        fields = _stat_fields(pid)
    except OSError:
        return 0
    return int(fields[19]) if fields else 0  # field 22, starttime


def owner_alive(pid: int, started: int) -> bool:
    """Whether the process that made a folder still runs: same pid and same start time, not a zombie."""
    if not Path("/proc/self/stat").exists():  # no procfs: the pid alone
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        fields = _stat_fields(pid)
    except OSError:
        return True  # cannot tell: keep the folder
    if fields is None or fields[0] == "Z":
        return False
    return started == 0 or int(fields[19]) == started


def _owner_pattern(prefix: str) -> re.Pattern:
    return re.compile(re.escape(prefix) + r"(\d+)\.(\d+)-[^/]+")


def sweep_stale(prefix: str, directory: str | None = None) -> list[Path]:
    """Remove this user's `<prefix><pid>.<start>-*` folders whose owner is gone; return what was removed."""
    base = Path(directory or tempfile.gettempdir())
    pattern = _owner_pattern(prefix)
    removed = []
    try:
        candidates = [entry for entry in base.iterdir() if entry.name.startswith(prefix)]
    except OSError:
        return removed
    for entry in candidates:
        found = pattern.fullmatch(entry.name)
        if not found:
            continue
        try:
            info = entry.lstat()
        except FileNotFoundError:
            continue
        if not entry.is_dir() or entry.is_symlink() or info.st_uid != os.getuid():
            continue
        if owner_alive(int(found.group(1)), int(found.group(2))):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def make_private_dir(prefix: str) -> str:
    """A new private folder named after this process (stale ones of the prefix removed first); the caller removes
    it with `remove_private_dir`, else it goes at interpreter exit."""
    sweep_stale(prefix)
    pid = os.getpid()
    path = tempfile.mkdtemp(prefix=f"{prefix}{pid}.{start_ticks(pid)}-")
    with _LIVE_LOCK:
        _LIVE[path] = pid
    return path


def remove_private_dir(path: str | os.PathLike) -> None:
    shutil.rmtree(path, ignore_errors=True)
    with _LIVE_LOCK:
        _LIVE.pop(str(path), None)


@contextmanager
def private_temp_dir(prefix: str) -> Iterator[str]:
    """A private folder for the block, removed when it ends (see the module docstring for every exit path)."""
    path = make_private_dir(prefix)
    try:
        yield path
    finally:
        remove_private_dir(path)


@atexit.register
def _remove_at_exit() -> None:
    with _LIVE_LOCK:
        mine = [path for path, pid in _LIVE.items() if pid == os.getpid()]
    for path in mine:
        remove_private_dir(path)


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def terminate_unwinds() -> Iterator[None]:
    """While in the block, SIGTERM raises SystemExit(143) in the main thread instead of ending the process on the
    spot, so `with` blocks and `finally` clauses run. A SIGTERM handler someone else set is kept as it is."""
    replaced = (
        threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    )
    if replaced:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield
    finally:
        if replaced and signal.getsignal(signal.SIGTERM) is _exit_on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
