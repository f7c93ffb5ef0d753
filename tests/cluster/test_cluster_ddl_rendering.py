"""Cluster mode (CLICKHOUSE_CLUSTER): every DDL statement the platform issues, rendered and checked.

No ClickHouse cluster or Keeper can run here, so the platform runs for real on chDB through a recorder
(render_cluster_ddl.py) that keeps each statement as sent in cluster mode and executes a single-node copy:
the raw loader for every raw table (create, side table, load, REPLACE PARTITION, DROP PARTITION, drop), the ML
scores tables, the dbt leftovers clean-up, and `importau-dbt build` of every seed and model (then the incremental
models again, their incremental path). Each recorded statement must parse (chDB's `formatQuery`) and follow the
rules of ingestion/common/table_layout.py: structure changes ON CLUSTER, only Replicated MergeTree engines (one
group per shard only under a Distributed mart), data changes only on replicated tables, and exactly the two
per-transaction marts Distributed with their sharding keys.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.cluster.render_cluster_ddl import CLUSTER, localize
from tests.dbt.dbt_harness import PROJECT_DIR, dbt_env

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DISTRIBUTED = {  # dbt_project.yml, marts: the per-transaction marts and their sharding keys
    "marts.fct_import_landed_cost": "cityHash64(declaration_id)",
    "marts.fct_payment_reconciliation": "cityHash64(reconciliation_id)",
}
PATH_ALL = "'/clickhouse/tables/{uuid}/all', '{replica}'"
PATH_SHARD = "'/clickhouse/tables/{uuid}/{shard}', '{replica}'"
ON_CLUSTER = f" ON CLUSTER {CLUSTER}"
_CREATE = re.compile(
    r"^CREATE (?:OR REPLACE )?(TEMPORARY )?(TABLE|VIEW|DATABASE) (?:IF NOT EXISTS )?([\w.`\"]+)", re.IGNORECASE
)
_ENGINE = re.compile(r"\nENGINE = (\w+)(?:\(([^\n]*)\))?[ \t]*(?:\n|$)")
_AS_TABLE = re.compile(r" AS ([\w.`\"]+)\s*(?:\nENGINE|$)")
PROBE = "__dbt_exchange_test_"  # dbt/adapters/clickhouse/dbclient.py `_check_atomic_exchange`
DATA_ALTERS = ("REPLACE PARTITION", "DROP PARTITION", "DELETE WHERE", "UPDATE ")


def _name(text: str) -> str:
    return text.replace("`", "").replace('"', "")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> list[dict]:
    data_dir = tmp_path_factory.mktemp("cluster_ddl")
    env = dbt_env(data_dir)  # only this data dir: no developer warehouse, no server
    loader_log = data_dir / "loader.json"
    done = subprocess.run(
        [sys.executable, str(HERE / "render_cluster_ddl.py"), "loader", str(data_dir / "warehouse"), str(loader_log)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # Then real rows (the BCB values and the demo company's ERP, as the dbt tests load them), so dbt's second
    # run of the incremental marts has months to replace (its REPLACE PARTITION is rendered too).
    for fixture, target in (("raw_fixtures.py", data_dir / "warehouse"), ("erp_raw_fixtures.py", data_dir)):
        done = subprocess.run(
            [sys.executable, str(REPO / "tests" / "dbt" / fixture), str(target)],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-3000:]
    # The committed ci target plus the prod target's `cluster` line, as it is in profiles.yml.
    profiles = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())
    outputs = profiles["importau"]["outputs"]
    outputs["ci"]["cluster"] = outputs["prod"]["cluster"]
    profiles_dir = data_dir / "profiles"
    profiles_dir.mkdir()
    (profiles_dir / "profiles.yml").write_text(yaml.safe_dump(profiles))
    env.update(
        CLICKHOUSE_CLUSTER=CLUSTER,
        DBT_TARGET_PATH=str(data_dir / "dbt_target"),
        DBT_LOG_PATH=str(data_dir / "dbt_logs"),
        DBT_USE_COLORS="false",
    )
    entries = json.loads(loader_log.read_text())
    keep = os.environ.get("IMPORTAU_KEEP_RENDERED_DDL")  # a path: write every rendered statement there to read
    for step, args in (
        ("build", ["build", "--exclude", "resource_type:test", "resource_type:unit_test"]),
        ("incremental", ["run", "--select", "config.materialized:incremental"]),
    ):
        log = data_dir / f"dbt_{step}.json"
        command = [sys.executable, str(HERE / "render_cluster_ddl.py"), "dbt", str(log), *args]
        command += ["--target", "ci", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(profiles_dir)]
        done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
        entries += json.loads(log.read_text())
    if keep:
        Path(keep).write_text(json.dumps(entries, indent=1))
    return entries


def test_localize_makes_single_node_statements():
    sql = (
        'create table `marts`.`x` on cluster "c" (a Int8) engine = '
        "ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/all', '{replica}', v) order by a"
    )
    assert localize(sql) == "create table `marts`.`x` (a Int8) engine = ReplacingMergeTree(v) order by a"
    assert localize("CREATE TABLE m.x ON CLUSTER c AS m.x_local ENGINE = Distributed('c', 'm', 'x_local', h(k))") == (
        "CREATE TABLE m.x AS m.x_local"
    )


def test_every_statement_parses(rendered):
    refused = [(entry["source"], entry["sql"][:300], entry["error"]) for entry in rendered if entry["error"]]
    assert not refused
    sources = {entry["source"] for entry in rendered}
    assert {"warehouse", "dbt", "dbt leftovers"} <= sources
    assert {source.split()[0] for source in sources} >= {"raw_load", "scores"}


def test_every_statement_follows_the_cluster_rules(rendered):
    engines: dict[str, str] = {}  # table -> engine text, as the statements so far left it
    distributed: dict[str, str] = {}
    broken = []
    for entry in rendered:
        sql = entry["formatted"]
        kind = sql.split(None, 1)[0].upper()
        where = f"{entry['source']}: {sql[:200]}"
        created = _CREATE.match(sql)
        if created and created.group(1):  # a session's temporary table: one node by definition
            continue
        if PROBE in sql:  # dbt-clickhouse's connection check: can THIS node EXCHANGE? (created, swapped, dropped)
            continue
        if kind in ("CREATE", "DROP", "EXCHANGE", "RENAME") or (kind == "ALTER" and not _data_alter(sql)):
            if ON_CLUSTER not in sql:
                broken.append(f"no ON CLUSTER: {where}")
        if created and created.group(2).upper() == "TABLE":
            name = _name(created.group(3))
            engine = _ENGINE.search(sql)
            if engine and engine.group(1) == "Distributed":
                args = [part.strip() for part in engine.group(2).split(",", 3)]
                distributed[name] = args[3] if len(args) > 3 else ""
                if args[:3] != [f"'{CLUSTER}'", f"'{name.split('.')[0]}'", f"'{name.split('.')[1]}_local'"]:
                    broken.append(f"Distributed over the wrong table: {where}")
                engines[name] = "Distributed"
            elif engine:
                engines[name] = f"{engine.group(1)}({engine.group(2) or ''})"
                broken += _engine_problems(name, engines[name], where)
            else:
                source = _AS_TABLE.search(sql)
                if not source or _name(source.group(1)) not in engines:
                    broken.append(f"a table without an engine, not copied from a known table: {where}")
                else:
                    engines[name] = engines[_name(source.group(1))]
        elif kind == "EXCHANGE":
            first, second = (_name(part) for part in re.findall(r"TABLES ([\w.`]+) AND ([\w.`]+)", sql)[0])
            engines[first], engines[second] = engines.get(second, "?"), engines.get(first, "?")
        elif kind in ("TRUNCATE", "DELETE") or (kind == "ALTER" and _data_alter(sql)):
            table = _name(re.search(r"(?:TABLE|FROM) (?:IF EXISTS )?([\w.`]+)", sql).group(1))
            if not engines.get(table, "").startswith("Replicated"):
                broken.append(f"a data change on a table not known to be replicated ({engines.get(table)}): {where}")
    assert not broken, "\n".join(broken[:20])
    assert distributed == DISTRIBUTED


def test_the_incremental_marts_replace_their_months_on_the_replicated_table(rendered):
    swaps = [
        entry["formatted"]
        for entry in rendered
        if entry["source"] == "dbt" and "REPLACE PARTITION" in entry["formatted"]
    ]
    assert any("marts.fct_fx_exposure_daily" in swap for swap in swaps), swaps


def test_every_table_of_the_platform_is_created_replicated(rendered):
    created = {
        _name(found.group(3))
        for entry in rendered
        if (found := _CREATE.match(entry["formatted"])) and found.group(2).upper() == "TABLE" and not found.group(1)
    }
    manifest = json.loads((PROJECT_DIR / "target" / "manifest.json").read_text())
    tables = {
        f"{node['schema']}.{node['alias'] or node['name']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed") and node["config"]["materialized"] != "view"
    }
    assert tables - created == set()  # every dbt table and seed (the incremental ones, the marts)
    assert {"raw.bcb__ptax_quotes", "raw.erp__payables", "ml.fx_forecast__scores"} <= created
    assert {f"{name}_local" for name in DISTRIBUTED} <= created


def _data_alter(sql: str) -> bool:
    body = sql.split("\n", 1)[-1].upper()
    return any(word in body for word in DATA_ALTERS) and ON_CLUSTER not in sql.split("\n", 1)[0]


def _engine_problems(name: str, engine: str, where: str) -> list[str]:
    if not engine.startswith("Replicated") or "MergeTree" not in engine:
        return [f"not a Replicated MergeTree ({engine}): {where}"]
    local_of_distributed = any(name.startswith(f"{table}_local") for table in DISTRIBUTED)
    expected = PATH_SHARD if local_of_distributed else PATH_ALL
    if f"({expected}" not in engine:
        return [f"replica path {engine} is not {expected}: {where}"]
    return []


def test_single_node_statements_are_unchanged(tmp_path):
    """The switches unset: the loader's statements are the ones it always wrote (byte for byte)."""
    import pyarrow as pa

    from ingestion.common.raw_load import raw_columns, raw_table_ddl, side_table_ddl

    schema = pa.schema([pa.field("code", pa.string(), nullable=False), pa.field("day", pa.date32())])
    assert raw_table_ddl("t", raw_columns(schema), ["code"]) == (
        "CREATE TABLE IF NOT EXISTS raw.`t` (\n    `code` String,\n    `day` Nullable(Date),\n"
        "    `_partition_date` Date,\n    `_loaded_at` DateTime64(3, 'UTC'),\n    `_source_file` String\n"
        ") ENGINE = MergeTree\nPARTITION BY toYYYYMM(_partition_date)\nORDER BY (`code`)"
    )
    assert side_table_ddl("t", "t__incoming_1") == "CREATE TABLE raw.`t__incoming_1` AS raw.`t`"
