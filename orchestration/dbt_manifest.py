"""The dbt manifest the Dagster definitions read: built once, written atomically, only read by run workers.

Who builds it, and when (docs: README.md "Open the Dagster UI"):
- `importau dbt parse` (`make manifest`) and `importau dev` / `importau demo` before anything else starts:
  `build_manifest()`, a fresh `dbt parse` every time, so edits to the dbt project show up.
- `scripts/bootstrap.sh` when there is none yet (a fresh clone): `importau dbt parse`.
- Importing `orchestration.definitions` (webserver, daemon, run workers, step processes, `dg check defs`):
  `ensure_manifest()`, which only reads an existing manifest. With none (a fresh clone running plain `dg dev` or
  `dg check defs`), the first process parses once and the others wait for it, then read its file.

Writes are atomic and serialised: `dbt parse` writes into a temporary folder inside `target/`, and the finished
`manifest.json` (and `partial_parse.msgpack`) replace the old ones with `os.replace`, all under an exclusive `flock`
on `target/.manifest.lock`. A reader therefore sees the old file or the new one, never half of one, and two parses
never interleave. No dagster import here: the CLI and the code location both use it.

Partial parsing, per target. dbt re-parses the whole project (about 10 s against 4.7 s, idle) unless the
`partial_parse.msgpack` it is given was written for the same target, profile and vars. dagster-dbt copies
`target/partial_parse.msgpack` into each step's target folder, whatever target wrote it: after a parse under
`APP_ENV=ci` (the test suite, CI) every `local` dbt step of the demo parsed in full, and the other way round. So
each target keeps its own copy, `target/partial_parse.<target>.msgpack`: a parse writes the one of its target,
the dbt step seeds its folder with the one of the target it runs (`seed_partial_parse`) and, when there was none,
keeps what dbt wrote (`keep_partial_parse`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from orchestration.dbt_args import dbt_target
from orchestration.file_lock import bounded_flock

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
MANIFEST_COMMAND = "importau dbt parse"  # what a person runs (`make manifest` calls it)
LOCK_NAME = ".manifest.lock"
SCRATCH_PREFIX = ".parse-"
LOCK_TIMEOUT_S = 600.0  # a parse takes 10-60 s on 2 busy cores; waiting longer means a stuck parse
PARSE_TIMEOUT_S = 900.0
# `dbt parse` outputs that move into target/ with the manifest (partial_parse.msgpack speeds the next parse).
KEPT_OUTPUTS = ("partial_parse.msgpack", "semantic_manifest.json", "manifest.json")  # manifest.json last


class ManifestError(RuntimeError):
    """The manifest could not be built or waited for; the message names the command to run."""


PARTIAL_PARSE = "partial_parse.msgpack"


def partial_parse_path(target: str, project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """`target/partial_parse.<target>.msgpack`: dbt's partial-parse state for one dbt target."""
    return target_dir(project_dir) / f"partial_parse.{target}.msgpack"


def current_target() -> str:
    """The dbt target this process runs (APP_ENV, or `prod` for a server CLICKHOUSE_URL)."""
    return dbt_target(os.environ.get("APP_ENV"), os.environ.get("CLICKHOUSE_URL"))


def seed_partial_parse(invocation_target_path: Path, target: str, project_dir: Path = DBT_PROJECT_DIR) -> bool:
    """Copy the target's partial-parse state into a dbt invocation's (new) target folder; False when none yet."""
    source = partial_parse_path(target, project_dir)
    destination = Path(invocation_target_path) / PARTIAL_PARSE
    if not source.exists() or destination.exists():
        return False
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(source, destination)
    except FileNotFoundError:  # replaced between the check and the copy: dbt then parses in full, as without it
        return False
    return True


def keep_partial_parse(invocation_target_path: Path, target: str, project_dir: Path = DBT_PROJECT_DIR) -> bool:
    """Keep what a dbt invocation wrote as its target's partial-parse state, when that target has none yet.

    Only invocations without `--vars` call it (vars are part of what dbt checks). Written whole or not at all."""
    written = Path(invocation_target_path) / PARTIAL_PARSE
    kept = partial_parse_path(target, project_dir)
    if kept.exists() or not written.exists():
        return False
    _replace_atomically(written, kept)
    return True


def _replace_atomically(source: Path, destination: Path) -> None:
    scratch = destination.with_name(f"{destination.name}.{os.getpid()}.tmp")
    shutil.copyfile(source, scratch)
    os.replace(scratch, destination)


