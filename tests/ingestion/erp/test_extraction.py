"""The partitioned PostgreSQL extraction (`ingestion/erp/extraction.py`) against the machine's real PostgreSQL, each
test in its own schema (dropped afterwards), into a folder lake: bounded re-runs, late commits, clock errors, the
hard-delete key scan, the timeouts and the read-only session. The ERP's own writes are plain SQL."""

import socket
import time
from datetime import UTC, date, datetime, timedelta

import psycopg
import pyarrow as pa
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ingestion.common.lake import LocalLake
from ingestion.erp import contracts
from ingestion.erp.extraction import (
    LAKE_SOURCE,
    Bounds,
    ExtractionBusyError,
    Month,
    bounds,
    extract_partitions,
    extraction_lock,
    held_tables,
)
from ingestion.erp.postgres import ErpDatabaseError, connect, extract_range, load_company
from ingestion.erp.state import PartitionCursor, PartitionCursors
from sandboxes.demo_company import generate
from tests.servers.postgres import temporary_schema

pytestmark = pytest.mark.integration

LAST, THIS = Month.of(date(2026, 11, 1)), Month.of(date(2026, 12, 1))
IN_LAST, IN_THIS = date(2026, 11, 20), date(2026, 12, 6)
SECRET = "pw-extraction-test-never-shown"


@pytest.fixture(scope="module")
def company():
    return generate(seed=42, scale=0.05)


@pytest.fixture
def erp(dsn, company, tmp_path):
    """A loaded ERP schema, a read-only extraction connection, a folder lake and empty cursors."""
    with temporary_schema(dsn) as schema:
        with psycopg.connect(dsn) as writer:
            load_company(writer, company, schema)
        with connect(dsn, read_only=True) as conn:
            yield {"schema": schema, "conn": conn, "lake": LocalLake(tmp_path / "lake"), "cursors": PartitionCursors()}


def _run(erp, months, today, **options):
    return extract_partitions(erp["conn"], erp["lake"], erp["cursors"], months, today, schema=erp["schema"], **options)


def _execute(dsn, statement: str, params=()) -> None:
    with psycopg.connect(dsn) as conn, conn.transaction():
        conn.execute(statement, params)


def _lake_rows(erp, entity) -> list[dict]:
    return [row for table in held_tables(erp["lake"], entity) for row in table.to_pylist()]


def test_bounds_follow_the_recorded_cursors():
    cursors, stamp = PartitionCursors(), datetime(2026, 11, 10, tzinfo=UTC)
    overlap = timedelta(minutes=10)
    assert bounds(cursors, "payables", THIS, current=True) == Bounds(None)  # the very first: the whole table
    assert bounds(cursors, "payables", LAST, current=False) is None  # a past month never extracted: nothing
    cursors.set("payables", LAST.key, PartitionCursor(None, stamp, ("AP-1",), stamp))
    assert bounds(cursors, "payables", LAST, current=False) == Bounds(None, stamp, ("AP-1",))
    assert bounds(cursors, "payables", THIS, current=True) == Bounds(stamp - overlap)  # from the months before
    later = stamp + timedelta(days=20)
    cursors.set("payables", THIS.key, PartitionCursor(stamp, later, ("AP-9",), later))
    assert bounds(cursors, "payables", THIS, current=True) == Bounds(later - overlap)  # from its own mark


def test_a_past_month_rereads_its_recorded_range_and_never_later_changes(dsn, erp, company):
    first = _run(erp, [LAST], IN_LAST)
    assert {entity: result.landed for entity, result in first.items()} == {
        entity: company.erp[entity].num_rows for entity in contracts.ENTITY_NAMES
    }
    recorded = erp["cursors"].get("purchase_orders", LAST.key, erp["schema"])
    po_id = company.erp["purchase_orders"]["po_id"][0].as_py()
    _execute(
        dsn,
        f'UPDATE "{erp["schema"]}".purchase_orders SET status = %s, updated_at = now() WHERE po_id = %s',
        ("CANCELLED", po_id),
    )

    second = _run(erp, [THIS], IN_THIS)
    assert second["purchase_orders"].landed == 1
    assert erp["cursors"].get("purchase_orders", THIS.key, erp["schema"]).start == recorded.high_water

    rerun = _run(erp, [LAST], IN_THIS)  # last month is closed now: its recorded range only
    assert rerun["purchase_orders"].read == company.erp["purchase_orders"].num_rows - 1  # not the new version
    assert all(result.landed == 0 for result in rerun.values())
    again = erp["cursors"].get("purchase_orders", LAST.key, erp["schema"])
    assert (again.start, again.high_water, again.high_water_key) == (None, recorded.high_water, recorded.high_water_key)
    days = erp["lake"].list_partitions(LAKE_SOURCE, "purchase_orders")
    assert days == [IN_LAST, IN_THIS]  # landed on each run's load day; nothing on the re-run


