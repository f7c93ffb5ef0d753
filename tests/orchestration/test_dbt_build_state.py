"""The daily build leaves out the models and seeds built on the same inputs, and the tests reading only those
(orchestration/dbt_build_state.py): the selection on the project's real manifest, the raw tables' fingerprints on
chDB, then the real `dbt_models` step four times in its own process on a table, the views and seeds it reads and
their tests (untagged, as `transform`: all built and tested, and recorded; the daily tag, nothing changed: nothing
built, no test; a currency's closing rates gone: only what that raw table reaches, and every test reading it;
untagged again: everything, into the same rows)."""

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration import dbt_build_state as state
from orchestration.dbt_manifest import DBT_PROJECT_DIR

REPO = Path(__file__).resolve().parents[2]
VIEW = "model.importau.stg_bcb__sgs_observations"
SGS = "source.importau.bcb.bcb__sgs_observations"
# a table on two raw tables through views, and a seed: int_fx_closing_rates_unioned
TABLE = "model.importau.int_fx_closing_rates_unioned"
CLOSING_VIEW = "model.importau.stg_bcb__closing_rates"
CLOSING = "source.importau.bcb.bcb__closing_rates"
SEED = "seed.importau.bcb_currencies"


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


def test_results_record_what_was_built_keep_what_was_left_out_and_forget_before_a_build(tmp_path, manifest):
    path = tmp_path / "dbt_build_state.ci.json"
    project = state.project_fingerprint(manifest)
    state.save_state(
        path,
        project,
        state.BuildState(
            models={VIEW: {SGS: "old"}, SEED: {}, TABLE: {CLOSING: "old"}},
            built_by={VIEW: "run-0", SEED: "run-0", TABLE: "run-0"},
        ),
    )
    # before the build: what it rebuilds is forgotten (a build killed half-way leaves it unrecorded)
    forgotten = state.forget(path, project, [VIEW, TABLE])
    assert state.load_state(path, project) == forgotten and forgotten.models == {SEED: {}}
    # what dbt built: the view; the table failed, so the step saw no output for it (tests are never recorded)
    built = [_tests_of(manifest, VIEW)[0], VIEW]
    state.record_results(path, project, manifest, {SGS: "new"}, built, "run-1")
    loaded = state.load_state(path, project)
    assert loaded.models == {VIEW: {SGS: "new"}, SEED: {}}  # the seed was left out: kept as it was
    assert loaded.built_by == {VIEW: "run-1", SEED: "run-0"}
    assert state.load_state(path, "another project") == state.BuildState()
    assert state.load_state(tmp_path / "none.json", project) == state.BuildState()
    # another project's step forgets everything of this one: back on this project, nothing is trusted
    state.forget(path, "another project", [])
    assert state.load_state(path, project) == state.BuildState()
    assert not list(tmp_path.glob("*.tmp"))


def test_the_project_fingerprint_sees_the_vars_of_dbt_project_yml(tmp_path, manifest):
    project_yml = tmp_path / "dbt_project.yml"
    project_yml.write_text("vars:\n  reconciliation_date_window_days: 9\n")
    before = state.project_fingerprint(manifest, [project_yml])
    project_yml.write_text("vars:\n  reconciliation_date_window_days: 10\n")
    assert state.project_fingerprint(manifest, [project_yml]) != before


def test_a_model_reading_outside_the_warehouse_is_always_built_and_so_is_what_reads_it(manifest):
    """A model whose SQL calls a table function reading files or other systems (the cockpit's decisions through
    file()) must say so in its meta: the raw tables' fingerprints cannot see its input change."""
    import re

    outside = re.compile(r"\b(file|url|s3|s3Cluster|hdfs|remote|remoteSecure|mysql|postgresql|jdbc|odbc)\s*\(", re.I)
    nodes = manifest["nodes"]
    reading = {uid for uid, n in nodes.items() if n["resource_type"] == "model" and outside.search(n["raw_code"])}
    assert "model.importau.stg_cockpit__reconciliation_decisions" in reading
    assert all(state.always_built(nodes[uid]) for uid in reading), [
        u for u in reading if not state.always_built(nodes[u])
    ]
    models = [uid for uid, n in nodes.items() if n["resource_type"] in ("model", "seed")]
    built = {uid: {s: "1:1" for s in state.upstream_sources(manifest, uid)} for uid in models}
    now = {s: "1:1" for s in manifest["sources"]}
    existing = {state.relation_of(nodes[uid]) for uid in models}
    left_out = set(state.models_to_leave_out(manifest, built, now, existing))
    reconciliation = "model.importau.fct_payment_reconciliation"
    assert reading.isdisjoint(left_out) and reconciliation not in left_out
    assert "model.importau.fct_fx_rates_daily" in left_out  # the rest is left out on the same rows


