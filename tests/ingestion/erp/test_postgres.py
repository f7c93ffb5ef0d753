"""The PostgreSQL adapter against the machine's real PostgreSQL: each test in its own schema, dropped afterwards.

The ERP's own writes (updates, soft deletes, late commits) are plain SQL here, as the ERP application would run
them; the adapter only reads.
"""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from psycopg import sql

from ingestion.erp import contracts
from ingestion.erp.postgres import (
    ErpDatabaseError,
    SchemaDriftError,
    connect,
    extract_incremental,
    load_company,
    read_columns,
    safe_dsn,
    upsert_rows,
)
from ingestion.erp.state import CursorStore
from sandboxes.demo_company import generate
from tests.servers.postgres import temporary_schema

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def small_company():
    return generate(seed=42, scale=0.1)


@pytest.fixture
def schema(dsn):
    with temporary_schema(dsn) as name:
        yield name


@pytest.fixture
def conn(dsn):
    with psycopg.connect(dsn) as connection:
        yield connection


def _by_key(entity: str, table: pa.Table) -> dict[tuple, dict]:
    key = contracts.ENTITIES[entity].primary_key
    return {tuple(row[name] for name in key): row for row in table.to_pylist()}


def _extract_all(conn, schema: str, cursors: CursorStore) -> dict[str, pa.Table]:
    tables = {}
    for entity in contracts.ENTITY_NAMES:
        table, cursor, quarantine = extract_incremental(conn, entity, cursors.get(entity), schema=schema)
        assert quarantine == [], [record.reason for record in quarantine]
        tables[entity] = table
        cursors.set(entity, cursor)
    return tables


def _execute(conn, statement: str, *params) -> int:
    with conn.transaction():
        return conn.execute(statement, params).rowcount


def test_ddl_follows_the_contract(conn, schema, small_company):
    load_company(conn, small_company, schema)
    columns = {c["name"]: c for c in read_columns(conn, "import_declarations", schema)}
    assert list(columns) == [column.name for column in contracts.ENTITIES["import_declarations"].columns]
    assert (columns["fob_amount"]["data_type"], columns["fob_amount"]["numeric_precision"]) == ("numeric", 18)
    assert columns["fob_amount"]["numeric_scale"] == 4
    assert columns["exchange_rate"]["numeric_scale"] == 15
    assert columns["registration_date"]["data_type"] == "date"
    assert columns["updated_at"]["data_type"] == "timestamp with time zone"
    keys = conn.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
        " WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY a.attname",
        (f"{schema}.purchase_order_lines",),
    ).fetchall()
    assert [k[0] for k in keys] == ["line_number", "po_id"]


