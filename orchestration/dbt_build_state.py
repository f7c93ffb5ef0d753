"""What a daily build may leave out: the models and seeds whose inputs are the same as when they were last built, and
with them the data tests that read nothing else.

Every model of the project is a function of the raw tables (dbt sources), the seeds, the code and dbt_project.yml's
`vars`: none reads today() (the treasury and recommendation marts end where the data ends,
int_treasury_data_as_of). The one model reading outside the warehouse says so in its meta (`importau_always_build`:
the cockpit's decision files) and is always built, and so is everything reading it. So with the project unchanged
and every raw table upstream of a model holding the same rows as when it was last built, a rebuild would give the
table it already is (an incremental model recomputes its lookback window from the same rows), and a data test
reading only such models would give the result it gave then.

Every `dbt_models` step records, after a build that succeeded, each model and seed it built, with the fingerprints
(taken before the build) of the raw tables it reads. Under the run tag `importau/dbt_build: changed` (the
`transform_daily` job) the step leaves out (`--exclude`) each recorded model whose fingerprints match, whose table or
view still exists, and every model upstream of which is left out too; with dbt's `buildable` indirect selection a
test goes with them only when every model it reads is (a test of a rebuilt model that also reads a left-out one
still runs). Everything else runs: a model that failed or never ran, one with a raw table upstream that changed, one
whose relation is gone, and every model once anything in the project changed (models, tests, macros, seeds,
sources, dbt_project.yml: one fingerprint). Nothing is left out on a full refresh, when the manifest is older than a
dbt file, or when some checks of the step's assets are deselected (orchestration/defs/dbt.py `may_leave_out`).

Before dbt starts, the step forgets the models it is about to build: a build killed half-way leaves them
unrecorded, so the next one builds them again whatever their raw tables hold by then. A raw table's fingerprint is
its row count and the sum of its row hashes without `_loaded_at`, so a raw load that replaces a partition with the
same rows is no change; a table that does not exist is `missing`. The state is a JSON file beside the warehouse's
data (`<data dir>/dbt_build_state.<target>.json`), changed under a bounded `flock` on the file as it is at that
moment and replaced atomically; `importau restore` removes it; without it (a new machine, a pod's empty disk) every
model is built. Pure: no dagster import (orchestration/defs/dbt.py wires it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestration.file_lock import bounded_flock

BUILD_TAG = "importau/dbt_build"  # "changed": leave out the nodes that succeeded on the same inputs
CHANGED = "changed"
LOCK_TIMEOUT_S = 30  # two dbt steps at once (a server warehouse) each hold the state file for milliseconds
# A model with this key in its `meta` (the reason, as text) is always built: it reads something outside the
# warehouse (dbt sources and seeds are what the fingerprints see), e.g. the cockpit's decision files through file().
ALWAYS_BUILD = "importau_always_build"
LOAD_STAMP_COLUMNS = ("_loaded_at",)  # when a row was loaded, not what it says
# manifest fields that change with every parse or with the machine, not with what a node computes
VOLATILE = ("created_at", "root_path", "build_path", "compiled_path", "deferred", "_event_status")


def state_path(data_dir: str | os.PathLike, target: str) -> Path:
    return Path(data_dir) / f"dbt_build_state.{target}.json"


def project_fingerprint(manifest: Mapping[str, Any], project_files: Iterable[Path] = ()) -> str:
    """One hash of what the project computes: every node (models, seeds, tests, snapshots), source and macro as
    the manifest describes them, without the fields that change with each parse, and the bytes of `project_files`
    (dbt_project.yml: its `vars`, such as the reconciliation windows, reach the SQL only when it is compiled)."""

    def stable(entry: Mapping[str, Any]) -> dict:
        return {key: value for key, value in entry.items() if key not in VOLATILE}

    digest = hashlib.sha256()
    for section in ("nodes", "sources", "macros"):
        for unique_id in sorted(manifest.get(section, {})):
            entry = stable(manifest[section][unique_id])
            digest.update(json.dumps([unique_id, entry], sort_keys=True, default=str).encode())
    digest.update(json.dumps(manifest.get("metadata", {}).get("project_name"), default=str).encode())
    for path in project_files:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def upstream_sources(manifest: Mapping[str, Any], unique_id: str) -> set[str]:
    """The sources a node reads, directly or through the models and seeds above it."""
    parents, seen, found, stack = manifest["parent_map"], set(), set(), [unique_id]
    while stack:
        for parent in parents.get(stack.pop(), []):
            if parent in seen:
                continue
            seen.add(parent)
            if parent.startswith("source."):
                found.add(parent)
            else:
                stack.append(parent)
    return found


def source_relations(manifest: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Each source's (database, table) in ClickHouse (dbt-clickhouse's schema is the database)."""
    return {uid: (source["schema"], source["identifier"]) for uid, source in manifest["sources"].items()}


