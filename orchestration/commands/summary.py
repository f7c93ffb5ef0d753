"""What the demo prints at the end: what landed, and how to look at it."""

import os
from collections.abc import Callable
from pathlib import Path

from ingestion.common.warehouse import open_warehouse

FX_SUMMARY = (
    "SELECT currency, count() AS days, min(date) AS first, max(date) AS last "
    "FROM marts.fct_fx_rates_daily GROUP BY currency ORDER BY currency"
)


def print_summary(out: Callable[[str], None] = print, log_file: Path | None = None) -> None:
    """Print (through `out`, one call per line) the FX rates mart, the tables with their rows, and where things are."""
    from tabulate import tabulate

    data_dir = os.environ["IMPORTAU_DATA_DIR"]
    with open_warehouse(os.environ.get("CLICKHOUSE_URL") or None, data_dir, owner="importau demo summary") as wh:
        rows = wh.query_rows(FX_SUMMARY)
        tables = wh.query_rows(
            "SELECT database, name, total_rows FROM system.tables "
            "WHERE database IN ('raw', 'staging', 'intermediate', 'marts', 'ml') AND engine NOT IN ('View') "
            "ORDER BY database, name"
        )
    lines = ["", "marts.fct_fx_rates_daily:", tabulate(rows, headers=["currency", "days", "first", "last"])]
    lines += ["", "Tables:", tabulate(tables, headers=["database", "table", "rows"])]
    full_log = f"\n  full log             {log_file}" if log_file else ""
    lines.append(
        f"""
Where things are:
  lake (Parquet)       {os.environ.get("LAKE_URL") or os.path.join(data_dir, "lake")}
  warehouse (chDB)     {os.environ.get("CLICKHOUSE_URL") or os.path.join(data_dir, "warehouse")}
  Dagster instance     {os.environ.get("DAGSTER_HOME")}{full_log}
Query the marts:       .venv/bin/importau sql "{FX_SUMMARY}"
Open the Dagster UI:   .venv/bin/importau dev     (then http://127.0.0.1:3000)
Finance cockpit:       .venv/bin/importau cockpit (then http://127.0.0.1:8501)"""
    )
    for line in "\n".join(lines).splitlines():
        out(line)
