"""The ERP's PostgreSQL through the platform's own assets to the dbt staging views on chDB: an update wins, a hard
delete is flagged after the key scan, a bad row is quarantined, and re-running partitions gives identical rows.

A throwaway database on the machine's PostgreSQL gets the demo company (seed 42, scale 0.1) in schema `erp`
(`sandboxes.demo_company.load_postgres`), and is dropped at the end. Its DSN carries a password (ignored by the
server's trust auth) that must never show in a run's events (logs and metadata) or output.

1. Last month (a replayed day in it, `IMPORTAU_TODAY`): `erp_postgres_extract` + `erp_raw_load` read every table
   whole (the first extraction) into `erp_postgres/<entity>/dt=<that day>` and `raw.erp__<entity>`.
2. The ERP, at the database's clock: a purchase order updated, a payable settlement hard-deleted (DELETE), a payable
   inserted with its due date before its invoice date.
3. This month, with the key scan: the order's new version lands, the bad payable is quarantined with the
   contract's reason, the settlement gets a tombstone. dbt builds staging: the update wins over last month's
   version, the settlement is flagged `is_deleted` (its last values, `deleted_at` = the scan), the bad payable is
   absent, every other row equals PostgreSQL.
4. Both months again as one ranged run, key scan included: last month re-reads exactly its recorded range (not the
   changes made since), this month from its high-water mark; nothing new lands, no second tombstone; raw rows (all
   but `_loaded_at`) and staging rows (all but `loaded_at`) are identical to step 3's.
5. The merge with the file drops: the same customer exported with another city and the same `updated_at`, dropped
   in the inbox (`erp_file_drop` + `erp_raw_load`): both versions are in `raw.erp__customers` (one from
   `erp_postgres/`, one from `erp/`), and staging shows the file's, the later arrival.
Steps touching chDB run in subprocesses (see tests/README.md).
"""

import csv
import secrets
import shutil
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pyarrow.parquet as pq
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ingestion.common.clock import sao_paulo_today
from ingestion.erp import contracts
from ingestion.erp.postgres import extract_incremental
from sandboxes.demo_company.load_postgres import load_demo
from tests.dbt.test_erp_staging import staging_name
from tests.integration.erp_pipeline import file_drop_run
from tests.integration.erp_postgres_pipeline import postgres_run
from tests.integration.erp_staging import build_and_read, raw_rows_queries, row_key, same
from tests.servers.postgres import postgres_dsn

pytestmark = pytest.mark.integration

SECRET = f"pw-{secrets.token_hex(8)}-never-logged"


@pytest.fixture
def erp_dsn():
    """A database of its own on the machine's PostgreSQL, dropped afterwards; its DSN carries SECRET as password."""
    try:
        admin = postgres_dsn()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    name = f"importau_erp_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(**{**conninfo_to_dict(admin), "dbname": name, "password": SECRET})
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def workdir(tmp_path):
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)


def _without(rows: list[dict], column: str) -> list[dict]:
    return [{name: value for name, value in row.items() if name != column} for row in rows]


def _no_secret(workdir, *runs: dict) -> None:
    for run in runs:
        assert SECRET not in run["output"]
    events = sorted(workdir.glob("importau/events-*.txt"))
    assert len(events) == len(runs)
    for path in events:
        text = path.read_text()
        assert SECRET not in text, path
        assert "host=127.0.0.1" in text  # the metadata naming the database are in there


