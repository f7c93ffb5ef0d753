"""`importau restore <name>`: a backup of `importau backup` into an EMPTY warehouse, then every table checked.

The warehouse is CLICKHOUSE_URL (default: the embedded chDB under IMPORTAU_DATA_DIR): point it at a new folder or
server. Each table's row count and row-hash sum must equal the ones recorded at backup time; exit status 1 and the
tables that differ otherwise. The dbt step's record of what it built (`<data dir>/dbt_build_state.<target>.json`) is
removed, so the next daily build rebuilds every model on the restored tables.
"""

import argparse
import os
import sys


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "restore",
        help="restore a backup (importau backup) into an empty warehouse and compare every table's checksum",
        description="Restores CLICKHOUSE_BACKUP_URL/<name>/ into CLICKHOUSE_URL, which must have no table yet.",
    )
    parser.add_argument("name", help="the backup's name, as `importau backup` printed it")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ingestion.common.backup import BackupError, restore
    from ingestion.common.warehouse import WarehouseError, open_warehouse
    from orchestration.commands.backup import OWNER, location_and_access
    from orchestration.resources.settings import resolve_data_dir

    data_dir = resolve_data_dir(os.environ.get("IMPORTAU_DATA_DIR"))
    try:
        location, access = location_and_access(args.name)
        owner = OWNER.format(command="restore", pid=os.getpid())
        with open_warehouse(os.environ.get("CLICKHOUSE_URL") or None, data_dir, owner=owner) as wh:
            result = restore(wh.client, location, access, wh.layout)
    except (BackupError, WarehouseError, ValueError) as error:
        print(f"importau restore: {error}", file=sys.stderr)
        return 1
    if result["differences"]:
        print(f"importau restore: {len(result['differences'])} tables differ from the backup:", file=sys.stderr)
        for line in result["differences"]:
            print(f"  {line}", file=sys.stderr)
        return 1
    rows = sum(count for count, _ in result["checksums"].values())
    print(f"restored {len(result['checksums'])} tables ({rows} rows) from {location}; every checksum matches")
    for stale in forget_dbt_build_state(data_dir):
        print(f"forgot {stale}: the next daily dbt build rebuilds and tests every model")
    return 0


def forget_dbt_build_state(data_dir: str) -> list[str]:
    """Remove what the dbt step recorded about the warehouse it built (orchestration/dbt_build_state.py): the
    restored tables are not the ones it recorded, so a daily build must not leave any of them out."""
    from pathlib import Path

    from orchestration.dbt_build_state import state_path

    removed = []
    for path in sorted(Path(data_dir).glob(state_path("", "*").name)):
        path.unlink(missing_ok=True)
        removed.append(str(path))
    return removed
