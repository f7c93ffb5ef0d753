"""Which dbt data tests a daily build may leave out: those that passed on exactly the inputs they would read now.

Every model of the project is a function of the raw tables (dbt sources), the seeds and the code: none reads
today() (the treasury and recommendation marts end where the data ends, int_treasury_data_as_of). So a data test
that passed, with the project unchanged and every raw table upstream of it holding the same rows, passes again on
the rebuilt models. Every `dbt_models` step records, after a build that succeeded, each test that passed with the
fingerprints (taken before the build) of the raw tables it reads; under the run tag `importau/dbt_tests: changed`
(the `transform_daily` job) the step also leaves such tests out (`--exclude`: the models are all built as usual),
so a daily build after the year's `transform` runs only what changed. Everything else runs: a test that
warned, failed or never ran, one with a raw table upstream that changed, and every test once anything in the
project changed (models, tests, macros, seeds, sources: one fingerprint of the manifest).

A raw table's fingerprint is its row count and the sum of its row hashes without `_loaded_at`, so a raw load that
replaces a partition with the same rows is no change; a table that does not exist is `missing`. The state is a JSON
file beside the warehouse's data (`<data dir>/dbt_tests_passed.<target>.json`, written atomically); without it (a
new machine, a pod's empty disk) every test runs. Pure: no dagster import (orchestration/defs/dbt.py wires it).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

TESTS_TAG = "importau/dbt_tests"  # "changed": leave out the tests that passed on the same inputs
CHANGED = "changed"
LOAD_STAMP_COLUMNS = ("_loaded_at",)  # when a row was loaded, not what it says
# manifest fields that change with every parse or with the machine, not with what a node computes
VOLATILE = ("created_at", "root_path", "build_path", "compiled_path", "deferred", "_event_status")


def state_path(data_dir: str | os.PathLike, target: str) -> Path:
    return Path(data_dir) / f"dbt_tests_passed.{target}.json"


def project_fingerprint(manifest: Mapping[str, Any]) -> str:
    """One hash of what the project computes: every node (models, seeds, tests, snapshots), source and macro as
    the manifest describes them, without the fields that change with each parse."""

    def stable(entry: Mapping[str, Any]) -> dict:
        return {key: value for key, value in entry.items() if key not in VOLATILE}

    digest = hashlib.sha256()
    for section in ("nodes", "sources", "macros"):
        for unique_id in sorted(manifest.get(section, {})):
            entry = stable(manifest[section][unique_id])
            digest.update(json.dumps([unique_id, entry], sort_keys=True, default=str).encode())
    digest.update(json.dumps(manifest.get("metadata", {}).get("project_name"), default=str).encode())
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


def load_state(path: Path, project: str) -> dict[str, dict[str, str]]:
    """test unique_id -> the fingerprints of its sources when it last passed; {} when the project changed since."""
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return state.get("tests", {}) if state.get("project") == project else {}


def tests_to_leave_out(
    manifest: Mapping[str, Any], passed: Mapping[str, Mapping[str, str]], fingerprints: Mapping[str, str]
) -> list[str]:
    """The data tests that passed last time on the same fingerprints of every source they read, by name."""
    out = []
    for unique_id, recorded in passed.items():
        node = manifest["nodes"].get(unique_id)
        if node is None or node["resource_type"] != "test":
            continue
        sources = upstream_sources(manifest, unique_id)
        if set(recorded) == sources and all(fingerprints.get(s) == recorded[s] for s in sources):
            out.append(node["name"])
    return sorted(out)


def record_results(
    path: Path,
    project: str,
    manifest: Mapping[str, Any],
    previous: Mapping[str, Mapping[str, str]],
    fingerprints: Mapping[str, str],
    results: Iterable[Mapping[str, Any]],
) -> dict[str, dict[str, str]]:
    """After a successful build: the tests that passed now (with the fingerprints taken before the build) join the
    ones left out (kept as recorded); a test that warned or failed is dropped. Written atomically; returned."""
    tests = {uid: dict(sources) for uid, sources in previous.items()}
    for result in results:
        unique_id = result.get("unique_id", "")
        if not unique_id.startswith("test."):
            continue
        if result.get("status") == "pass":
            tests[unique_id] = {s: fingerprints.get(s, "missing") for s in upstream_sources(manifest, unique_id)}
        else:
            tests.pop(unique_id, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps({"project": project, "tests": tests}, sort_keys=True))
    os.replace(temporary, path)
    return tests