def test_update_wins_hard_delete_is_flagged_and_reruns_give_identical_rows(erp_dsn, workdir):
    started = time.monotonic()
    data_dir, lake = workdir / "importau", workdir / "lake"
    today = sao_paulo_today()
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    replayed_day = last_month + timedelta(days=19)
    demo = load_demo(erp_dsn, scale=0.1)

    # 1. Last month: the first extraction reads every table whole.
    first = postgres_run(data_dir, lake, erp_dsn, last_month.isoformat(), today=replayed_day.isoformat())
    assert first["success"], first["failure"]
    assert {entity: landed["row_count"] for entity, landed in first["lake"].items()} == demo
    assert first["raw_rows"] == demo
    assert all(landed["quarantined"] == 0 for landed in first["lake"].values())
    cursors_1 = first["cursors"]
    assert set(cursors_1["erp.payables"]) == {last_month.isoformat()}
    assert cursors_1["erp.payables"][last_month.isoformat()]["start"] is None

    # 2. The ERP: an update, a hard delete, a bad row (all at the database's clock).
    with psycopg.connect(erp_dsn) as conn, conn.transaction():
        po = conn.execute(
            "SELECT po_id, status, total_amount FROM erp.purchase_orders ORDER BY po_id LIMIT 1"
        ).fetchone()
        new_status = "CANCELLED" if po[1] != "CANCELLED" else "OPEN"
        new_total = po[2] + Decimal("250.7500")
        conn.execute(
            "UPDATE erp.purchase_orders SET status = %s, total_amount = %s, updated_at = now() WHERE po_id = %s",
            (new_status, new_total, po[0]),
        )
        settlement = conn.execute(
            "DELETE FROM erp.payable_settlements WHERE settlement_id = "
            "(SELECT min(settlement_id) FROM erp.payable_settlements) RETURNING settlement_id"
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO erp.payables SELECT 'AP-BAD-1', supplier_id, po_id, document_type, invoice_number,"
            " invoice_date, invoice_date - 30, currency, amount, status, now(), NULL FROM erp.payables"
            " ORDER BY payable_id LIMIT 1"
        )

    # 3. This month with the key scan, then staging.
    second = postgres_run(data_dir, lake, erp_dsn, this_month.isoformat(), key_scan=True)
    assert second["success"], second["failure"]
    landed = second["lake"]
    assert landed["purchase_orders"]["row_count"] == 1
    assert landed["payable_settlements"] == {
        "row_count": 1,
        "rows_read": landed["payable_settlements"]["rows_read"],
        "quarantined": 0,
        "tombstones": 1,
        "key_scan": True,
    }
    assert landed["payables"]["row_count"] == 0 and landed["payables"]["quarantined"] == 1
    assert sum(entity["row_count"] for entity in landed.values()) == 2  # an increment, not the company again
    assert all(entity["key_scan"] for entity in landed.values())
    assert second["raw_rows"] == {
        entity: 1 if entity in ("purchase_orders", "payable_settlements") else 0 for entity in contracts.ENTITY_NAMES
    }
    quarantine_file = (
        lake / "_quarantine" / "erp_postgres" / "payables" / f"dt={today.isoformat()}" / "part-000.parquet"
    )
    quarantine = pq.read_table(quarantine_file).to_pylist()
    assert [record["record_key"] for record in quarantine] == ["payable_id=AP-BAD-1"]
    assert "due_date" in quarantine[0]["reason"] and quarantine[0]["source"] == "erp_postgres"
    this_cursor = second["cursors"]["erp.purchase_orders"][this_month.isoformat()]
    assert this_cursor["start"] == cursors_1["erp.purchase_orders"][last_month.isoformat()]["high_water"]
    assert this_cursor["high_water"] > this_cursor["start"] and this_cursor["high_water_key"] == [po[0]]

    dbt_seconds: list[float] = []
    after_second = build_and_read(data_dir, dbt_seconds, raw_rows_queries())
    staging = {entity: {row_key(entity, row): row for row in after_second[entity]} for entity in contracts.ENTITY_NAMES}
    updated = staging["purchase_orders"][(po[0],)]
    assert (updated["status"], Decimal(updated["total_amount"])) == (new_status, new_total)
    assert f"erp_postgres/purchase_orders/dt={today.isoformat()}/part-000.parquet" in updated["source_file"]
    deleted = staging["payable_settlements"][(settlement,)]
    tombstone_arrival = second["cursors"]["erp.payable_settlements"][this_month.isoformat()]["extracted_at"]
    assert deleted["is_deleted"] is True
    deleted_at = datetime.fromisoformat(deleted["deleted_at"]).replace(tzinfo=UTC)
    assert deleted_at == datetime.fromisoformat(tombstone_arrival)
    assert ("AP-BAD-1",) not in staging["payables"]
    with psycopg.connect(erp_dsn) as conn:  # every other row is PostgreSQL's latest version
        for entity in contracts.ENTITY_NAMES:
            latest = {row_key(entity, row): row for row in extract_incremental(conn, entity, None).table.to_pylist()}
            latest.pop(("AP-BAD-1",), None)  # quarantined: never landed
            expected_keys = latest.keys() | ({(settlement,)} if entity == "payable_settlements" else set())
            assert staging[entity].keys() == expected_keys, entity
            for key, want in latest.items():
                for column, value in want.items():
                    got = staging[entity][key][staging_name(entity, column)]
                    assert same(value, got), (entity, key, column, value, got)

    # 4. Both months again, one ranged run with the key scan: nothing new, the same rows everywhere.
    third = postgres_run(data_dir, lake, erp_dsn, last_month.isoformat(), this_month.isoformat(), key_scan=True)
    assert third["success"], third["failure"]
    assert all(entity["row_count"] == 0 and entity["tombstones"] == 0 for entity in third["lake"].values())
    assert third["lake"]["purchase_orders"]["rows_read"] >= demo["purchase_orders"]  # last month re-read whole
    assert third["raw_rows"] == {entity: demo[entity] + second["raw_rows"][entity] for entity in contracts.ENTITY_NAMES}
    for table, partitions in third["cursors"].items():
        if table.startswith("_"):
            continue
        for partition, cursor in partitions.items():
            before = second["cursors"][table][partition]
            assert {k: v for k, v in cursor.items() if k != "extracted_at"} == {
                k: v for k, v in before.items() if k != "extracted_at"
            }, (table, partition)
    after_third = build_and_read(data_dir, dbt_seconds, raw_rows_queries())
    for name, rows in after_second.items():
        if name.startswith("raw__"):
            assert after_third[name] == rows, name
        else:
            assert _without(after_third[name], "loaded_at") == _without(rows, "loaded_at"), name
    assert len(pq.read_table(quarantine_file)) == 1  # the bad row re-read inside the overlap is not recorded twice

    # 5. A file drop of the same customer, same updated_at, another city: the later arrival wins in staging.
    customer = after_third["customers"][0]
    with psycopg.connect(erp_dsn) as conn:
        row = extract_incremental(conn, "customers", None).table.to_pylist()[0]
    assert row["customer_id"] == customer["customer_id"]
    row["city"] = "Campinas" if row["city"] != "Campinas" else "Santos"
    inbox = workdir / "inbox"
    inbox.mkdir()
    with open(inbox / "customers__correction.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row), lineterminator="\n")
        writer.writeheader()
        writer.writerow({name: v.isoformat() if isinstance(v, datetime) else v for name, v in row.items()})
    dropped = file_drop_run(data_dir, inbox, lake, this_month.isoformat())
    assert dropped["lake"]["erp__customers"] == {"rows": 1, "quarantined": 0}
    assert dropped["raw_rows"]["erp__customers"] == second["raw_rows"]["customers"] + 1
    after_drop = build_and_read(data_dir, dbt_seconds, raw_rows_queries())
    versions = [r for r in after_drop["raw__customers"] if r["customer_id"] == row["customer_id"]]
    channels = [
        ("/erp_postgres/customers/" in v["_source_file"], "/erp/customers/" in v["_source_file"]) for v in versions
    ]
    assert channels == [(True, False), (False, True)]  # ordered by arrival: the extraction's, then the file's
    assert versions[0]["updated_at"] == versions[1]["updated_at"]
    assert next(r for r in after_drop["customers"] if r["customer_id"] == row["customer_id"])["city"] == row["city"]

    _no_secret(workdir, first, second, third)
    print(
        f"ERP PostgreSQL -> lake -> raw -> staging, four runs and three dbt builds: {time.monotonic() - started:.1f}s "
        f"(dbt builds {', '.join(f'{s:.1f}s' for s in dbt_seconds)})"
    )
