"""The dbt staging views of the ERP built on a chDB folder and read back, for the ERP integration tests
(test_erp_file_drop_to_staging, test_erp_postgres_asset, test_erp_postgres_to_staging).

`build_and_read` runs `importau-dbt build --select path:models/staging/erp` on the folder (in a subprocess, see
tests/README.md), appends its wall time to `dbt_seconds`, asserts every model and data test succeeded (the
relationships tests only warn: an orphan would show as a warning here) and returns every staging view in key
order plus the given raw queries. `raw_rows_queries` reads every raw table whole but `_loaded_at`, in key then
arrival order; `raw_counts_query` counts every raw table's rows per `_partition_date`. `row_key` is a row's
contract primary key; `same` compares a Python value with the JSON value a query printed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from ingestion.erp import contracts
from tests.dbt.dbt_harness import query, run_dbt

ERP_STAGING = "path:models/staging/erp"


def row_key(entity: str, row: dict) -> tuple:
    return tuple(row[name] for name in contracts.ENTITIES[entity].primary_key)


def same(expected, got) -> bool:
    """A Python value (the demo company, PostgreSQL, an extraction) against the JSON value a query printed."""
    if expected is None or got is None:
        return expected is got
    if isinstance(expected, Decimal):
        return Decimal(got) == expected
    if isinstance(expected, datetime):
        parsed = datetime.fromisoformat(got)
        return (parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed) == expected
    if isinstance(expected, date):
        return date.fromisoformat(got) == expected
    return got == expected


def _key_order(entity: str) -> str:
    return ", ".join(contracts.ENTITIES[entity].primary_key)


def raw_rows_queries() -> dict[str, str]:
    """`raw__<entity>`: every raw row but `_loaded_at`, in key then arrival order."""
    return {
        f"raw__{entity}": f"SELECT * EXCEPT _loaded_at FROM raw.erp__{entity}"
        f" ORDER BY {_key_order(entity)}, _arrived_at"
        for entity in contracts.ENTITY_NAMES
    }


def raw_counts_query() -> dict[str, str]:
    """`raw_counts`: the rows of every raw table per `_partition_date` (entity, day as text, n)."""
    union = " UNION ALL ".join(
        f"SELECT '{entity}' AS entity, toString(_partition_date) AS day, count() AS n FROM raw.erp__{entity}"
        " GROUP BY _partition_date"
        for entity in contracts.ENTITY_NAMES
    )
    return {"raw_counts": f"SELECT * FROM ({union}) ORDER BY entity, day"}


def build_and_read(data_dir: Path, dbt_seconds: list[float], raw_queries: dict[str, str]) -> dict[str, list[dict]]:
    dbt = run_dbt(data_dir, "build", "--select", ERP_STAGING)
    dbt_seconds.append(dbt.seconds)
    assert dbt.returncode == 0, dbt.output[-8000:]
    statuses = {result["status"] for result in dbt.run_results["results"]}
    assert statuses <= {"success", "pass"}, dbt.output[-8000:]  # relationships warn: an orphan would show
    queries = {
        entity: f"SELECT * FROM staging.stg_erp__{entity} ORDER BY {_key_order(entity)}"
        for entity in contracts.ENTITY_NAMES
    }
    return query(data_dir, **queries, **raw_queries)