def source_fingerprints(warehouse, relations: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """`rows:hash-sum` of each source table (without its load stamps), or `missing`. One query per table."""
    columns: dict[tuple[str, str], list[str]] = {}
    databases = sorted({database for database, _ in relations.values()})
    for database, table, column in warehouse.query_rows(
        "SELECT database, table, name FROM system.columns WHERE database IN %(databases)s ORDER BY position",
        parameters={"databases": databases},
    ):
        if column not in LOAD_STAMP_COLUMNS:
            columns.setdefault((database, table), []).append(column)
    fingerprints = {}
    for unique_id, (database, table) in sorted(relations.items()):
        names = columns.get((database, table))
        if not names:
            fingerprints[unique_id] = "missing"
            continue
        row = ", ".join(f"`{name}`" for name in names)
        [(rows, hashes)] = warehouse.query_rows(
            f"SELECT count(), sum(cityHash64(tuple({row}))) FROM `{database}`.`{table}`"
        )
        fingerprints[unique_id] = f"{rows}:{hashes}"
    return fingerprints


@dataclass
class BuildState:
    """What was built, and on which raw rows: each model and seed by unique_id, with the fingerprints of the sources
    it reads."""

    models: dict[str, dict[str, str]] = field(default_factory=dict)  # models and seeds built
    built_by: dict[str, str] = field(default_factory=dict)  # model or seed -> the run that built it


def load_state(path: Path, project: str) -> BuildState:
    """The recorded state; empty when there is none or the project changed since."""
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return BuildState()
    if state.get("project") != project:
        return BuildState()
    return BuildState(state.get("models", {}), state.get("built_by", {}))


def save_state(path: Path, project: str, state: BuildState) -> None:
    """Written atomically: a temporary file of its own, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"project": project, "models": state.models, "built_by": state.built_by}
    handle, temporary = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as out:
            json.dump(document, out, sort_keys=True)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


@contextlib.contextmanager
def locked(path: Path, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """An exclusive `flock` on `<state file>.lock` for a read-change-write of the state, waited for at most
    `timeout_s` (released if its holder dies): two dbt steps at once (a warehouse server) each change only their
    own entries of the file as it is then."""
    path.parent.mkdir(parents=True, exist_ok=True)
    error = TimeoutError(f"the dbt build state {path} has been locked for over {timeout_s:.0f} s")
    with bounded_flock(path.with_name(path.name + ".lock"), timeout_s, error):
        yield


def _unchanged(
    manifest: Mapping[str, Any], recorded: Mapping[str, Mapping[str, str]], fingerprints: Mapping[str, str]
) -> list[str]:
    """The recorded nodes still in the project whose every upstream source has its recorded fingerprint."""
    out = []
    for unique_id, sources_then in recorded.items():
        if unique_id not in manifest["nodes"]:
            continue
        sources = upstream_sources(manifest, unique_id)
        if set(sources_then) == sources and all(fingerprints.get(s) == sources_then[s] for s in sources):
            out.append(unique_id)
    return sorted(out)


def relation_of(node: Mapping[str, Any]) -> tuple[str, str]:
    """A model's or seed's (database, table) in ClickHouse (dbt-clickhouse's schema is the database)."""
    return node["schema"], node.get("alias") or node["name"]


def models_to_leave_out(
    manifest: Mapping[str, Any],
    built: Mapping[str, Mapping[str, str]],
    fingerprints: Mapping[str, str],
    existing: set[tuple[str, str]],
) -> list[str]:
    """The models and seeds built last time on the same fingerprints of every source they read, whose relation still
    exists, and every model and seed upstream of which is left out too (one rebuilt upstream means this one is
    rebuilt on it), by unique_id, parents before children (Dagster takes a multi-asset's outputs in that order)."""
    nodes = manifest["nodes"]
    candidates = {
        uid
        for uid in _unchanged(manifest, built, fingerprints)
        if nodes[uid]["resource_type"] in ("model", "seed")
        and relation_of(nodes[uid]) in existing
        and not always_built(nodes[uid])
    }
    left_out = [uid for uid in candidates if _upstream_nodes(manifest, uid) <= candidates]
    # a node's count of models and seeds upstream exceeds each of its parents'
    return sorted(left_out, key=lambda uid: (len(_upstream_nodes(manifest, uid)), uid))


def always_built(node: Mapping[str, Any]) -> bool:
    """A model that reads something outside the warehouse (`meta: {importau_always_build: <why>}`)."""
    return bool(
        (node.get("config", {}).get("meta") or {}).get(ALWAYS_BUILD) or (node.get("meta") or {}).get(ALWAYS_BUILD)
    )


def _upstream_nodes(manifest: Mapping[str, Any], unique_id: str) -> set[str]:
    """The models and seeds a node reads, directly or through others."""
    parents, found, stack = manifest["parent_map"], set(), [unique_id]
    while stack:
        for parent in parents.get(stack.pop(), []):
            if parent.startswith(("model.", "seed.")) and parent not in found:
                found.add(parent)
                stack.append(parent)
    return found


def existing_relations(warehouse, databases: Iterable[str]) -> set[tuple[str, str]]:
    """(database, table) of every table and view in `databases`: one query."""
    rows = warehouse.query_rows(
        "SELECT database, name FROM system.tables WHERE database IN %(databases)s",
        parameters={"databases": sorted(set(databases))},
    )
    return {(database, name) for database, name in rows}


def forget(path: Path, project: str, unique_ids: Iterable[str]) -> BuildState:
    """Before a build: the state without the models and seeds it rebuilds, saved (under the lock, on the file as it
    is now), so a build that dies half-way leaves them unrecorded. A file recorded for another project is replaced
    by this project's (empty) state, so a later return to that project cannot trust a record its tables outlived."""
    gone = set(unique_ids)
    with locked(path):
        state = load_state(path, project)
        kept = BuildState(
            {uid: fp for uid, fp in state.models.items() if uid not in gone},
            {uid: run for uid, run in state.built_by.items() if uid not in gone},
        )
        save_state(path, project, kept)
    return kept


def record_results(
    path: Path,
    project: str,
    manifest: Mapping[str, Any],
    fingerprints: Mapping[str, str],
    built: Iterable[str],
    run_id: str,
) -> BuildState:
    """After a successful build: each model and seed built now (`built`: unique ids of the nodes dbt built
    successfully) joins the record with the fingerprints taken before the build (under the lock, on the file as it is
    now: what other steps recorded meanwhile stays). Returned."""
    with locked(path):
        state = load_state(path, project)
        for unique_id in built:
            if unique_id.startswith(("model.", "seed.")):
                sources = upstream_sources(manifest, unique_id)
                state.models[unique_id] = {s: fingerprints.get(s, "missing") for s in sources}
                state.built_by[unique_id] = run_id
        save_state(path, project, state)
    return state
