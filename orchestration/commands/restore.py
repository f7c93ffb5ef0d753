"""`importau restore <name>`: a backup of `importau backup` into an EMPTY warehouse, then every table checked.

The warehouse is CLICKHOUSE_URL (default: the embedded chDB under IMPORTAU_DATA_DIR): point it at a new folder or
server. Each table's row count and row-hash sum must equal the ones recorded at backup time; exit status 1 and the
tables that differ otherwise.
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
    return 0
