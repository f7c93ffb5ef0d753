"""ERP staging views (dbt_project/models/staging/erp) on chDB: the latest version per key, soft deletes, types.

`erp_raw_fixtures.py` creates `raw.erp__<entity>` from the lake schemas (`ensure_raw_table`) and loads the
demo company (seed 42, scale 0.2) through `contracts.validate` in three loads: the whole company, an overlap
re-extraction with a late PO update, two soft deletes and a payable corrected without a new `updated_at`, then an
undelete, a stale PO version that arrives late, a customer corrected without a new `updated_at` and a re-load of
the payable's first version (newer `_loaded_at`, its old `_arrived_at`). It also computes, in Python, the latest
version per key (`updated_at`, then `_arrived_at`, then `_loaded_at`). `importau-dbt build --select
path:models/staging/erp` then runs only the ERP views, their data tests and the dedupe's unit test (the BCB raw
tables do not exist in this warehouse) in a subprocess, and the views are compared with that expected state row
by row, value by value, type by type.
"""

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import yaml

from ingestion.erp import contracts
from tests.dbt.dbt_harness import HERE, PROJECT_DIR, DbtRun, dbt_env, query, run_dbt

ERP_DIR = PROJECT_DIR / "models" / "staging" / "erp"
RENAMED = {
    ("suppliers", "name"): "supplier_name",
    ("customers", "name"): "customer_name",
    ("products", "description"): "product_description",
}
# The house types (STYLE.md section 8, README.md of the folder), spelled as system.columns prints them.
KIND_TYPES = {
    "string": "String",
    "int": "Int32",
    "money": "Decimal(18, 4)",
    "quantity": "Decimal(18, 4)",
    "percent": "Decimal(9, 4)",
    "fx_rate": "Decimal(38, 15)",
    "date": "Date",
    "timestamp": "DateTime64(3, 'UTC')",
}
CODES_WITHOUT_ALLOWED_SET = {"country", "origin_country", "ncm", "customs_unit", "cfop", "warehouse"}


@dataclass
class ErpBuild:
    dbt: DbtRun
    raw_rows: dict[str, int]
    expected: dict[str, list[dict]]
    scenario: dict
    staging: dict[str, list[dict]]
    columns: dict[str, list[tuple[str, str]]]
    raw_columns: dict[str, list[tuple[str, str]]]
    filtered: dict


def staging_name(entity: str, column: str) -> str:
    return RENAMED.get((entity, column), column)


def expected_columns(entity: str) -> list[tuple[str, str]]:
    """(name, ClickHouse type) of `stg_erp__<entity>`, in order, from the contract kinds."""
    columns = []
    for column in contracts.ENTITIES[entity].columns:
        if column.kind == "string" and (column.allowed is not None or column.name in CODES_WITHOUT_ALLOWED_SET):
            type_ = "LowCardinality(String)"
        else:
            type_ = KIND_TYPES[column.kind] if column.required else f"Nullable({KIND_TYPES[column.kind]})"
        columns.append((staging_name(entity, column.name), type_))
        if column.name == "deleted_at":
            columns.append(("is_deleted", "Bool"))
    return columns + [
        ("arrived_at", "DateTime64(3, 'UTC')"),
        ("loaded_at", "DateTime64(3, 'UTC')"),
        ("source_file", "String"),
    ]


