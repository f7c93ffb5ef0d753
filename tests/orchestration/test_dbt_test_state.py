"""The daily build leaves out the data tests that passed on the same inputs (orchestration/dbt_test_state.py): the
selection on the project's real manifest, the raw tables' fingerprints on chDB, then the real `dbt_models` step
three times in its own process (untagged, as `transform`: all five tests of a staging view run and are recorded;
the daily tag, nothing changed: none runs; one raw row more: all five run again)."""

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration import dbt_test_state as state
from orchestration.dbt_manifest import DBT_PROJECT_DIR

REPO = Path(__file__).resolve().parents[2]
VIEW = "model.importau.stg_bcb__sgs_observations"
SGS = "source.importau.bcb.bcb__sgs_observations"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())


def _tests_of(manifest: dict, model: str) -> list[str]:
    return sorted(uid for uid in manifest["child_map"][model] if uid.startswith("test."))


def test_the_project_fingerprint_ignores_parse_stamps_and_sees_any_change_to_a_test_model_or_macro(manifest):
    before = state.project_fingerprint(manifest)
    reparsed = copy.deepcopy(manifest)
    for node in reparsed["nodes"].values():
        node["created_at"] = node.get("created_at", 0) + 3600
    assert state.project_fingerprint(reparsed) == before
    test = _tests_of(manifest, VIEW)[0]
    for section, unique_id, field in (
        ("nodes", test, "test_metadata"),
        ("nodes", VIEW, "raw_code"),
        ("macros", next(iter(manifest["macros"])), "macro_sql"),
    ):
        changed = copy.deepcopy(manifest)
        changed[section][unique_id][field] = f"{changed[section][unique_id][field]} -- changed"
        assert state.project_fingerprint(changed) != before, (section, field)


def test_a_test_is_left_out_only_when_it_passed_on_the_same_rows_of_every_source_it_reads(manifest):
    tests = _tests_of(manifest, VIEW)
    assert len(tests) == 5 and all(state.upstream_sources(manifest, t) == {SGS} for t in tests)
    names = sorted(manifest["nodes"][t]["name"] for t in tests)
    now = {SGS: "10:123"}
    passed = {t: {SGS: "10:123"} for t in tests}
    assert state.tests_to_leave_out(manifest, passed, now) == names
    assert state.tests_to_leave_out(manifest, passed, {SGS: "11:456"}) == []  # a row more
    assert state.tests_to_leave_out(manifest, {t: {} for t in tests}, now) == []  # recorded with other sources
    assert state.tests_to_leave_out(manifest, {}, now) == []  # never passed
    # a mart's test reads many sources: one of them changing is enough to run it
    mart_test = next(
        t for t in manifest["nodes"] if t.startswith("test.") and len(state.upstream_sources(manifest, t)) > 3
    )
    sources = state.upstream_sources(manifest, mart_test)
    fingerprints = {s: "1:1" for s in sources}
    recorded = {mart_test: dict(fingerprints)}
    assert state.tests_to_leave_out(manifest, recorded, fingerprints) == [manifest["nodes"][mart_test]["name"]]
    assert state.tests_to_leave_out(manifest, recorded, {**fingerprints, sorted(sources)[0]: "2:2"}) == []


def test_results_record_what_passed_drop_what_warned_and_keep_what_was_left_out(tmp_path, manifest):
    one, two, three = _tests_of(manifest, VIEW)[:3]
    path = tmp_path / "dbt_tests_passed.ci.json"
    project = state.project_fingerprint(manifest)
    previous = {two: {SGS: "old"}, three: {SGS: "old"}}
    results = [
        {"unique_id": one, "status": "pass"},
        {"unique_id": two, "status": "warn"},
        {"unique_id": VIEW, "status": "success"},
    ]
    state.record_results(path, project, manifest, previous, {SGS: "new"}, results)
    assert state.load_state(path, project) == {one: {SGS: "new"}, three: {SGS: "old"}}
    assert state.load_state(path, "another project") == {}
    assert state.load_state(tmp_path / "none.json", project) == {}


