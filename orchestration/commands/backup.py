"""`importau backup`: the warehouse to S3 with ClickHouse's BACKUP (ingestion/common/backup.py).

Where: `CLICKHOUSE_BACKUP_URL=s3://bucket[/prefix]` on `S3_ENDPOINT_URL`, one folder per backup name (default: the
UTC time, `20261206T120000Z`), its checksums beside it. The keys: `S3_ACCESS_KEY_ID` / `S3_SECRET_ACCESS_KEY` on the
embedded chDB (in memory only); a server uses its own config (docs/clickhouse/importau_backup_s3.xml).
`importau restore <name>` (restore.py) brings one back into an empty warehouse and checks every table.
"""

import argparse
import os
import sys
from datetime import UTC, datetime

OWNER = "importau {command} (pid {pid})"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "backup",
        help="back the warehouse up to S3 (CLICKHOUSE_BACKUP_URL) with ClickHouse's BACKUP, plus table checksums",
        description="Backs up raw, staging, intermediate, marts and ml of CLICKHOUSE_URL (default: the embedded "
        "chDB) to CLICKHOUSE_BACKUP_URL/<name>/ on S3_ENDPOINT_URL. Restore with `importau restore <name>`.",
    )
    parser.add_argument("--name", default="", help="the backup's folder name (default: the UTC time)")
    parser.set_defaults(handler=run)


def location_and_access(name: str):
    """(BackupLocation, S3Access) from the environment; raises BackupError when something is missing."""
    from ingestion.common.backup import S3Access, backup_location
    from ingestion.common.warehouse import parse_warehouse_url
    from orchestration.resources.settings import resolve_data_dir

    location = backup_location(os.environ.get("CLICKHOUSE_BACKUP_URL", ""), os.environ.get("S3_ENDPOINT_URL", ""), name)
    target = parse_warehouse_url(
        os.environ.get("CLICKHOUSE_URL") or None, resolve_data_dir(os.environ.get("IMPORTAU_DATA_DIR"))
    )
    access = S3Access(
        os.environ.get("S3_ACCESS_KEY_ID", ""), os.environ.get("S3_SECRET_ACCESS_KEY", ""), embedded=target.is_embedded
    )
    return location, access


def run(args: argparse.Namespace) -> int:
    from ingestion.common.backup import BackupError, backup
    from ingestion.common.warehouse import WarehouseError, open_warehouse
    from orchestration.resources.settings import resolve_data_dir

    name = args.name or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    data_dir = resolve_data_dir(os.environ.get("IMPORTAU_DATA_DIR"))
    try:
        location, access = location_and_access(name)
        owner = OWNER.format(command="backup", pid=os.getpid())
        with open_warehouse(os.environ.get("CLICKHOUSE_URL") or None, data_dir, owner=owner) as wh:
            result = backup(wh.client, location, access, wh.layout)
    except (BackupError, WarehouseError, ValueError) as error:
        print(f"importau backup: {error}", file=sys.stderr)
        return 1
    rows = sum(count for count, _ in result["checksums"].values())
    print(f"backed up {len(result['checksums'])} tables ({rows} rows) to {location}: {result['status']}")
    print(f"restore with: importau restore {name}")
    return 0
