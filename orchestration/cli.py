"""`importau`: the platform's command line.

Subcommands come from two places: `sql` is defined here, and every module in `orchestration/commands/` that
defines `add_parser(subparsers)` adds its own (found at start-up, in name order). An `add_parser` adds one
subparser and sets `handler=<function(args) -> int>` with `set_defaults`; the int is the exit code. Modules
keep heavy imports (Dagster, dbt) inside their handlers, so `importau sql` starts fast.
"""

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Callable

from orchestration.resources.settings import resolve_data_dir

SQL_OWNER = "importau sql (pid {pid})"


def first_error_line(error: BaseException) -> str:
    """The line of a ClickHouse error a person needs (`Code: N. DB::Exception: ...`), else the first line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for line in lines:
        if "DB::Exception" in line:
            return line[:500]
    return (lines[0] if lines else type(error).__name__)[:500]


def add_sql_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sql",
        help="run one SQL query against the warehouse and print the result",
        description="Runs one query against CLICKHOUSE_URL (default: embedded chDB under IMPORTAU_DATA_DIR).",
    )
    parser.add_argument("query", help='e.g. "SELECT * FROM marts.fct_fx_rates_daily LIMIT 5"')
    parser.add_argument(
        "--csv",
        action="store_true",
        help="print CSV with a header row instead of a table; text that a spreadsheet would take for a formula "
        "(starting with = + - @, tab or CR) gets a leading ' (numbers stay as they are)",
    )
    parser.add_argument("--url", default=None, help="warehouse URL (overrides CLICKHOUSE_URL)")
    parser.add_argument(
        "--live",
        action="store_true",
        help="embedded warehouse: open the warehouse folder itself (every database, fails at once while a run "
        "holds it) instead of the readers' snapshot of marts and ml",
    )
    parser.set_defaults(handler=run_sql)


def _is_missing_table(error: BaseException) -> bool:
    """ClickHouse's UNKNOWN_TABLE (60) or UNKNOWN_DATABASE (81): the snapshot holds marts and ml only."""
    text = str(error)
    return "UNKNOWN_TABLE" in text or "UNKNOWN_DATABASE" in text


READ_STATEMENTS = ("SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "EXISTS")


def _is_read(sql: str) -> bool:
    """A statement readers may answer (the snapshot is read-only; anything else goes to the warehouse)."""
    words = sql.lstrip(" \t\n(").split(None, 1)
    return bool(words) and words[0].upper() in READ_STATEMENTS


def _query(url: str, data_dir: str, sql: str, live: bool) -> tuple[list, list]:
    """Columns and rows of `sql`: embedded, a read comes from the readers' snapshot (never the writer's lock)
    unless `live`, or it names a table the snapshot does not hold, or nothing was published yet."""
    from ingestion.common.warehouse import open_warehouse, parse_warehouse_url
    from ingestion.common.warehouse_snapshot import SnapshotError, open_reader

    if parse_warehouse_url(url or None, data_dir).is_embedded and not live and _is_read(sql):
        try:
            with open_reader(url or None, data_dir) as reader:
                result = reader.query(sql)
                return list(result.column_names), list(result.result_rows)
        except SnapshotError:
            pass  # nothing published yet (no dbt build so far): the warehouse itself
        except Exception as error:
            if not _is_missing_table(error):
                raise
            # readers see marts and ml only: raw, staging and intermediate need the warehouse itself
    with open_warehouse(url or None, data_dir, owner=SQL_OWNER.format(pid=os.getpid())) as warehouse:
        result = warehouse.query(sql)
        return list(result.column_names), list(result.result_rows)


def run_sql(args: argparse.Namespace) -> int:
    from ingestion.common.warehouse import WarehouseError

    url = args.url if args.url is not None else os.environ.get("CLICKHOUSE_URL", "")
    data_dir = resolve_data_dir(os.environ.get("IMPORTAU_DATA_DIR"))
    try:
        columns, rows = _query(url, data_dir, args.query, args.live)
    except (WarehouseError, ValueError) as error:
        print(f"importau sql: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # the SQL failed: ClickHouse says why
        print(f"importau sql: {first_error_line(error)}", file=sys.stderr)
        return 1
    if args.csv:  # for a person's spreadsheet: formula-like text neutralised (the warehouse keeps it as it is)
        from ingestion.common.spreadsheet import write_csv

        write_csv(sys.stdout, [columns, *rows])
    else:
        from tabulate import tabulate

        print(tabulate(rows, headers=columns, disable_numparse=True))
        print(f"({len(rows)} row{'' if len(rows) == 1 else 's'})")
    return 0


def command_registrars() -> list[Callable[[argparse._SubParsersAction], None]]:
    """`add_sql_parser`, then every `orchestration.commands.<module>.add_parser`, in module-name order."""
    import orchestration.commands as package

    registrars = [add_sql_parser]
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda info: info.name):
        try:
            module = importlib.import_module(f"{package.__name__}.{info.name}")
        except ModuleNotFoundError as error:
            # development commands (demo, replay, sandbox bank, soak) need the local stand-ins, which are not part
            # of the production install (sandboxes/pyproject.toml): there they are simply absent
            if (error.name or "").split(".")[0] == "sandboxes":
                continue
            raise
        if callable(getattr(module, "add_parser", None)):
            registrars.append(module.add_parser)
    return registrars


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="importau", description="The Importaú data platform.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in command_registrars():
        register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    from orchestration.env_defaults import apply_env_defaults

    apply_env_defaults()  # the embedded defaults, for this process and the ones it starts (settings registry)
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] != "sandboxes":
            raise
        print(
            f"importau {args.command}: needs the local stand-ins (sandboxes/), which a production install does not "
            "carry; use a development checkout (bash scripts/bootstrap.sh)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
