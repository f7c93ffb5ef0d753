"""Small helpers every asset uses: the partition window as dates, who holds the warehouse, table previews, the spec
of a lake dataset."""

from datetime import date, timedelta

import dagster as dg
import pyarrow as pa

from ingestion.common.clock import sao_paulo_today  # noqa: F401 - the business clock, for the assets
from orchestration.constants import OWNER


def lake_spec(key: dg.AssetKey | list[str], source: str, description: str) -> dg.AssetSpec:
    """The spec of one lake dataset an ingestion multi-asset writes: its source's group, Parquet written by Python."""
    return dg.AssetSpec(key, group_name=source, kinds={"python", "parquet"}, owners=[OWNER], description=description)


def partition_dates(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """First and last calendar date of the partition range this run materializes (both included).

    Partitions are months: a run of 2024-01..2024-03 covers 2024-01-01..2024-03-31.
    """
    window = context.partition_time_window
    return window.start.date(), (window.end - timedelta(days=1)).date()


def run_owner(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> str:
    """How the warehouse lock names this step, so a blocked process can say who holds it."""
    op_context = context.op_execution_context
    return f"dagster run {op_context.run_id[:8]} step {op_context.op_def.name}"


def preview_markdown(table: pa.Table, rows: int = 5) -> str:
    """The first rows of a table as a Markdown table for the Dagster UI."""
    head = table.slice(0, rows).to_pylist()
    if not head:
        return "_no rows_"
    columns = table.column_names
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row[name]) for name in columns) + " |" for row in head]
    return "\n".join(lines)


def without_column(table: pa.Table, column: str) -> pa.Table:
    """The table minus one column if present (e.g. the wide `raw_json` of Open Finance, before a preview)."""
    return table.drop_columns([column]) if column in table.column_names else table