def test_first_load_updates_soft_delete_then_cursor_rerun(conn, schema, small_company, tmp_path):
    counts = load_company(conn, small_company, schema)
    assert counts == {name: table.num_rows for name, table in small_company.erp.items()}

    # First run: no cursor, the whole company, exactly as generated.
    cursors = CursorStore()
    first = _extract_all(conn, schema, cursors)
    for entity in contracts.ENTITY_NAMES:
        expected, _ = contracts.validate(entity, small_company.erp[entity])
        assert _by_key(entity, first[entity]) == _by_key(entity, expected), entity
    cursors.save(tmp_path)
    cursors = CursorStore.load(tmp_path)
    assert cursors.get("payables") == max(r["updated_at"] for r in small_company.erp["payables"].to_pylist())

    # The ERP works: an update, a soft delete, a soft delete that forgets updated_at, a new row, a late commit.
    now = max(cursors.get(entity) for entity in contracts.ENTITY_NAMES) + timedelta(hours=1)
    po = small_company.erp["purchase_orders"]["po_id"][0].as_py()
    payable = small_company.erp["payables"]["payable_id"][3].as_py()
    customers = small_company.erp["customers"]
    customer = customers.filter(pc.is_null(customers["deleted_at"]))["customer_id"][0].as_py()
    sku = small_company.erp["products"]["sku"][0].as_py()
    late = cursors.get("products") - timedelta(minutes=5)  # committed late, inside the 10-minute overlap
    assert (
        _execute(
            conn,
            f"UPDATE {schema}.purchase_orders SET status = 'CANCELLED', total_amount = 1.5,"
            " updated_at = %s WHERE po_id = %s",
            now,
            po,
        )
        == 1
    )
    assert (
        _execute(
            conn,
            f"UPDATE {schema}.payables SET deleted_at = %s, updated_at = %s WHERE payable_id = %s",
            now,
            now,
            payable,
        )
        == 1
    )
    assert _execute(conn, f"UPDATE {schema}.customers SET deleted_at = %s WHERE customer_id = %s", now, customer) == 1
    assert (
        _execute(
            conn, f"UPDATE {schema}.products SET description = 'late commit', updated_at = %s WHERE sku = %s", late, sku
        )
        == 1
    )
    new_supplier = dict(small_company.erp["suppliers"].to_pylist()[0], supplier_id="SUP-NEW-1", updated_at=now)
    with conn.transaction():
        upsert_rows(conn, "suppliers", pa.Table.from_pylist([new_supplier], contracts.schema("suppliers")), schema)

    # Second run from the stored cursors: only what changed (plus the overlap), soft deletes kept and flagged.
    previous = CursorStore.from_dict(cursors.to_dict())
    second = _extract_all(conn, schema, cursors)
    changed = {
        "purchase_orders": {(po,)},
        "payables": {(payable,)},
        "customers": {(customer,)},
        "products": {(sku,)},
        "suppliers": {("SUP-NEW-1",)},
    }
    for entity in contracts.ENTITY_NAMES:  # the changed rows, and the first load's rows inside the overlap
        low = previous.get(entity) - timedelta(minutes=10)
        overlap = {
            key
            for key, row in _by_key(entity, first[entity]).items()
            if row["updated_at"] >= low or (row["deleted_at"] or low) > low
        }
        assert set(_by_key(entity, second[entity])) == changed.get(entity, set()) | overlap, entity
        assert len(overlap) <= 3, entity
    second_po = _by_key("purchase_orders", second["purchase_orders"])[(po,)]
    assert (second_po["status"], second_po["total_amount"]) == ("CANCELLED", Decimal("1.5000"))
    assert _by_key("payables", second["payables"])[(payable,)]["deleted_at"] == now
    assert _by_key("customers", second["customers"])[(customer,)]["deleted_at"] == now
    assert _by_key("products", second["products"])[(sku,)]["description"] == "late commit"
    assert cursors.get("purchase_orders") == now and cursors.get("products") == previous.get("products")

    # Applying the increment to the first load gives exactly the database's latest state, deletions included.
    for entity in contracts.ENTITY_NAMES:
        merged = _by_key(entity, first[entity]) | _by_key(entity, second[entity])
        latest = extract_incremental(conn, entity, None, schema=schema).table
        assert merged == _by_key(entity, latest), entity
    latest = extract_incremental(conn, "payables", None, schema=schema).table
    assert _by_key("payables", latest)[(payable,)]["deleted_at"] == now
    assert latest.num_rows == small_company.erp["payables"].num_rows  # soft-deleted rows are never dropped

    # Three re-runs from the same cursors give identical rows and cursors.
    reruns = [
        [extract_incremental(conn, entity, previous.get(entity), schema=schema) for entity in contracts.ENTITY_NAMES]
        for _ in range(3)
    ]
    for run in reruns[1:]:
        for a, b in zip(reruns[0], run, strict=True):
            assert a.table.equals(b.table) and a.cursor == b.cursor and a.quarantine == b.quarantine


