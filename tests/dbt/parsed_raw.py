"""Raw tables of a parsed file drop (customs declarations, bank statements) for the dbt and mart tests: created empty
from the contract's lake schemas as the raw load creates them, and filled with checked records as the raw load
copies them from the lake (`_arrived_at`, `_partition_date`, `_loaded_at`, `_source_file`)."""

from __future__ import annotations

from datetime import datetime
from types import ModuleType

from ingestion.common.raw_load import ensure_raw_table

METADATA = ["_arrived_at", "_partition_date", "_loaded_at", "_source_file"]


def create_raw_tables(client, contracts: ModuleType, order_by=None, more_low_cardinality=()) -> None:
    """(Re)create `raw.<source>__<entity>` for every entity, keyed by `order_by(entity)` (default its primary key);
    the columns with an allowed set, and `more_low_cardinality`, as LowCardinality."""
    for entity in contracts.ENTITY_NAMES:
        name = f"{contracts.SOURCE}__{entity}"
        client.command(f"DROP TABLE IF EXISTS raw.{name}")
        keys = order_by(entity) if order_by else list(contracts.ENTITIES[entity].primary_key)
        low = [c.name for c in contracts.ENTITIES[entity].columns if c.allowed is not None]
        ensure_raw_table(client, name, contracts.lake_schema(entity), keys, low + list(more_low_cardinality))


def insert_rows(
    client, contracts: ModuleType, entity: str, rows: list[dict], arrived_at: datetime, loaded_at: datetime
) -> int:
    """Insert checked rows of one entity as loaded at `loaded_at` from the lake; the number inserted."""
    names = contracts.schema(entity).names
    source = f"/lake/{contracts.SOURCE}/{entity}"
    records = [[row[name] for name in names] + [arrived_at, loaded_at.date(), loaded_at, source] for row in rows]
    if records:
        client.insert(f"raw.{contracts.SOURCE}__{entity}", records, column_names=[*names, *METADATA])
    return len(records)