@pytest.fixture(scope="module")
def erp(tmp_path_factory) -> ErpBuild:
    data_dir = tmp_path_factory.mktemp("dbt_erp")
    loaded = subprocess.run(
        [sys.executable, str(HERE / "erp_raw_fixtures.py"), str(data_dir)],
        env=dbt_env(data_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    fixture = json.loads(loaded.stdout)
    # only the ERP views and their tests: the BCB raw tables do not exist in this warehouse
    dbt = run_dbt(data_dir, "build", "--select", "path:models/staging/erp")
    assert dbt.returncode == 0, dbt.output[-8000:]
    queries = {entity: f"SELECT * FROM staging.stg_erp__{entity}" for entity in contracts.ENTITY_NAMES}
    queries["columns"] = (
        "SELECT table, name, type FROM system.columns WHERE database = 'staging' AND table LIKE 'stg\\_erp\\_\\_%'"
        " ORDER BY table, position"
    )
    queries["raw_columns"] = (
        "SELECT table, name, type FROM system.columns WHERE database = 'raw' AND table LIKE 'erp\\_\\_%'"
        " ORDER BY table, position"
    )
    # filters on the views must apply after the dedupe (never pushed below LIMIT BY to an older version)
    scenario = fixture["scenario"]
    queries["filtered"] = (
        "SELECT"
        f" (SELECT count() FROM staging.stg_erp__purchase_orders WHERE po_id = '{scenario['updated_po']['po_id']}'"
        "   AND status != 'CANCELLED') AS older_po,"
        f" (SELECT count() FROM staging.stg_erp__payables WHERE payable_id = '{scenario['deleted_payable']}'"
        "   AND NOT is_deleted) AS deleted_payable_live,"
        " (SELECT count() FROM staging.stg_erp__payables WHERE NOT is_deleted) AS live_payables"
    )
    result = query(data_dir, **queries)
    columns = _tables(result.pop("columns"), "stg_erp__")
    raw_columns = _tables(result.pop("raw_columns"), "erp__")
    filtered = result.pop("filtered")[0]
    return ErpBuild(dbt, fixture["raw_rows"], fixture["expected"], scenario, result, columns, raw_columns, filtered)


def _tables(rows: list[dict], prefix: str) -> dict[str, list[tuple[str, str]]]:
    tables: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        tables.setdefault(row["table"].removeprefix(prefix), []).append((row["name"], row["type"]))
    return tables


def _canonical(value, type_: str):
    """A JSON value of a column of this ClickHouse type as a comparable Python value."""
    if value is None:
        return None
    if "Decimal" in type_:
        return Decimal(value)
    if "DateTime64" in type_:
        parsed = datetime.fromisoformat(value)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if "Date" in type_:
        return date.fromisoformat(value)
    return value


def _by_key(entity: str, rows: list[dict]) -> dict[tuple, dict]:
    return {tuple(row[name] for name in contracts.ENTITIES[entity].primary_key): row for row in rows}


# --- the YAML and SQL files against the contract (no warehouse) ---


def test_sources_declare_every_contract_entity_with_its_columns_and_asset_key():
    source = yaml.safe_load((ERP_DIR / "_erp__sources.yml").read_text())["sources"][0]
    assert source["name"] == "erp" and source["schema"] == "raw"
    assert source["config"]["loaded_at_field"] == "_loaded_at"
    assert source["config"]["freshness"]["filter"].startswith("_partition_date >=")
    tables = {table["name"]: table for table in source["tables"]}
    assert list(tables) == [f"erp__{entity}" for entity in contracts.ENTITY_NAMES]
    for entity in contracts.ENTITY_NAMES:
        table = tables[f"erp__{entity}"]
        assert table["config"]["meta"]["dagster"]["asset_key"] == ["raw", f"erp__{entity}"]
        assert [column["name"] for column in table["columns"]] == contracts.lake_schema(entity).names


def test_models_test_the_keys_and_allow_exactly_the_contract_values():
    models = {m["name"]: m for m in yaml.safe_load((ERP_DIR / "_erp__models.yml").read_text())["models"]}
    assert sorted(models) == sorted(f"stg_erp__{entity}" for entity in contracts.ENTITY_NAMES)
    for entity, contract in contracts.ENTITIES.items():
        model = models[f"stg_erp__{entity}"]
        assert model["description"].startswith("One row per ")
        tests = {column["name"]: column.get("data_tests", []) for column in model["columns"]}
        names = {name: [next(iter(t)) if isinstance(t, dict) else t for t in found] for name, found in tests.items()}
        for key in contract.primary_key:
            assert "not_null" in names[key], (entity, key)
        if len(contract.primary_key) == 1:
            assert "unique" in names[contract.primary_key[0]], entity
        else:
            combos = [
                t["unique_combination"]["arguments"]["columns"]
                for t in model.get("data_tests", [])
                if "unique_combination" in t
            ]
            assert combos == [list(contract.primary_key)], entity
        for column in contract.columns:
            accepted = [
                t["accepted_values"]["arguments"]["values"]
                for t in tests.get(column.name, [])
                if isinstance(t, dict) and "accepted_values" in t
            ]
            if column.name in ("currency", "status"):
                assert accepted, (entity, column.name)
            if accepted:
                assert set(accepted[0]) == set(column.allowed), (entity, column.name)


def test_one_view_per_entity_reading_its_source_and_keeping_one_row_per_key():
    assert sorted(path.stem for path in ERP_DIR.glob("*.sql")) == sorted(
        f"stg_erp__{entity}" for entity in contracts.ENTITY_NAMES
    )
    dedupe = (PROJECT_DIR / "macros" / "erp_latest_version.sql").read_text()
    assert "order by updated_at desc, arrived_at desc, loaded_at desc, source_file desc" in dedupe
    assert "limit 1 by {{ key }}" in dedupe
    for entity, contract in contracts.ENTITIES.items():
        sql = (ERP_DIR / f"stg_erp__{entity}.sql").read_text()
        assert f"source('erp', 'erp__{entity}')" in sql
        assert "{{ erp_version_columns() }}" in sql  # one definition of the version columns and of the dedupe
        assert f"{{{{ erp_latest_version('renamed', '{', '.join(contract.primary_key)}') }}}}" in sql
        assert "order by" not in sql and "limit 1 by" not in sql
        assert sql.rstrip().endswith("select * from deduplicated")


# --- dbt build on chDB ---


def test_build_runs_only_the_erp_views_and_every_test_passes(erp):
    results = erp.dbt.run_results["results"]
    statuses = {result["unique_id"]: result["status"] for result in results}
    models = [uid for uid in statuses if uid.startswith("model.")]
    assert sorted(models) == sorted(f"model.importau.stg_erp__{entity}" for entity in contracts.ENTITY_NAMES)
    assert all("erp" in uid for uid in statuses), [uid for uid in statuses if "erp" not in uid]
    # relationships are severity warn: a warning here would be an orphan in the coherent demo company
    assert {status for status in statuses.values()} <= {"success", "pass"}, statuses
    assert sum(uid.startswith("test.") for uid in statuses) >= 80
    assert any("relationships_combination" in uid for uid in statuses)
    assert statuses["unit_test.importau.stg_erp__payables.erp_latest_arrival_wins_at_an_equal_updated_at"] == "pass"
    print(f"ERP staging dbt build on chDB: {erp.dbt.seconds:.1f}s for {len(results)} nodes")


def test_row_counts_equal_the_distinct_keys_while_raw_holds_every_version(erp):
    for entity in contracts.ENTITY_NAMES:
        rows = erp.staging[entity]
        keys = _by_key(entity, rows)
        assert len(rows) == len(keys) == len(erp.expected[entity]), entity
        assert erp.raw_rows[entity] >= len(rows)
    # the overlap re-extraction and the late updates really did duplicate keys in raw
    assert erp.raw_rows["purchase_orders"] > len(erp.staging["purchase_orders"])
    assert sum(erp.raw_rows.values()) - sum(len(rows) for rows in erp.staging.values()) >= 20


def test_staging_holds_exactly_the_latest_version_of_every_row(erp):
    for entity in contracts.ENTITY_NAMES:
        types = dict(erp.columns[entity])
        actual = _by_key(entity, erp.staging[entity])
        expected = _by_key(entity, erp.expected[entity])
        assert actual.keys() == expected.keys(), entity
        for key, want in expected.items():
            got = actual[key]
            for column in [*contracts.schema(entity).names, "arrived_at", "loaded_at", "source_file"]:
                name = staging_name(entity, column)
                assert _canonical(got[name], types[name]) == _canonical(want[column], types[name]), (
                    entity,
                    key,
                    column,
                    got[name],
                    want[column],
                )
            assert got["is_deleted"] is (want["deleted_at"] is not None), (entity, key)


def test_a_late_update_of_a_po_shows_its_new_values(erp):
    po = erp.scenario["updated_po"]
    row = _by_key("purchase_orders", erp.staging["purchase_orders"])[(po["po_id"],)]
    assert row["status"] == "CANCELLED"
    assert Decimal(row["total_amount"]) == Decimal(po["total_amount"])
    assert _canonical(row["updated_at"], "DateTime64") == datetime.fromisoformat(po["updated_at"])
    assert _canonical(row["loaded_at"], "DateTime64") == datetime.fromisoformat(erp.scenario["load_2"])


def test_an_older_version_loaded_later_does_not_win(erp):
    stale = erp.scenario["stale_po"]
    row = _by_key("purchase_orders", erp.staging["purchase_orders"])[(stale["po_id"],)]
    assert row["status"] != "OPEN" and Decimal(row["total_amount"]) != Decimal("1.0000")
    assert _canonical(row["updated_at"], "DateTime64") > datetime.fromisoformat(stale["updated_at"])
    assert _canonical(row["loaded_at"], "DateTime64") < datetime.fromisoformat(erp.scenario["load_3"])


def test_the_same_version_time_from_a_later_load_wins(erp):
    customer = erp.scenario["corrected_customer"]
    row = _by_key("customers", erp.staging["customers"])[(customer["customer_id"],)]
    assert row["city"] == customer["city"] and row["city"].endswith("(corrigido)")
    assert _canonical(row["loaded_at"], "DateTime64") == datetime.fromisoformat(erp.scenario["load_3"])


def test_a_correction_with_the_same_updated_at_wins_even_after_an_older_load_is_rerun(erp):
    corrected, original = erp.scenario["corrected_payable"], erp.scenario["original_payable"]
    assert corrected["updated_at"] == original["updated_at"] and corrected["amount"] != original["amount"]
    row = _by_key("payables", erp.staging["payables"])[(corrected["payable_id"],)]
    assert Decimal(row["amount"]) == Decimal(corrected["amount"])
    assert _canonical(row["arrived_at"], "DateTime64") == datetime.fromisoformat(erp.scenario["load_2"])
    # the first version was loaded again later (load 3) and lost: arrival, not load time, orders the versions
    assert _canonical(row["loaded_at"], "DateTime64") == datetime.fromisoformat(erp.scenario["load_2"])


def test_soft_deletes_are_kept_and_flagged_and_an_undelete_clears_the_flag(erp):
    payable_id = erp.scenario["deleted_payable"]
    payable = _by_key("payables", erp.staging["payables"])[(payable_id,)]
    assert payable["is_deleted"] is True and payable["deleted_at"] is not None
    # kept, so its settlements still find it (the relationships test passed as well)
    assert any(row["payable_id"] == payable_id for row in erp.staging["payable_settlements"])
    product = _by_key("products", erp.staging["products"])[(erp.scenario["deleted_product"],)]
    assert product["is_deleted"] is False and product["deleted_at"] is None
    flagged = {
        (entity, *key)
        for entity in contracts.ENTITY_NAMES
        for key, row in _by_key(entity, erp.staging[entity]).items()
        if row["is_deleted"]
    }
    # the demo company has one soft delete of its own: a customer registered twice by mistake
    demo_customer = [row["customer_id"] for row in erp.expected["customers"] if row["deleted_at"] is not None]
    assert len(demo_customer) == 1
    assert flagged == {("payables", payable_id), ("customers", demo_customer[0])}


def test_a_filter_on_a_view_never_reaches_an_older_version(erp):
    assert erp.filtered["older_po"] == 0
    assert erp.filtered["deleted_payable_live"] == 0
    assert erp.filtered["live_payables"] == len(erp.staging["payables"]) - 1


def test_column_names_and_types_are_exactly_the_house_types(erp):
    assert sorted(erp.columns) == sorted(contracts.ENTITY_NAMES)
    for entity in contracts.ENTITY_NAMES:
        assert erp.columns[entity] == expected_columns(entity), entity
    declarations = dict(erp.columns["import_declarations"])
    assert declarations["currency"] == "LowCardinality(String)"
    assert declarations["exchange_rate"] == "Decimal(38, 15)"
    assert declarations["customs_value_brl"] == "Decimal(18, 4)"
    assert declarations["registration_date"] == "Date"
    assert declarations["updated_at"] == "DateTime64(3, 'UTC')"
    assert dict(erp.columns["payable_settlements"])["exchange_rate"] == "Nullable(Decimal(38, 15))"


def test_raw_tables_are_the_contract_columns_plus_the_arrival_and_the_load_metadata(erp):
    for entity in contracts.ENTITY_NAMES:
        names = [name for name, _ in erp.raw_columns[entity]]
        assert names == [*contracts.lake_schema(entity).names, "_partition_date", "_loaded_at", "_source_file"], entity
