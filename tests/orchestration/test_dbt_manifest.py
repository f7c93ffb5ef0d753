"""The dbt manifest is built once, atomically, under a lock, and only read by the code location's processes.

Real `dbt parse` runs (through `importau-dbt`) on a copy of dbt_project/ in a tmp folder, in subprocesses, as the
webserver, daemon and run workers would call `ensure_manifest` / `build_manifest` at the same time.
"""

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from orchestration.dbt_manifest import (
    DBT_PROJECT_DIR,
    MANIFEST_COMMAND,
    ManifestError,
    build_manifest,
    ensure_manifest,
    manifest_lock,
    manifest_path,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
CALL = "import sys; from pathlib import Path; import orchestration.dbt_manifest as m; print(m.{}(Path(sys.argv[1])))"


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the dbt project without its build outputs (a fresh clone has no target/)."""
    copy = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    return copy


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "CLICKHOUSE_", "DBT_"))}
    env.update(IMPORTAU_DATA_DIR=str(tmp_path / "data"), APP_ENV="ci", PYTHONPATH=str(REPO_ROOT))
    return env


def _start(function: str, project: Path, tmp_path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CALL.format(function), str(project)],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen) -> tuple[str, str]:
    try:
        stdout, stderr = process.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    assert process.returncode == 0, stderr[-4000:]
    return stdout, stderr


def test_an_existing_manifest_is_only_read(tmp_path):
    # No dbt project at all here: any parse would fail, so returning the path proves nothing ran.
    project = tmp_path / "no_project"
    (project / "target").mkdir(parents=True)
    manifest_path(project).write_text("{}")
    before = manifest_path(project).stat().st_mtime_ns
    assert ensure_manifest(project) == manifest_path(project)
    assert manifest_path(project).stat().st_mtime_ns == before


def test_concurrent_processes_parse_once_and_rebuilds_are_atomic(project, tmp_path):
    # Two processes importing the definitions on a fresh clone at once: one parses, the other waits for its file.
    first, second = _start("ensure_manifest", project, tmp_path), _start("ensure_manifest", project, tmp_path)
    outputs = [_finish(first), _finish(second)]
    assert sum("running `dbt parse` once" in stderr for _, stderr in outputs) == 1
    manifest = manifest_path(project)
    assert {stdout.strip() for stdout, _ in outputs} == {str(manifest)}
    assert "model.importau.fct_recommendations" in json.loads(manifest.read_text())["nodes"]

    # A rebuild while readers load the manifest in a loop (step processes starting): every read is whole.
    reads, errors, stop = [], [], threading.Event()

    def read_in_a_loop():
        while not stop.is_set():
            try:
                reads.append(manifest.stat().st_mtime_ns)
                json.loads(manifest.read_bytes())
            except Exception as error:  # a half-written file would land here
                errors.append(repr(error))

    reader = threading.Thread(target=read_in_a_loop)
    before = manifest.stat().st_mtime_ns
    reader.start()
    try:
        _finish(_start("build_manifest", project, tmp_path))
    finally:
        stop.set()
        reader.join(timeout=60)
    assert errors == []
    assert len(reads) > 10
    assert manifest.stat().st_mtime_ns > before  # build_manifest always parses anew
    assert not list(manifest.parent.glob(".parse-*"))  # the scratch folder is gone


def test_a_held_lock_is_waited_for_with_a_bound(project):
    started = time.monotonic()
    with manifest_lock(project), pytest.raises(ManifestError, match="importau dbt parse"):
        ensure_manifest(project, lock_timeout_s=0.5)
    assert time.monotonic() - started < 10
    assert not manifest_path(project).exists()


def test_a_broken_project_fails_naming_the_command_and_keeps_the_old_manifest(project, tmp_path, monkeypatch):
    monkeypatch.setenv("IMPORTAU_DATA_DIR", str(tmp_path / "data"))
    (project / "target").mkdir()
    manifest_path(project).write_text('{"previous": true}')
    (project / "models" / "broken.sql").write_text("select {{ ref('no_such_model') }} as x\n")
    with pytest.raises(ManifestError) as raised:
        build_manifest(project)
    assert MANIFEST_COMMAND in str(raised.value)
    assert "no_such_model" in str(raised.value)
    assert json.loads(manifest_path(project).read_text()) == {"previous": True}
    assert not list((project / "target").glob(".parse-*"))


def test_the_manifest_is_current_until_a_dbt_file_changes(project):
    """`importau demo` skips the parse (about 20 s) when no file of the dbt project is newer than the manifest."""
    from orchestration.dbt_manifest import manifest_is_current, refresh_manifest

    assert not manifest_is_current(project)  # none yet
    path = manifest_path(project)
    path.parent.mkdir(parents=True)
    path.write_text("{}")
    newest = max(p.stat().st_mtime for p in project.rglob("*") if p.is_file())
    os.utime(path, (newest + 1, newest + 1))
    assert manifest_is_current(project)
    assert refresh_manifest(project) == (path, False)
    model = next((project / "models").rglob("*.sql"))
    os.utime(model, (newest + 2, newest + 2))  # an edited model
    assert not manifest_is_current(project)
    os.utime(path, (newest + 3, newest + 3))  # parsed again
    assert manifest_is_current(project)
    os.utime(project / "models" / "staging", (newest + 4, newest + 4))  # a folder's mtime alone does not count
    assert manifest_is_current(project)


def _parse_log(project: Path, folder: Path, target: str, tmp_path: Path) -> str:
    """`dbt parse` for `target` into its own target folder (as a dbt step runs), seeded as the dbt step seeds it."""
    from orchestration.dbt_manifest import dbt_executable, seed_partial_parse

    seed_partial_parse(folder, target, project)
    env = {**_env(tmp_path), "DBT_LOG_PATH": str(folder), "DBT_USE_COLORS": "false"}
    command = [dbt_executable(), "parse", "--target-path", str(folder), "--target", target]
    command += ["--project-dir", str(project), "--profiles-dir", str(project)]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return (folder / "dbt.log").read_text()


def _parsed_in_full(log: str) -> bool:
    return "Unable to do partial parsing" in log or "Starting full parse" in log


def test_each_dbt_target_keeps_its_own_partial_parse(project, tmp_path, monkeypatch):
    """A parse for one target (the demo's `local`) no longer makes every dbt step of another (`ci`, the tests)
    parse the whole project: each target keeps its partial-parse state (dbt checks target, profile and vars)."""
    from orchestration.dbt_manifest import keep_partial_parse, partial_parse_path

    # parsed with another data folder than the steps below run with (as `importau dbt parse` at install is)
    monkeypatch.setenv("IMPORTAU_DATA_DIR", str(tmp_path / "parsed-with"))
    monkeypatch.setenv("APP_ENV", "local")
    build_manifest(project)
    assert partial_parse_path("local", project).exists() and not partial_parse_path("ci", project).exists()

    first_ci = _parse_log(project, project / "target" / "step-1", "ci", tmp_path)
    assert _parsed_in_full(first_ci)  # nothing kept for `ci` yet
    assert keep_partial_parse(project / "target" / "step-1", "ci", project)
    assert not keep_partial_parse(project / "target" / "step-1", "ci", project)  # kept once, then only read

    assert not _parsed_in_full(_parse_log(project, project / "target" / "step-2", "ci", tmp_path))
    local = _parse_log(project, project / "target" / "step-3", "local", tmp_path)
    # and nothing re-parsed for the other data folder: no model reads IMPORTAU_DATA_DIR while dbt parses (dbt
    # records the env vars a parse reads; stg_cockpit__reconciliation_decisions re-parsed in every step before)
    assert "Partial parsing enabled, no changes found, skipping parsing" in local, local[-3000:]
    # dagster-dbt's own copy (the generic target/partial_parse.msgpack, written by the `local` parse) is what made
    # a `ci` step parse in full before
    generic = project / "target" / "step-4"
    generic.mkdir()
    shutil.copyfile(project / "target" / "partial_parse.msgpack", generic / "partial_parse.msgpack")
    assert _parsed_in_full(_parse_log(project, generic, "ci", tmp_path))