def test_contract_breaking_rows_are_quarantined_and_the_cursor_moves_past_them(conn, schema, small_company):
    load_company(conn, small_company, schema)
    start = extract_incremental(conn, "customers", None, schema=schema).cursor
    later = start + timedelta(days=1)
    customer = small_company.erp["customers"]["customer_id"][1].as_py()
    _execute(
        conn,
        f"UPDATE {schema}.customers SET cnpj = '11222333000182', updated_at = %s WHERE customer_id = %s",
        later,
        customer,
    )
    table, cursor, quarantine = extract_incremental(conn, "customers", start, schema=schema)
    assert customer not in table["customer_id"].to_pylist()
    assert [r.record_key for r in quarantine] == [f"customer_id={customer}"]
    assert "wrong check digits" in quarantine[0].reason
    assert cursor == later


def test_schema_drift_is_a_clear_error(conn, schema, small_company):
    load_company(conn, small_company, schema)
    with conn.transaction():
        conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN approver text").format(sql.Identifier(schema, "payables")))
        conn.execute(
            sql.SQL("ALTER TABLE {} ALTER COLUMN amount TYPE double precision").format(
                sql.Identifier(schema, "payables")
            )
        )
        conn.execute(sql.SQL("ALTER TABLE {} DROP COLUMN status").format(sql.Identifier(schema, "payables")))
    with pytest.raises(SchemaDriftError) as error:
        extract_incremental(conn, "payables", None, schema=schema)
    message = str(error.value)
    assert f"{schema}.payables drifted" in message
    assert "missing columns status" in message
    assert "unexpected columns approver" in message
    assert "amount is double precision, the contract needs numeric(18,4)" in message
    with pytest.raises(SchemaDriftError, match="does not exist"):
        extract_incremental(conn, "payables", None, schema=schema + "_absent")
    with pytest.raises(SchemaDriftError, match="drifted"):  # the loader refuses to write into a drifted table
        load_company(conn, small_company, schema)


def test_a_wider_numeric_scale_is_drift_but_a_narrower_one_is_not(conn, schema, small_company):
    load_company(conn, small_company, schema)
    table = sql.Identifier(schema, "products")
    with conn.transaction():
        conn.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN net_weight_kg TYPE numeric(12,2)").format(table))
    assert extract_incremental(conn, "products", None, schema=schema).table.num_rows > 0
    with conn.transaction():
        conn.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN net_weight_kg TYPE numeric(18,6)").format(table))
    with pytest.raises(SchemaDriftError, match=r"net_weight_kg is numeric\(18,6\)"):
        extract_incremental(conn, "products", None, schema=schema)


def test_connection_errors_never_show_the_password():
    dsn = "host=127.0.0.1 port=1 dbname=erp user=importau password=s3cret-Pa55 connect_timeout=3"
    with pytest.raises(ErpDatabaseError) as error:
        connect(dsn)
    assert "s3cret-Pa55" not in str(error.value) and "password=***" in str(error.value)
    assert "s3cret-Pa55" not in safe_dsn("postgresql://importau:s3cret-Pa55@erp-db:5432/erp")


def test_cursor_store_round_trip(tmp_path):
    store = CursorStore()
    moment = datetime(2024, 12, 31, 21, 30, 0, 152000, tzinfo=UTC)
    store.set("payables", moment)
    store.set("payables", moment, schema="other")
    store.save(tmp_path / "state")
    again = CursorStore.load(tmp_path / "state")
    assert again.get("payables") == moment and again.get("payables", "other") == moment
    assert again.get("receivables") is None
    again.set("payables", None)
    assert again.get("payables") is None
    with pytest.raises(ValueError, match="timezone-aware"):
        store.set("payables", datetime(2024, 1, 1))


def test_load_demo_command_is_idempotent(dsn, schema, capsys):
    from sandboxes.demo_company.load_postgres import main

    assert main(["--dsn", dsn, "--schema", schema, "--scale", "0.1"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["schema"] == schema and first["upserted"]["purchase_orders"] > 0
    assert main(["--dsn", dsn, "--schema", schema, "--scale", "0.1"]) == 0
    assert set(json.loads(capsys.readouterr().out)["upserted"].values()) == {0}  # same data: nothing changes
