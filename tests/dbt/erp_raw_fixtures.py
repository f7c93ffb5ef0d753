"""Load the raw ERP tables of a chDB warehouse with the demo company in three loads, for the ERP staging test.

Run as a script in its own process (chDB hosts one engine per process, and the dbt subprocess that follows must
open the same folder): `python tests/dbt/erp_raw_fixtures.py <data_dir>`. It creates `raw.erp__<entity>` with
`ensure_raw_table` from the lake schemas (exactly the contract columns + `_arrived_at`, `_partition_date`,
`_loaded_at`, `_source_file`), inserts every row through `contracts.validate`, and prints JSON: raw row counts,
the scenario keys, and the expected staging state computed here in Python (the latest version per key by
`updated_at`, then `_arrived_at`, then `_loaded_at`), which the test compares with what dbt built. `_arrived_at`
is the load time (an extraction arrives when it runs) except where a scenario says otherwise.

The loads, as an incremental extraction with an overlap would produce them:
1. `LOAD_1`: the whole demo company (`generate(seed=42, scale=0.2)`), as extracted.
2. `LOAD_2`: the overlap: every row changed in the company's last 30 days again, unchanged; a late update of
   the first PO (new status and total, newer `updated_at`); a soft delete of a payable that has settlements and of
   a product; a payable whose amount was corrected without a new `updated_at` (a re-dropped file).
3. `LOAD_3`: the product undeleted (newer `updated_at`, `deleted_at` NULL); a stale copy of the second PO (older
   `updated_at`, other values), which must not win; a customer corrected without a new `updated_at` (same
   version time, later arrival), which must win; the corrected payable's first version again, as a re-run of
   load 1's partition writes it (`_loaded_at` of load 3, `_arrived_at` of load 1), which must not win.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from ingestion.common.raw_load import ensure_raw_table
from ingestion.erp import contracts
from sandboxes.demo_company import generate

SEED, SCALE = 42, 0.2
LOAD_1 = datetime(2025, 1, 2, 6, 0, tzinfo=UTC)
LOAD_2 = datetime(2025, 1, 3, 6, 0, tzinfo=UTC)
LOAD_3 = datetime(2025, 1, 4, 6, 0, tzinfo=UTC)
OVERLAP = timedelta(days=30)
METADATA = ["_partition_date", "_loaded_at", "_source_file"]


def raw_key(entity: str) -> str:
    return f"erp__{entity}"


def low_cardinality(entity: str) -> list[str]:
    """The code columns (an allowed set) as LowCardinality, as the raw load may choose; staging casts anyway."""
    return [column.name for column in contracts.ENTITIES[entity].columns if column.allowed is not None]


def create_erp_raw_tables(client) -> None:
    """Create every `raw.erp__<entity>` (empty) from the lake schemas, keyed by the primary key."""
    for entity in contracts.ENTITY_NAMES:
        contract = contracts.ENTITIES[entity]
        schema = contracts.lake_schema(entity)
        ensure_raw_table(client, raw_key(entity), schema, contract.primary_key, low_cardinality(entity))


def _validated(entity: str, rows: list[dict]) -> list[dict]:
    table, quarantine = contracts.validate(entity, rows)
    assert not quarantine, [record.reason for record in quarantine]
    return table.to_pylist()


def _insert(
    client, entity: str, rows: list[dict], loaded_at: datetime, versions: dict, arrived_at: datetime | None = None
) -> None:
    """Insert validated rows as one raw load (arrived at `arrived_at`, default the load time); remember each
    version for the expected state."""
    rows = _validated(entity, rows)
    if not rows:
        return
    arrived_at = arrived_at or loaded_at
    names = contracts.schema(entity).names
    records = []
    for row in rows:
        day = row["updated_at"].date()
        source_file = f"/lake/erp/{entity}/dt={day.isoformat()}/part-000.parquet"
        records.append([row[name] for name in names] + [arrived_at, day, loaded_at, source_file])
        versions.setdefault(entity, []).append((row, arrived_at, loaded_at, source_file))
    client.insert(f"raw.{raw_key(entity)}", records, column_names=[*names, contracts.ARRIVED_AT, *METADATA])


def _latest(entity: str, versions: list) -> list[dict]:
    """The reference rule: per primary key the version with the greatest (updated_at, arrived_at, loaded_at,
    source_file)."""
    key = contracts.ENTITIES[entity].primary_key
    best: dict[tuple, tuple] = {}
    for row, arrived_at, loaded_at, source_file in versions:
        k = tuple(row[name] for name in key)
        rank = (row["updated_at"], arrived_at, loaded_at, source_file)
        if k not in best or rank > best[k][0]:
            best[k] = (
                rank,
                {**row, "arrived_at": arrived_at, "loaded_at": loaded_at, "source_file": source_file},
            )
    return [row for _, row in sorted(best.values(), key=lambda item: item[0])]


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def load(data_dir: str) -> dict:
    from ingestion.common.warehouse import open_warehouse

    company = generate(seed=SEED, scale=SCALE)
    erp = {entity: company.erp[entity].to_pylist() for entity in contracts.ENTITY_NAMES}
    last_change = max(row["updated_at"] for rows in erp.values() for row in rows)

    updated_po = dict(erp["purchase_orders"][0])
    updated_po.update(
        status="CANCELLED",
        total_amount=updated_po["total_amount"] + Decimal("100.5000"),
        updated_at=LOAD_2 - timedelta(hours=1),
    )
    stale_po = dict(erp["purchase_orders"][1])
    stale_po.update(
        status="OPEN", total_amount=Decimal("1.0000"), updated_at=stale_po["updated_at"] - timedelta(days=3)
    )
    settled = {row["payable_id"] for row in erp["payable_settlements"]}
    deleted_payable = dict(next(row for row in erp["payables"] if row["payable_id"] in settled))
    deleted_payable.update(deleted_at=LOAD_2 - timedelta(minutes=30), updated_at=LOAD_2 - timedelta(minutes=30))
    deleted_product = dict(erp["products"][0])
    deleted_product.update(deleted_at=LOAD_2 - timedelta(minutes=20), updated_at=LOAD_2 - timedelta(minutes=20))
    undeleted_product = dict(erp["products"][0])
    undeleted_product.update(deleted_at=None, updated_at=LOAD_3 - timedelta(minutes=10))
    corrected_customer = dict(erp["customers"][0])
    corrected_customer.update(city=corrected_customer["city"] + " (corrigido)")
    # a payable outside the overlap, not the deleted one: its amount corrected, its updated_at unchanged
    original_payable = next(
        row
        for row in erp["payables"]
        if row["updated_at"] < last_change - OVERLAP and row["payable_id"] != deleted_payable["payable_id"]
    )
    corrected_payable = dict(original_payable)
    corrected_payable.update(amount=original_payable["amount"] + Decimal("10.0000"))

    versions: dict[str, list] = {}
    with open_warehouse("", data_dir, owner="pytest tests/dbt erp_raw_fixtures") as warehouse:
        client = warehouse.client
        create_erp_raw_tables(client)
        for entity, rows in erp.items():
            _insert(client, entity, rows, LOAD_1, versions)
        for entity, rows in erp.items():
            overlap = [row for row in rows if row["updated_at"] >= last_change - OVERLAP]
            extra = {
                "purchase_orders": [updated_po],
                "payables": [deleted_payable, corrected_payable],
                "products": [deleted_product],
            }
            changed = extra.get(entity, [])
            changed_keys = {contracts.ENTITIES[entity].key_of(row) for row in changed}
            overlap = [row for row in overlap if contracts.ENTITIES[entity].key_of(row) not in changed_keys]
            _insert(client, entity, overlap + changed, LOAD_2, versions)
        _insert(client, "products", [undeleted_product], LOAD_3, versions)
        _insert(client, "purchase_orders", [stale_po], LOAD_3, versions)
        _insert(client, "customers", [corrected_customer], LOAD_3, versions)
        _insert(client, "payables", [original_payable], LOAD_3, versions, arrived_at=LOAD_1)  # load 1's re-run
        raw_rows = {
            entity: int(client.query(f"SELECT count() FROM raw.{raw_key(entity)}").result_rows[0][0])
            for entity in contracts.ENTITY_NAMES
        }
    return {
        "raw_rows": raw_rows,
        "expected": {
            entity: [{name: _plain(value) for name, value in row.items()} for row in _latest(entity, versions[entity])]
            for entity in contracts.ENTITY_NAMES
        },
        "scenario": {
            "updated_po": _plain_row(updated_po),
            "stale_po": _plain_row(stale_po),
            "deleted_payable": deleted_payable["payable_id"],
            "deleted_product": deleted_product["sku"],
            "corrected_customer": _plain_row(corrected_customer),
            "corrected_payable": _plain_row(corrected_payable),
            "original_payable": _plain_row(original_payable),
            "load_2": LOAD_2.isoformat(),
            "load_3": LOAD_3.isoformat(),
        },
    }


def _plain_row(row: dict) -> dict:
    return {name: _plain(value) for name, value in row.items()}


if __name__ == "__main__":
    json.dump(load(sys.argv[1]), sys.stdout)