def test_a_raw_tables_fingerprint_is_its_rows_not_when_they_were_loaded(warehouse):
    warehouse.command("CREATE DATABASE IF NOT EXISTS ts_fp")
    warehouse.command(
        "CREATE TABLE ts_fp.t (id Int32, v Nullable(String), amount Decimal(18, 2), _loaded_at DateTime64(3, 'UTC')) "
        "ENGINE = MergeTree ORDER BY id"
    )
    relations = {"source.x.t": ("ts_fp", "t"), "source.x.gone": ("ts_fp", "gone")}

    def load(rows: str, loaded_at: str) -> dict:
        warehouse.command("TRUNCATE TABLE ts_fp.t")
        warehouse.command(f"INSERT INTO ts_fp.t SELECT *, toDateTime64('{loaded_at}', 3, 'UTC') FROM values({rows})")
        return state.source_fingerprints(warehouse, relations)

    try:
        first = load("(1, NULL, 1.50), (2, 'a', 2.00)", "2024-12-01 10:00:00")
        assert first["source.x.gone"] == "missing" and first["source.x.t"].startswith("2:")
        assert load("(2, 'a', 2.00), (1, NULL, 1.50)", "2024-12-02 09:00:00") == first  # reloaded, same rows
        assert load("(1, '', 1.50), (2, 'a', 2.00)", "2024-12-01 10:00:00") != first  # NULL -> ''
        assert load("(1, NULL, 1.51), (2, 'a', 2.00)", "2024-12-01 10:00:00") != first  # a cent
    finally:
        warehouse.command("DROP DATABASE IF EXISTS ts_fp SYNC")


STEP = """
import json, sys
import dagster as dg
from dagster_dbt import DbtCliResource
from ingestion.common.warehouse import open_warehouse
from orchestration.dbt_test_state import CHANGED, TESTS_TAG
from orchestration.defs.dbt import dbt_models, dbt_project
from orchestration.dbt_manifest import dbt_executable
from orchestration.resources.warehouse import ClickHouseResource

data_dir = sys.argv[1]
resources = {
    "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    "warehouse": ClickHouseResource(data_dir=data_dir),
}
keys = [dg.AssetKey(["staging", "stg_bcb__sgs_observations"])]
out = []
for step in ("first, untagged", "again", "a row more"):
    if step == "a row more":
        with open_warehouse(None, data_dir, owner="test") as wh:
            wh.command(
                "INSERT INTO raw.bcb__sgs_observations (series_code, reference_date, value) "
                "VALUES (99999, '2024-12-31', 1.5)"
            )
    tags = {} if step.endswith("untagged") else {TESTS_TAG: CHANGED}  # `transform` records, the daily leaves out
    result = dg.materialize([dbt_models], selection=keys, resources=resources, tags=tags)
    evaluations = [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    checks = [e.event_specific_data.check_name for e in evaluations]
    out.append({"step": step, "success": result.success, "checks": sorted(checks)})
print(json.dumps(out))
"""


def test_the_dbt_step_runs_a_views_tests_again_only_when_its_raw_rows_changed(tmp_path):
    from tests.dbt.dbt_harness import dbt_env, load_raw

    load_raw(tmp_path)
    env = dbt_env(tmp_path)
    env["DBT_TARGET_PATH"] = str(tmp_path / "dbt_target")
    completed = subprocess.run(
        [sys.executable, "-c", STEP, str(tmp_path)], env=env, cwd=REPO, capture_output=True, text=True, timeout=900
    )
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-6000:]
    first, again, changed = json.loads(completed.stdout.strip().splitlines()[-1])
    assert first["success"] and again["success"] and changed["success"], (first, again, changed)
    assert len(first["checks"]) == 5, first
    assert again["checks"] == [], again  # passed on the same rows: left out
    assert changed["checks"] == first["checks"], changed
    assert (tmp_path / "dbt_tests_passed.ci.json").exists()
