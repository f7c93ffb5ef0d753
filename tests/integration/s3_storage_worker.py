"""One process's turn on a warehouse whose tables keep their parts on an S3 storage policy (chDB hosts one engine
per process, and a new process is the restart the test needs): `python s3_storage_worker.py load|read <data dir>`.
The policy comes from the environment (CLICKHOUSE_STORAGE_POLICY, CLICKHOUSE_S3_DISK_URL, S3_*), as in production.
Prints one JSON object: the table's checksum, its active parts and their disks.

load: two months of lake partitions loaded by the raw loader (side table, REPLACE PARTITION), one month loaded
again with more rows (a second part per month), then OPTIMIZE FINAL merges them on S3.
"""

import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from ingestion.common.lake import LocalLake  # noqa: E402
from ingestion.common.raw_load import ensure_raw_table, replace_partitions  # noqa: E402
from ingestion.common.warehouse import open_warehouse  # noqa: E402

TABLE = "s3test__payments"
SCHEMA = pa.schema(
    [
        pa.field("payment_id", pa.string(), nullable=False),
        pa.field("currency", pa.string(), nullable=False),
        pa.field("amount", pa.decimal128(18, 4), nullable=False),
        pa.field("note", pa.string()),
    ]
)


def _write_month(lake: LocalLake, month: int, rows_per_day: int) -> None:
    for day in (3, 17):
        rows = [
            {"payment_id": f"{month}-{day}-{i}", "currency": "USD", "amount": Decimal(f"{i}.1234"), "note": None}
            for i in range(rows_per_day)
        ]
        lake.write_partition("s3test", "payments", date(2024, month, day), pa.Table.from_pylist(rows, schema=SCHEMA))


def checksum(wh, table: str) -> list:
    return list(wh.query_rows(f"SELECT count(), sum(cityHash64(toString(tuple(*)))) FROM {table}")[0])


def state(wh, database: str, table: str) -> dict:
    parts = wh.query_rows(
        # parts holding rows (a partition swap may leave an empty part covering the blocks it dropped)
        "SELECT name, disk_name FROM system.parts WHERE database = {d:String} AND table = {t:String} AND active "
        "AND rows > 0 ORDER BY name",
        parameters={"d": database, "t": table},
    )
    disks = dict(wh.query_rows("SELECT name, type FROM system.disks"))
    return {"checksum": checksum(wh, f"{database}.{table}"), "parts": parts, "disk_types": disks}


def documented_config(data_dir: str, config: str) -> dict:
    """A server's path: the policy of docs/clickhouse/importau_s3_storage.xml (loaded as the engine's config, its
    endpoint and cache folder pointed at the test's), the raw loader writing to it with `storage_policy`."""
    import clickhouse_connect

    from ingestion.common.table_layout import TableLayout
    from ingestion.common.warehouse import Warehouse, WarehouseTarget

    path = str(Path(data_dir) / "warehouse")
    client = clickhouse_connect.get_client(interface="chdb", path=path, chdb_options={"config-file": config})
    client.command("CREATE DATABASE IF NOT EXISTS raw")
    layout = TableLayout(storage_policy="importau_s3")
    lake = LocalLake(Path(data_dir) / "lake")
    _write_month(lake, 3, 30)
    ensure_raw_table(client, TABLE, SCHEMA, ["currency", "payment_id"], ["currency"], layout=layout)
    replace_partitions(
        client, TABLE, lake.clickhouse_reader("s3test", "payments"), date(2024, 3, 1), date(2024, 3, 31), layout=layout
    )
    return state(Warehouse(client, WarehouseTarget(chdb_path=path)), "raw", TABLE)


def main(phase: str, data_dir: str) -> None:
    if phase == "documented-config":
        print(json.dumps(documented_config(data_dir, sys.argv[3]), default=str))
        return
    result = {}
    with open_warehouse(None, data_dir, owner=f"s3_storage_worker {phase}") as wh:
        if phase == "load":
            lake = LocalLake(Path(data_dir) / "lake")
            _write_month(lake, 1, 50)
            _write_month(lake, 2, 50)
            reader = lake.clickhouse_reader("s3test", "payments")
            ensure_raw_table(wh.client, TABLE, SCHEMA, ["currency", "payment_id"], ["currency"], layout=wh.layout)
            first = replace_partitions(wh.client, TABLE, reader, date(2024, 1, 1), date(2024, 2, 29), layout=wh.layout)
            _write_month(lake, 2, 80)  # February corrected: more rows; a second part to merge
            wh.command(f"SYSTEM STOP MERGES raw.{TABLE}")
            replace_partitions(wh.client, TABLE, reader, date(2024, 2, 1), date(2024, 2, 29), layout=wh.layout)
            wh.command(f"INSERT INTO raw.{TABLE} SELECT * FROM raw.{TABLE} WHERE _partition_date = '2024-02-03'")
            result["first_load_rows"] = first
            result["before_merge"] = state(wh, "raw", TABLE)
            wh.command(f"SYSTEM START MERGES raw.{TABLE}")
            wh.command(f"OPTIMIZE TABLE raw.{TABLE} FINAL")
            result["after_merge"] = state(wh, "raw", TABLE)
        else:
            result["read"] = state(wh, "raw", TABLE)
            for extra in sys.argv[3:]:
                database, table = extra.split(".")
                result[extra] = state(wh, database, table)
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
