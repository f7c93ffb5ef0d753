"""Row count and content hash of every table of the `marts` and `ml` databases, to show that a refactoring left
the data exactly as it was (issue 12: "same mart checksums on the demo company").

    .venv/bin/python scripts/warehouse_checksums.py --out before.json          # after `importau demo`
    ... change the code, `importau dbt build` or `importau demo` again ...
    .venv/bin/python scripts/warehouse_checksums.py --compare before.json      # exit 1 if any table differs

The hash is `sum(cityHash64(toString(tuple(*))))` over the rows: independent of row order, sensitive to every
value of every column, NULLs included. It reads the readers' snapshot (the state the last dbt command published),
never the writer's lock, so it runs beside a build; `CLICKHOUSE_URL` and `IMPORTAU_DATA_DIR` choose the warehouse,
as for `importau sql`.
Columns a run stamps with its own clock differ between two runs of the demo even when nothing changed: the ML
scores' `scored_at` is left out of the hash by default (`--exclude`, as `importau soak` leaves out its stamps).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

DATABASES = ("marts", "ml")
EXCLUDED_COLUMNS = ("scored_at",)  # when a scoring run wrote the row: differs per run by construction


def checksums(
    url: str | None, data_dir: str, exclude: tuple[str, ...] = EXCLUDED_COLUMNS
) -> dict[str, dict[str, str | int]]:
    """{database.table: {rows, hash}} for every relation of DATABASES (the snapshot shows its tables as views)."""
    from ingestion.common.warehouse_snapshot import open_reader

    out: dict[str, dict[str, str | int]] = {}
    with open_reader(url, data_dir) as reader:
        tables = reader.query(
            "SELECT database, name FROM system.tables WHERE database IN {databases:Array(String)} "
            "ORDER BY database, name",
            parameters={"databases": list(DATABASES)},
        ).result_rows
        for database, name in tables:
            columns = [
                f"`{column}`"
                for (column,) in reader.query(
                    "SELECT name FROM system.columns WHERE database = {database:String} AND table = {table:String} "
                    "ORDER BY position",
                    parameters={"database": database, "table": name},
                ).result_rows
                if column not in exclude
            ]
            row = f"tuple({', '.join(columns)})"
            sql = f"SELECT count(), toString(sum(cityHash64(toString({row})))) FROM `{database}`.`{name}`"
            rows, digest = reader.query(sql).result_rows[0]
            out[f"{database}.{name}"] = {"rows": int(rows), "hash": digest}
    return out


def compare(before: dict, after: dict) -> list[str]:
    """One line per table whose rows or hash differ, or that exists on one side only."""
    lines = []
    for table in sorted(set(before) | set(after)):
        old, new = before.get(table), after.get(table)
        if old != new:
            lines.append(f"{table}: before {old} after {new}")
    return lines


def main(argv: list[str] | None = None) -> int:
    from orchestration.resources.settings import resolve_data_dir

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="write the checksums to this JSON file")
    parser.add_argument("--compare", help="a JSON file written by --out: print the tables that differ, exit 1 if any")
    parser.add_argument(
        "--exclude", default=",".join(EXCLUDED_COLUMNS), help="columns left out of every hash (comma-separated)"
    )
    args = parser.parse_args(argv)
    url = os.environ.get("CLICKHOUSE_URL") or None
    exclude = tuple(column for column in args.exclude.split(",") if column)
    result = checksums(url, resolve_data_dir(os.environ.get("IMPORTAU_DATA_DIR")), exclude)
    for table, value in result.items():
        print(f"{table:60} {value['rows']:>9} {value['hash']!s:>22}")
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(result, handle, indent=1, sort_keys=True)
    if args.compare:
        with open(args.compare) as handle:
            differences = compare(json.load(handle), result)
        print("\n".join(differences) or f"all {len(result)} tables equal to {args.compare}")
        return 1 if differences else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
