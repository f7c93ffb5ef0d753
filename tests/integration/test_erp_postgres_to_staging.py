"""The ERP's real PostgreSQL through to the dbt staging views on chDB: a first load, updates and a soft delete, re-runs.

The demo company (seed 42, scale 0.1) is loaded into a temporary PostgreSQL schema. Day 1 extracts every entity
without a cursor and lands it in `raw.erp__<entity>` (`_partition_date` = day 1); the cursors are stored only
then. The ERP then updates a purchase order (new status and total, newer `updated_at`) and soft-deletes a payable
that has settlements. Day 2 extracts from the stored cursors (with the 10-minute overlap), lands the rows as day 2
and runs `importau-dbt build --select path:models/staging/erp`: every view must hold exactly PostgreSQL's latest
state (the same keys, every contract column equal, `is_deleted` = `deleted_at is not null`, `loaded_at` of the
load that brought the latest version). Day 2 is then run twice more from the same stored cursors (a partition
re-run: the day's raw rows are deleted and inserted again, the Parquet overwritten, dbt built again); the staging
rows, raw counts and cursors must be identical across the three runs. `_loaded_at` is the run's load time,
fixed per day, so the rows compare whole. Steps touching chDB run in subprocesses (see tests/README.md).
"""

import shutil
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from decimal import Decimal

import psycopg
import pytest

from ingestion.erp import contracts
from ingestion.erp.postgres import extract_incremental, load_company
from ingestion.erp.state import CursorStore
from sandboxes.demo_company import generate
from tests.dbt.test_erp_staging import staging_name
from tests.integration.erp_pipeline import advanced, extract_day, land_day
from tests.integration.erp_staging import build_and_read, raw_counts_query, row_key, same
from tests.servers.postgres import postgres_dsn, temporary_schema

pytestmark = pytest.mark.integration


@pytest.fixture
def dsn() -> str:
    try:
        return postgres_dsn()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def workdir(tmp_path):
    """The lake, the cursors and the chDB data dir of the test, removed afterwards."""
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)


def _assert_latest_state(conn, schema, staging, day_2_keys, loaded_at_1, loaded_at_2) -> None:
    for entity in contracts.ENTITY_NAMES:
        table = extract_incremental(conn, entity, None, schema=schema).table
        latest = {row_key(entity, row): row for row in table.to_pylist()}
        rows = {row_key(entity, row): row for row in staging[entity]}
        assert len(rows) == len(staging[entity]), f"{entity}: one row per key"
        assert rows.keys() == latest.keys(), entity
        for key, want in latest.items():
            got = rows[key]
            for column, value in want.items():
                assert same(value, got[staging_name(entity, column)]), (entity, key, column, value, got)
            assert got["is_deleted"] is (want["deleted_at"] is not None), (entity, key)
            loaded_at = loaded_at_2 if key in day_2_keys[entity] else loaded_at_1
            assert same(loaded_at, got["loaded_at"]), (entity, key, got["loaded_at"])