def target_dir(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    return Path(project_dir) / "target"


def manifest_path(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    return target_dir(project_dir) / "manifest.json"


def dbt_executable() -> str:
    """dbt through the chDB bridge (orchestration/dbt_chdb.py): the `importau-dbt` installed next to this
    interpreter, else the one on PATH. Dagster's dbt resource runs it too (defs/resources.py)."""
    beside = Path(sys.executable).with_name("importau-dbt")
    return str(beside) if beside.exists() else (shutil.which("importau-dbt") or "importau-dbt")


def dbt_command(*args: str, project_dir: Path = DBT_PROJECT_DIR) -> list[str]:
    """`importau-dbt <args>` (dbt through the chDB bridge) on the project, with the target APP_ENV selects."""
    return [
        dbt_executable(),
        *args,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target",
        current_target(),
    ]


@contextlib.contextmanager
def manifest_lock(project_dir: Path = DBT_PROJECT_DIR, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Exclusive `flock` on `target/.manifest.lock`, waited for at most `timeout_s` (released if the holder dies)."""
    folder = target_dir(project_dir)
    folder.mkdir(parents=True, exist_ok=True)
    lock_file = folder / LOCK_NAME
    error = ManifestError(
        f"another process has been building the dbt manifest for over {timeout_s:.0f} s "
        f"(lock {lock_file}); wait for it or stop it, then run `{MANIFEST_COMMAND}`"
    )
    with bounded_flock(lock_file, timeout_s, error, poll_s=0.2):
        yield


def _parse_into_target(project_dir: Path, timeout_s: float) -> Path:
    """`dbt parse` into a temporary folder in target/, then move its outputs in place (the caller holds the lock)."""
    folder = target_dir(project_dir)
    for leftover in folder.glob(f"{SCRATCH_PREFIX}*"):  # of a parse that was killed: nobody else holds the lock
        shutil.rmtree(leftover, ignore_errors=True)
    scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=folder))
    try:
        target = current_target()
        previous = partial_parse_path(target, project_dir)
        if not previous.exists():
            previous = folder / PARTIAL_PARSE
        if previous.exists():  # dbt reuses it when profile, vars and target are unchanged
            shutil.copyfile(previous, scratch / PARTIAL_PARSE)
        env = {**os.environ, "DBT_LOG_PATH": str(scratch), "DBT_USE_COLORS": "false"}
        env.pop("DBT_TARGET_PATH", None)  # --target-path decides
        command = dbt_command("parse", "--quiet", "--target-path", str(scratch), project_dir=project_dir)
        try:
            completed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout_s)
        except subprocess.TimeoutExpired as error:
            raise ManifestError(f"dbt parse did not finish in {timeout_s:.0f} s: {' '.join(command)}") from error
        built = scratch / "manifest.json"
        if completed.returncode != 0 or not built.exists():
            log_tail = (scratch / "dbt.log").read_text()[-4000:] if (scratch / "dbt.log").exists() else ""
            raise ManifestError(
                f"dbt parse failed (exit {completed.returncode}); fix the dbt project, then run "
                f"`{MANIFEST_COMMAND}`:\n{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}\n{log_tail}"
            )
        if (scratch / PARTIAL_PARSE).exists():
            _replace_atomically(scratch / PARTIAL_PARSE, partial_parse_path(target, project_dir))
        for name in KEPT_OUTPUTS:
            if (scratch / name).exists():
                os.replace(scratch / name, folder / name)
        return folder / "manifest.json"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def build_manifest(project_dir: Path = DBT_PROJECT_DIR, *, lock_timeout_s: float = LOCK_TIMEOUT_S) -> Path:
    """Parse the dbt project now (no warehouse connection) and atomically replace `target/manifest.json`."""
    project_dir = Path(project_dir)
    with manifest_lock(project_dir, lock_timeout_s):
        return _parse_into_target(project_dir, PARSE_TIMEOUT_S)


def ensure_manifest(project_dir: Path = DBT_PROJECT_DIR, *, lock_timeout_s: float = LOCK_TIMEOUT_S) -> Path:
    """The manifest path; parses only when there is no manifest yet, once, however many processes ask at once."""
    project_dir = Path(project_dir)
    path = manifest_path(project_dir)
    if path.exists():
        return path
    with manifest_lock(project_dir, lock_timeout_s):
        if path.exists():  # another process built it while this one waited
            return path
        print(
            f"No dbt manifest at {path}: running `dbt parse` once (`{MANIFEST_COMMAND}` builds it ahead of time)",
            file=sys.stderr,
        )
        return _parse_into_target(project_dir, PARSE_TIMEOUT_S)


# What dbt reads to build the manifest (target/, logs/ and installed packages aside).
_SOURCE_FOLDERS = ("models", "macros", "seeds", "tests", "snapshots", "analyses")
_SOURCE_FILES = ("dbt_project.yml", "profiles.yml", "packages.yml", "selectors.yml")


def manifest_is_current(project_dir: Path = DBT_PROJECT_DIR) -> bool:
    """True when the manifest exists and is newer than every file of the dbt project (no parse needed)."""
    project_dir = Path(project_dir)
    path = manifest_path(project_dir)
    if not path.exists():
        return False
    built = path.stat().st_mtime_ns
    candidates = [project_dir / name for name in _SOURCE_FILES]
    for folder in _SOURCE_FOLDERS:
        candidates.extend((project_dir / folder).rglob("*"))
    return all(candidate.stat().st_mtime_ns <= built for candidate in candidates if candidate.is_file())


def refresh_manifest(project_dir: Path = DBT_PROJECT_DIR) -> tuple[Path, bool]:
    """Parse only when a dbt file changed since the manifest was built; returns (path, parsed)."""
    if manifest_is_current(project_dir):
        return manifest_path(project_dir), False
    return build_manifest(project_dir), True
