"""Replace a small file in one step: a reader, or the file after a crash, holds the old content or the new, never a
part of either.

`write_atomically(path, data)` writes a temporary file in the same folder (so `os.replace` is a rename within one
file system, which is atomic), created with the final mode from its first byte (0600 by default: the token store
keeps secrets in it), flushed to disk (`fsync`) before the rename, and fsyncs the folder afterwards so the rename
itself survives a power cut. When anything fails the temporary file is removed and the old file is left as it was.
"""

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomically(path: str | os.PathLike, data: bytes, mode: int = 0o600) -> None:
    """Make `path` hold `data` (mode `mode`), all at once; its folder is created when missing."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync_folder(target.parent)


def _fsync_folder(folder: Path) -> None:
    """Persist the folder's entry for the renamed file (POSIX: a rename is durable once its folder is synced)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
