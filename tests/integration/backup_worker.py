"""One process's turn on a warehouse for the backup test (chDB hosts one engine per process):
`python backup_worker.py seed|checksums <data dir>`; prints JSON.

seed: a warehouse like the platform's: a raw table loaded by the raw loader over two months, a staging view on
it, a marts table with Decimal, Nullable (NULLs included), LowCardinality and Date columns, an ml scores table,
and an empty marts table. checksums: `table_checksums` of every table (what restore compares).
"""

import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from ingestion.common.backup import table_checksums  # noqa: E402
from ingestion.common.lake import LocalLake  # noqa: E402
from ingestion.common.raw_load import ensure_raw_table, replace_partitions  # noqa: E402
from ingestion.common.warehouse import open_warehouse  # noqa: E402
from ml_assets.common.scores import ScoresTable, write_scores  # noqa: E402

SCHEMA = pa.schema(
    [
        pa.field("payment_id", pa.string(), nullable=False),
        pa.field("currency", pa.string(), nullable=False),
        pa.field("amount", pa.decimal128(18, 4), nullable=False),
        pa.field("note", pa.string()),
    ]
)
SCORES = ScoresTable("backup_probe", (("entity_id", "String"), ("score", "Float64")), ("entity_id",))


def seed(wh, data_dir: str) -> None:
    lake = LocalLake(Path(data_dir) / "lake")
    for month in (1, 2):
        rows = [
            {
                "payment_id": f"{month}-{i}",
                "currency": "EUR" if i % 3 else "USD",
                "amount": Decimal(f"{i}.5"),
                "note": None if i % 4 else f"note {i}",
            }
            for i in range(40)
        ]
        lake.write_partition("backup", "payments", date(2024, month, 10), pa.Table.from_pylist(rows, schema=SCHEMA))
    ensure_raw_table(wh.client, "backup__payments", SCHEMA, ["currency", "payment_id"], ["currency"])
    replace_partitions(
        wh.client, "backup__payments", lake.clickhouse_reader("backup", "payments"), date(2024, 1, 1), date(2024, 2, 29)
    )
    wh.command("CREATE VIEW staging.stg_backup__payments AS SELECT * FROM raw.backup__payments")
    wh.command(
        "CREATE TABLE marts.fct_backup_totals (currency LowCardinality(String), month Date, total Decimal(18, 4), "
        "biggest_note Nullable(String)) ENGINE = MergeTree ORDER BY (currency, month)"
    )
    wh.command(
        "INSERT INTO marts.fct_backup_totals SELECT currency, toStartOfMonth(_partition_date), sum(amount), "
        "max(note) FROM staging.stg_backup__payments GROUP BY ALL"
    )
    wh.command("INSERT INTO marts.fct_backup_totals VALUES ('CNY', '2024-03-01', 0, NULL)")
    wh.command("CREATE TABLE marts.fct_backup_empty (id String) ENGINE = MergeTree ORDER BY id")
    write_scores(wh.client, SCORES, [{"entity_id": f"e{i}", "score": i / 7} for i in range(25)], "3")


def server_mode(data_dir: str, config: str) -> dict:
    """A server's path: no key in any statement, the credentials of docs/clickhouse/importau_backup_s3.xml (loaded
    as the engine's config, its endpoint pointed at the test's S3) for BACKUP, RESTORE and the checksums object."""
    import os

    import clickhouse_connect

    from ingestion.common.backup import S3Access, backup, backup_location, restore

    client = clickhouse_connect.get_client(
        interface="chdb", path=str(Path(data_dir) / "warehouse"), chdb_options={"config-file": config}
    )
    for database in ("raw", "staging", "intermediate", "marts", "ml"):
        client.command(f"CREATE DATABASE IF NOT EXISTS {database}")
    client.command("CREATE TABLE raw.server_mode (a Int32, b Nullable(String)) ENGINE = MergeTree ORDER BY a")
    client.command("INSERT INTO raw.server_mode VALUES (1, NULL), (2, 'x')")
    location = backup_location(os.environ["CLICKHOUSE_BACKUP_URL"], os.environ["S3_ENDPOINT_URL"], "server-mode")
    backed_up = backup(client, location, S3Access(embedded=False))
    client.command("DROP TABLE raw.server_mode SYNC")
    restored = restore(client, location, S3Access(embedded=False))
    return {"backup": backed_up["checksums"], **restored}


def main(phase: str, data_dir: str) -> None:
    if phase == "server-mode":
        print(json.dumps(server_mode(data_dir, sys.argv[3])))
        return
    with open_warehouse(None, data_dir, owner=f"backup_worker {phase}") as wh:
        if phase == "seed":
            seed(wh, data_dir)
        print(json.dumps(table_checksums(wh.client)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