def test_a_late_commit_inside_a_closed_range_lands_once(dsn, erp, company):
    _run(erp, [LAST], IN_LAST)
    high_water = erp["cursors"].get("suppliers", LAST.key, erp["schema"]).high_water
    _execute(
        dsn,
        f'UPDATE "{erp["schema"]}".purchase_orders SET updated_at = now() WHERE po_id = %s',
        (company.erp["purchase_orders"]["po_id"][0].as_py(),),
    )
    _run(erp, [THIS], IN_THIS)  # this month's mark moves past the late row's change time
    row = company.erp["suppliers"].to_pylist()[0]
    late = {**row, "supplier_id": "SUP-LATE", "updated_at": high_water - timedelta(hours=1)}
    with psycopg.connect(dsn) as writer:
        load_company(
            writer, {"suppliers": pa.Table.from_pylist([late], schema=contracts.schema("suppliers"))}, erp["schema"]
        )

    assert _run(erp, [THIS], IN_THIS)["suppliers"].landed == 0  # before this month's range
    assert _run(erp, [LAST, THIS], IN_THIS)["suppliers"].landed == 1  # inside last month's: lands there
    assert [r["supplier_id"] for r in erp["lake"].read_partition(LAKE_SOURCE, "suppliers", LAST.last).to_pylist()] == [
        "SUP-LATE"
    ]
    assert _run(erp, [LAST, THIS], IN_THIS)["suppliers"].landed == 0  # held now: never twice


def test_a_row_stamped_in_the_future_is_quarantined_or_read_again_without_moving_the_cursor(dsn, erp, company):
    _run(erp, [THIS], IN_THIS)
    ids = company.erp["customers"]["customer_id"].to_pylist()
    table = f'"{erp["schema"]}".customers'
    _execute(
        dsn,
        f"UPDATE {table} SET city = 'Futura', updated_at = now() + interval '2 days' WHERE customer_id = %s",
        (ids[0],),
    )
    _execute(
        dsn,
        f"UPDATE {table} SET city = 'Adiante', updated_at = now() + interval '1 hour' WHERE customer_id = %s",
        (ids[1],),
    )
    result = _run(erp, [THIS], IN_THIS)["customers"]
    assert [record.record_key for record in result.quarantine] == [f"customer_id={ids[0]}"]
    assert "more than 1 day after the database's clock" in result.quarantine[0].reason
    assert result.landed == 1  # an hour ahead: a clock a little off, landed
    cursor = erp["cursors"].get("customers", THIS.key, erp["schema"])
    assert cursor.high_water <= datetime.now(UTC)  # not pushed into the future: later changes are still read
    assert _run(erp, [THIS], IN_THIS)["customers"].landed == 0  # read again, already held