def test_a_model_is_left_out_only_on_the_same_rows_with_its_relation_standing_and_its_parents_left_out(manifest):
    nodes = manifest["nodes"]
    chain = [TABLE, *sorted(state._upstream_nodes(manifest, TABLE))]
    assert SEED in chain and len(chain) == 5
    now = {s: "1:1" for s in state.upstream_sources(manifest, TABLE)}
    built = {uid: {s: now[s] for s in state.upstream_sources(manifest, uid)} for uid in chain}
    existing = {state.relation_of(nodes[uid]) for uid in chain}
    left_out = state.models_to_leave_out(manifest, built, now, existing)
    assert sorted(left_out) == sorted(chain) and left_out[-1] == TABLE  # parents first
    # a row fewer in the closing rates: its view and the table are rebuilt, the PTAX side and the seed are not
    fewer = {**now, CLOSING: "0:0"}
    assert sorted(state.models_to_leave_out(manifest, built, fewer, existing)) == sorted(
        uid for uid in chain if uid not in (TABLE, CLOSING_VIEW)
    )
    # the table itself dropped: rebuilt, though its rows would be the same
    assert TABLE not in state.models_to_leave_out(manifest, built, now, existing - {state.relation_of(nodes[TABLE])})
    # a parent never recorded (it failed last time): the table is rebuilt too
    partial = {uid: fp for uid, fp in built.items() if uid != CLOSING_VIEW}
    assert TABLE not in state.models_to_leave_out(manifest, partial, now, existing)


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


