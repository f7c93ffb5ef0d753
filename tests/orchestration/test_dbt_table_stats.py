"""Every dbt model's materialization carries `dagster/row_count` and a preview (orchestration/dbt_table_stats.py):
the pieces on the session's chDB warehouse, then the real `dbt_models` step in its own process."""

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg

from orchestration.dbt_table_stats import Relation, model_relations, table_stats, with_table_stats

REPO = Path(__file__).resolve().parents[2]


def test_tables_and_views_get_counts_and_previews_and_a_slow_view_is_skipped_with_its_reason(warehouse):
    warehouse.command("CREATE TABLE marts.ts_fct (id Int32, amount Decimal(18, 2)) ENGINE = MergeTree ORDER BY id")
    warehouse.command("INSERT INTO marts.ts_fct SELECT number, number * 1.5 FROM numbers(12)")
    warehouse.command("CREATE VIEW staging.ts_view AS SELECT id FROM marts.ts_fct WHERE id % 2 = 0")
    warehouse.command("CREATE VIEW staging.ts_empty AS SELECT id FROM marts.ts_fct WHERE id < 0")
    # A view that cannot answer in time: hashing a trillion numbers.
    warehouse.command("CREATE VIEW staging.ts_slow AS SELECT sum(cityHash64(number)) AS h FROM numbers(1000000000000)")
    try:
        table = table_stats(warehouse, Relation("marts", "ts_fct", "table"))
        assert table["dagster/row_count"] == 12
        assert "| id | amount |" in table["preview"].value and "| 4 | 6.00 |" in table["preview"].value
        view = table_stats(warehouse, Relation("staging", "ts_view", "view"))
        assert view["dagster/row_count"] == 6  # the count of the whole view, beside its first 5 rows
        assert view["preview"].value.startswith("| id |\n") and view["preview"].value.count("\n") == 6
        empty = table_stats(warehouse, Relation("staging", "ts_empty", "view"))
        assert empty["dagster/row_count"] == 0 and empty["preview"].value == "_no rows_"
        slow = table_stats(warehouse, Relation("staging", "ts_slow", "view"), view_seconds=1)
        assert "dagster/row_count" not in slow
        assert slow["row_count_skipped"].startswith("view `staging`.`ts_slow`: ")
    finally:
        for name in ("staging.ts_slow", "staging.ts_empty", "staging.ts_view", "marts.ts_fct"):
            warehouse.command(f"DROP TABLE IF EXISTS {name} SYNC")


def test_events_without_a_known_model_pass_through_unchanged(warehouse):
    from contextlib import nullcontext

    check = dg.AssetCheckResult(asset_key=dg.AssetKey(["marts", "x"]), check_name="c", passed=True)
    unknown = dg.Output(None, output_name="x", metadata={"unique_id": "model.importau.gone"})
    events = list(with_table_stats([check, unknown], {}, lambda: nullcontext(warehouse), embedded=True))
    assert events == [check, unknown]


def test_every_model_and_seed_of_the_manifest_has_a_relation():
    from orchestration.dbt_manifest import DBT_PROJECT_DIR

    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    nodes = json.loads(manifest.read_text())["nodes"]
    relations = model_relations(json.loads(manifest.read_text()))
    wanted = {uid for uid, node in nodes.items() if node["resource_type"] in ("model", "seed")}
    assert set(relations) == wanted and len(wanted) > 80
    assert relations["seed.importau.bcb_currencies"] == Relation("raw", "bcb_currencies", "seed")


STEP = """
import json, sys
import dagster as dg
from dagster_dbt import DbtCliResource
from ingestion.common.warehouse import open_warehouse
from orchestration.defs.dbt import dbt_models, dbt_project
from orchestration.dbt_manifest import dbt_executable
from orchestration.resources.warehouse import ClickHouseResource

data_dir = sys.argv[1]
keys = [dg.AssetKey(["raw", "bcb_currencies"]), dg.AssetKey(["staging", "stg_reference__bcb_currencies"])]
result = dg.materialize(
    [dbt_models],
    selection=keys,
    resources={
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
        "warehouse": ClickHouseResource(data_dir=data_dir),
    },
    raise_on_error=False,  # relationship tests to models outside the selection fail; the two nodes build
)
out = {"success": result.success}
for event in result.get_asset_materialization_events():
    meta = event.materialization.metadata
    out["/".join(event.asset_key.path)] = {
        "row_count": meta["dagster/row_count"].value if "dagster/row_count" in meta else None,
        "preview": meta["preview"].value if "preview" in meta else None,
    }
with open_warehouse(None, data_dir, owner="check") as wh:
    out["seed_rows"] = wh.query_rows("SELECT count() FROM raw.bcb_currencies")[0][0]
    out["view_rows"] = wh.query_rows("SELECT count() FROM staging.stg_reference__bcb_currencies")[0][0]
print(json.dumps(out))
"""


def test_the_dbt_step_puts_row_counts_and_previews_on_what_it_built_even_when_a_test_fails(tmp_path):
    from tests.dbt.dbt_harness import dbt_env

    env = dbt_env(tmp_path)
    env["DBT_TARGET_PATH"] = str(tmp_path / "dbt_target")  # not dbt_project/target
    completed = subprocess.run(
        [sys.executable, "-c", STEP, str(tmp_path)], env=env, cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-6000:]
    out = json.loads(completed.stdout.strip().splitlines()[-1])
    assert out["seed_rows"] > 0 and out["view_rows"] > 0, out
    # The step failed (a relationship test reaches a model outside the selection): what dbt built is reported all
    # the same, with its numbers, before the error.
    assert out["success"] is False
    assert out.get("raw/bcb_currencies", {}).get("row_count") == out["seed_rows"], out
    assert out["staging/stg_reference__bcb_currencies"]["row_count"] == out["view_rows"]
    for key in ("raw/bcb_currencies", "staging/stg_reference__bcb_currencies"):
        assert out[key]["preview"].startswith("| "), out[key]