def test_postgres_first_load_updates_soft_delete_and_reruns_reach_the_same_staging(dsn, workdir):
    started = time.monotonic()
    company = generate(seed=42, scale=0.1)
    last_change = max(max(company.erp[entity]["updated_at"].to_pylist()) for entity in contracts.ENTITY_NAMES)
    day_1 = last_change.date() + timedelta(days=1)
    day_2 = day_1 + timedelta(days=1)
    loaded_at_1 = datetime.combine(day_1, clock(6, 0), tzinfo=UTC)
    loaded_at_2 = datetime.combine(day_2, clock(6, 0), tzinfo=UTC)
    changed_at = loaded_at_1 + timedelta(hours=2, milliseconds=123)  # the ERP works between the two runs
    data_dir, lake = workdir / "importau", workdir / "lake"

    with temporary_schema(dsn) as schema, psycopg.connect(dsn) as conn:
        load_company(conn, company, schema)

        # Day 1: the whole company, no cursor; the cursors are stored once the rows have landed.
        first = extract_day(conn, schema, CursorStore(), lake, day_1)
        raw_day_1 = land_day(data_dir, lake, day_1, loaded_at_1)
        assert raw_day_1 == {entity: company.erp[entity].num_rows for entity in contracts.ENTITY_NAMES}
        advanced(CursorStore(), first).save(workdir / "state" / "after_day_1")

        # The ERP: a PO updated (new values, newer updated_at), a payable with settlements soft-deleted.
        po = company.erp["purchase_orders"].to_pylist()[0]
        new_status = "CANCELLED" if po["status"] != "CANCELLED" else "OPEN"
        new_total = po["total_amount"] + Decimal("250.7500")
        settled = set(company.erp["payable_settlements"]["payable_id"].to_pylist())
        payable = next(row for row in company.erp["payables"].to_pylist() if row["payable_id"] in settled)
        assert payable["deleted_at"] is None
        with conn.transaction():
            assert (
                conn.execute(
                    f'UPDATE "{schema}".purchase_orders SET status = %s, total_amount = %s, updated_at = %s'
                    " WHERE po_id = %s",
                    (new_status, new_total, changed_at, po["po_id"]),
                ).rowcount
                == 1
            )
            assert (
                conn.execute(
                    f'UPDATE "{schema}".payables SET deleted_at = %s, updated_at = %s WHERE payable_id = %s',
                    (changed_at, changed_at, payable["payable_id"]),
                ).rowcount
                == 1
            )

        # Day 2, three times from the cursors stored after day 1: extract (overlap), replace day 2, build.
        runs, extractions, dbt_seconds = [], [], []
        for _ in range(3):
            cursors = CursorStore.load(workdir / "state" / "after_day_1")
            second = extract_day(conn, schema, cursors, lake, day_2)
            raw_day_2 = land_day(data_dir, lake, day_2, loaded_at_2)
            after = advanced(cursors, second)
            after.save(workdir / "state" / "after_day_2")
            staging = build_and_read(data_dir, dbt_seconds, raw_counts_query())
            extractions.append(second)
            runs.append((staging, raw_day_2, CursorStore.load(workdir / "state" / "after_day_2").to_dict()))

        staging, raw_day_2, cursors_after = runs[0]
        day_2_keys = {
            entity: {row_key(entity, row) for row in extraction.table.to_pylist()}
            for entity, extraction in extractions[0].items()
        }
        assert raw_day_2 == {entity: len(keys) for entity, keys in day_2_keys.items()}
        assert day_2_keys["purchase_orders"] >= {(po["po_id"],)}
        assert day_2_keys["payables"] >= {(payable["payable_id"],)}
        assert sum(raw_day_2.values()) < sum(raw_day_1.values()) / 4  # an increment, not the whole company again
        assert cursors_after["erp.purchase_orders"] == cursors_after["erp.payables"] == changed_at.isoformat()

        # Staging holds exactly PostgreSQL's latest state.
        _assert_latest_state(conn, schema, staging, day_2_keys, loaded_at_1, loaded_at_2)

    updated = next(row for row in staging["purchase_orders"] if row["po_id"] == po["po_id"])
    assert (updated["status"], Decimal(updated["total_amount"])) == (new_status, new_total)
    assert same(changed_at, updated["updated_at"]) and same(loaded_at_2, updated["loaded_at"])
    deleted = next(row for row in staging["payables"] if row["payable_id"] == payable["payable_id"])
    assert deleted["is_deleted"] is True and same(changed_at, deleted["deleted_at"])
    assert len(staging["payables"]) == company.erp["payables"].num_rows  # the soft delete is kept, flagged
    flagged = {
        (entity, row_key(entity, row))
        for entity in contracts.ENTITY_NAMES
        for row in staging[entity]
        if row["is_deleted"]
    }
    demo_deleted = {
        (entity, row_key(entity, row))
        for entity in contracts.ENTITY_NAMES
        for row in company.erp[entity].to_pylist()
        if row["deleted_at"] is not None
    }
    assert flagged == demo_deleted | {("payables", (payable["payable_id"],))}
    raw_counts = {(row["entity"], row["day"]): row["n"] for row in staging["raw_counts"]}
    assert raw_counts == {
        **{(entity, day_1.isoformat()): n for entity, n in raw_day_1.items()},
        **{(entity, day_2.isoformat()): n for entity, n in raw_day_2.items() if n},
    }

    # Three runs of day 2: identical staging rows, raw rows (replaced, never appended) and cursors.
    for rerun, extraction in zip(runs[1:], extractions[1:], strict=True):
        for name, rows in runs[0][0].items():
            assert rerun[0][name] == rows, name
        assert rerun[1:] == runs[0][1:]
        assert all(extraction[entity].table.equals(extractions[0][entity].table) for entity in contracts.ENTITY_NAMES)
    seconds = time.monotonic() - started
    print(
        f"ERP PostgreSQL -> raw -> staging, day 1 + three runs of day 2: {seconds:.1f}s (dbt builds "
        f"{', '.join(f'{s:.1f}s' for s in dbt_seconds)}); day 2 raw rows {sum(raw_day_2.values())}: {raw_day_2}"
    )
