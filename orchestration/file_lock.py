"""An exclusive `flock` waited for within a bound: every wait has one (the dbt manifest, the dbt build state)."""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def bounded_flock(lock_file: Path, timeout_s: float, timeout_error: Exception, poll_s: float = 0.05) -> Iterator[None]:
    """Hold an exclusive `flock` on `lock_file` (created if missing); raise `timeout_error` (the caller's error,
    naming what is locked) when another holder keeps it over `timeout_s`. The kernel releases it if the holder dies."""
    deadline = time.monotonic() + timeout_s
    with open(lock_file, "a+") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise timeout_error from None
                time.sleep(poll_s)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
