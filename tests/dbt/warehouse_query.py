"""Run named queries against a chDB warehouse folder in a separate process and print JSON.

Usage: `python tests/dbt/warehouse_query.py <data_dir>` with `{"name": "SELECT ...", ...}` on stdin. It prints
`{"name": [{"column": value, ...}, ...]}`, with values as JSON scalars (Decimal and dates as strings).
chDB hosts one engine folder per process, and the pytest process has its own (tests/conftest.py), so the dbt
tests read their warehouse through this script and never open it in-process.
"""

import json
import sys
from datetime import date, datetime
from decimal import Decimal


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def main(data_dir: str) -> None:
    from ingestion.common.warehouse import open_warehouse

    queries = json.load(sys.stdin)
    results = {}
    with open_warehouse("", data_dir, owner="pytest tests/dbt") as warehouse:
        for name, sql in queries.items():
            result = warehouse.client.query(sql)
            results[name] = [
                {column: _plain(value) for column, value in zip(result.column_names, row, strict=True)}
                for row in result.result_rows
            ]
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