def test_the_key_scan_records_hard_deletes_once_and_a_recreated_key_comes_back(dsn, erp, company):
    _run(erp, [THIS], IN_THIS)
    schema = erp["schema"]
    receivables = company.erp["receivables"].to_pylist()
    gone, soft = receivables[0], receivables[1]
    _execute(dsn, f'DELETE FROM "{schema}".receivables WHERE receivable_id = %s', (gone["receivable_id"],))
    _execute(
        dsn,
        f'UPDATE "{schema}".receivables SET deleted_at = now(), updated_at = now() WHERE receivable_id = %s',
        (soft["receivable_id"],),
    )
    assert _run(erp, [THIS], IN_THIS)["receivables"].tombstones == 0  # no key scan asked
    _execute(dsn, f'DELETE FROM "{schema}".receivables WHERE receivable_id = %s', (soft["receivable_id"],))

    scanned = _run(erp, [THIS], IN_THIS, key_scan=True)["receivables"]
    assert scanned.key_scanned and scanned.tombstones == 1  # the soft-deleted one is already deleted
    arrival = erp["cursors"].get("receivables", THIS.key, schema).extracted_at
    tombstone = [row for row in _lake_rows(erp, "receivables") if row["receivable_id"] == gone["receivable_id"]][-1]
    assert tombstone["deleted_at"] == tombstone[contracts.ARRIVED_AT] == arrival
    assert {k: v for k, v in tombstone.items() if k not in ("deleted_at", contracts.ARRIVED_AT)} == {
        k: v for k, v in gone.items() if k != "deleted_at"
    }
    assert erp["cursors"].last_key_scan("receivables", schema) == arrival
    assert _run(erp, [THIS], IN_THIS, key_scan=True)["receivables"].tombstones == 0  # once
    assert _run(erp, [LAST], IN_THIS, key_scan=True)["receivables"].notes[-1].startswith("key scan skipped")

    with psycopg.connect(dsn) as writer:  # the ERP re-creates the key: a newer version wins again
        back = {**gone, "updated_at": datetime.now(UTC)}
        load_company(
            writer, {"receivables": pa.Table.from_pylist([back], schema=contracts.schema("receivables"))}, schema
        )
    assert _run(erp, [THIS], IN_THIS, key_scan=True)["receivables"].landed == 1


def test_the_session_is_read_only_and_bounded(dsn, erp):
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        erp["conn"].execute(sql.SQL("CREATE TABLE {} (x int)").format(sql.Identifier(erp["schema"], "nope")))
    erp["conn"].rollback()
    names = ("statement_timeout", "idle_in_transaction_session_timeout")
    settings = dict(erp["conn"].execute("SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", (list(names),)))
    assert settings == {"statement_timeout": "300000", "idle_in_transaction_session_timeout": "300000"}


def test_a_table_locked_by_the_erp_fails_after_the_statement_timeout(dsn, company):
    with temporary_schema(dsn) as schema:
        with psycopg.connect(dsn) as writer:
            load_company(writer, company, schema)
        secret_dsn = make_conninfo(**{**conninfo_to_dict(dsn), "password": SECRET})
        with psycopg.connect(dsn) as locker, connect(secret_dsn, statement_timeout=1, read_only=True) as conn:
            locker.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.Identifier(schema, "payables")))
            started = time.monotonic()
            with pytest.raises(ErpDatabaseError) as failure:
                extract_range(conn, "payables", None, schema=schema)
            waited = time.monotonic() - started
            locker.rollback()
    assert 0.9 < waited < 10
    message = str(failure.value)
    assert f"reading {schema}.payables" in message and "statement timeout" in message
    assert "host=127.0.0.1" in message and SECRET not in message


def test_a_server_that_never_answers_fails_after_the_connect_timeout():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # the kernel completes the handshake; nothing ever answers the start-up packet
    port = listener.getsockname()[1]
    try:
        started = time.monotonic()
        with pytest.raises(ErpDatabaseError) as failure:
            connect(f"host=127.0.0.1 port={port} dbname=erp user=importau password={SECRET}", connect_timeout=2)
        waited = time.monotonic() - started
    finally:
        listener.close()
    assert 1.5 < waited < 10
    assert f"port={port}" in str(failure.value) and SECRET not in str(failure.value)


def test_cursors_survive_json_and_arrivals_only_increase(tmp_path):
    cursors, stamp = PartitionCursors(), datetime(2026, 12, 6, 9, 30, 0, 123000, tzinfo=UTC)
    cursors.set("purchase_order_lines", THIS.key, PartitionCursor(None, stamp, ("PO-1", 3), stamp, 7))
    cursors.set_key_scan("purchase_order_lines", stamp)
    cursors.save(tmp_path)
    loaded = PartitionCursors.load(tmp_path)
    assert loaded.to_dict() == cursors.to_dict()
    assert loaded.get("purchase_order_lines", THIS.key).high_water_key == ("PO-1", 3)
    assert loaded.next_arrival(stamp - timedelta(hours=1)) == stamp + timedelta(milliseconds=1)  # clock stepped back


def test_one_extraction_at_a_time(tmp_path):
    with extraction_lock(tmp_path):
        with pytest.raises(ExtractionBusyError, match="another ERP PostgreSQL extraction is running"):
            with extraction_lock(tmp_path):
                pass
    with extraction_lock(tmp_path):  # released
        pass