def test_a_test_reading_a_rebuilt_model_and_a_left_out_one_still_runs(tmp_path, manifest):
    """`dbt ls` with the step's arguments: the relationships test from the table (rebuilt) to the currencies (left out)
    stays selected, the currencies' own tests go with it; dbt's default `eager` would drop the relationships test."""
    from orchestration.dbt_manifest import dbt_executable
    from orchestration.defs.dbt import leave_out_args
    from tests.dbt.dbt_harness import dbt_env

    def tests_listed(*extra: str) -> set[str]:
        command = [dbt_executable(), "ls", "--resource-type", "test", "--output", "name", "-q"]
        command += ["--select", "int_fx_closing_rates_unioned stg_reference__bcb_currencies", *extra]
        done = subprocess.run(
            command, cwd=DBT_PROJECT_DIR, env=dbt_env(tmp_path), capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return set(done.stdout.split())

    everything = tests_listed()
    relationships = {t for t in everything if t.startswith("relationships_int_fx_closing_rates_unioned_currency")}
    own = ("not_null_", "unique_", "accepted_values_")
    currencies_own = {t for t in everything if t.startswith(tuple(f"{k}stg_reference__bcb_currencies_" for k in own))}
    assert len(relationships) == 1 and currencies_own, everything
    left_out = tests_listed(*leave_out_args(["stg_reference__bcb_currencies"]))
    assert relationships <= left_out and not currencies_own & left_out, left_out
    assert not relationships & tests_listed("--exclude", "stg_reference__bcb_currencies")  # eager


STEP = """
import json, sys
import dagster as dg
from ingestion.common.warehouse import open_warehouse
from orchestration.dbt_build_state import BUILD_TAG, CHANGED
from orchestration.defs.dbt import dbt_models, dbt_project
from orchestration.dbt_manifest import dbt_executable
from orchestration.resources.dbt_cli import DbtCli
from orchestration.resources.warehouse import ClickHouseResource

data_dir = sys.argv[1]
resources = {
    "dbt": DbtCli(project_dir=dbt_project, dbt_executable=dbt_executable()),
    "warehouse": ClickHouseResource(data_dir=data_dir),
}
keys = [
    dg.AssetKey(key)
    for key in (
        ["intermediate", "int_fx_closing_rates_unioned"],
        ["staging", "stg_bcb__closing_rates"],
        ["staging", "stg_bcb__ptax_quotes"],
        ["staging", "stg_reference__bcb_currencies"],
        ["raw", "bcb_currencies"],
        # the calendar, which a test of the table reads
        ["marts", "dim_calendar"],
        ["intermediate", "int_calendar_days_flagged"],
        ["staging", "stg_reference__br_holidays"],
        ["raw", "br_holidays_anbima_b3"],
    )
]
out = []
instance = dg.DagsterInstance.ephemeral()  # one instance for the four runs, as a deployment has
for step in ("first, untagged", "again", "fewer rows", "again, untagged"):
    if step == "fewer rows":
        with open_warehouse(None, data_dir, owner="test") as wh:
            # CNY comes from the closing file only (no PTAX bulletin of it among the fixtures): the table changes
            wh.command("DELETE FROM raw.bcb__closing_rates WHERE currency = 'CNY'")
    tags = {} if step.endswith("untagged") else {BUILD_TAG: CHANGED}  # `transform` records, the daily leaves out
    result = dg.materialize([dbt_models], selection=keys, resources=resources, tags=tags, instance=instance)
    evaluations = [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    rebuilt = {
        e.asset_key.path[-1]: e.step_materialization_data.materialization.metadata.get("importau/rebuilt") is None
        for e in result.get_asset_materialization_events()
    }
    counts = {
        e.asset_key.path[-1]: getattr(
            e.step_materialization_data.materialization.metadata.get("dagster/row_count"), "value", None
        )
        for e in result.get_asset_materialization_events()
    }
    with open_warehouse(None, data_dir, owner="test") as wh:
        [table] = wh.query_rows(
            "SELECT count(), sum(cityHash64(*)) FROM intermediate.int_fx_closing_rates_unioned"
        )
    out.append(
        {
            "step": step,
            "success": result.success,
            "checks": sorted(e.event_specific_data.check_name for e in evaluations),
            "rebuilt": rebuilt,
            "row_counts": counts,
            "table": list(table),
        }
    )
print(json.dumps(out))
"""


def test_the_daily_dbt_step_builds_and_tests_only_what_changed_raw_rows_reach(tmp_path, manifest):
    from tests.dbt.dbt_harness import dbt_env, load_raw

    load_raw(tmp_path)
    env = dbt_env(tmp_path)
    env["DBT_TARGET_PATH"] = str(tmp_path / "dbt_target")
    # only the tests of these nodes, not those that also read others (the daily steps pass `buildable` themselves)
    env["DBT_INDIRECT_SELECTION"] = "cautious"
    completed = subprocess.run(
        [sys.executable, "-c", STEP, str(tmp_path)], env=env, cwd=REPO, capture_output=True, text=True, timeout=900
    )
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-6000:]
    first, again, fewer, untagged = json.loads(completed.stdout.strip().splitlines()[-1])
    for step in (first, again, fewer, untagged):
        assert step["success"], step
    names = ["int_fx_closing_rates_unioned", "stg_bcb__closing_rates", "stg_bcb__ptax_quotes"]
    names += ["stg_reference__bcb_currencies", "bcb_currencies"]
    names += ["dim_calendar", "int_calendar_days_flagged", "stg_reference__br_holidays", "br_holidays_anbima_b3"]
    # every step reports all nine assets materialized; the daily ones say which were rebuilt
    assert first["rebuilt"] == untagged["rebuilt"] == dict.fromkeys(names, True), (first, untagged)
    assert again["rebuilt"] == dict.fromkeys(names, False), again  # nothing changed: nothing built
    # what was left out carries its last build's row count, as the UI shows it
    assert again["row_counts"] == first["row_counts"] and first["row_counts"]["bcb_currencies"] > 0, again
    reached = {"int_fx_closing_rates_unioned", "stg_bcb__closing_rates"}  # what the closing rates reach
    assert fewer["rebuilt"] == {name: name in reached for name in names}, fewer
    # tests: all on the first build, none again, then those reading a rebuilt model: the closing rates' and the
    # table's, among them those that also read a left-out model (the calendar, the currencies)
    by_name = {node["name"]: uid for uid, node in manifest["nodes"].items() if node["resource_type"] == "test"}
    assert len(first["checks"]) > 10 and again["checks"] == [], (first, again)
    expected = [c for c in first["checks"] if CLOSING in state.upstream_sources(manifest, by_name[c])]
    assert fewer["checks"] == expected and 0 < len(expected) < len(first["checks"]), fewer
    assert any(c.startswith("relationships_int_fx_closing_rates_unioned_currency") for c in expected)
    # the table left as the daily build left it is the one a full build makes of the same rows
    assert again["table"] == first["table"] and fewer["table"][0] < first["table"][0]
    assert untagged["table"] == fewer["table"]
    assert (tmp_path / "dbt_build_state.ci.json").exists()
    # dbt ran with --no-write-json: the record above came from the steps' events, and no step wrote dbt's artifacts
    invocations = [path for path in (tmp_path / "dbt_target").iterdir() if path.name.startswith("dbt_models-")]
    assert len(invocations) == 4, invocations
    written = {path.name for folder in invocations for path in folder.iterdir()}
    assert not written & {"manifest.json", "run_results.json", "graph.gpickle"}, written


def test_a_held_state_lock_is_waited_for_within_its_bound(tmp_path):
    path = tmp_path / "dbt_build_state.ci.json"
    with state.locked(path):  # another step holding it
        with pytest.raises(TimeoutError, match="locked for over"), state.locked(path, timeout_s=0.3):
            pass
    with state.locked(path, timeout_s=0.3):  # released: taken at once
        state.save_state(path, "p", state.BuildState({"model.x": {}}, {"model.x": "run"}))
    assert state.load_state(path, "p").built_by == {"model.x": "run"}
