"""The folder lake: layout, overwrite, zero-row partitions, quarantine, listing, the ClickHouse reader."""

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from ingestion.common.lake import LakeError, LocalLake, parquet_bytes
from ingestion.common.quarantine import QuarantineRecord

SCHEMA = pa.schema(
    [
        pa.field("currency", pa.string(), nullable=False),
        pa.field("quote_date", pa.date32(), nullable=False),
        pa.field("quoted_at", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("buy", pa.decimal128(38, 15), nullable=False),
        pa.field("note", pa.string()),
    ]
)
DAY = date(2024, 3, 14)


def quotes(*buys: str, day: date = DAY) -> pa.Table:
    rows = [
        {
            "currency": "USD",
            "quote_date": day,
            "quoted_at": datetime(day.year, day.month, day.day, 13, 6, tzinfo=UTC),
            "buy": Decimal(buy),
            "note": None,
        }
        for buy in buys
    ]
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def test_partition_path_and_uri(tmp_path):
    lake = LocalLake(tmp_path)
    path = lake.partition_path("bcb", "ptax_quotes", DAY)
    assert path == "bcb/ptax_quotes/dt=2024-03-14/part-000.parquet"
    assert lake.uri(path) == str(tmp_path.resolve() / path)


def test_write_then_read_keeps_decimals_and_utc(tmp_path):
    lake = LocalLake(tmp_path)
    written = lake.write_partition("bcb", "ptax_quotes", DAY, quotes("4.971234567890123"))
    assert Path(written).is_file()
    back = lake.read_partition("bcb", "ptax_quotes", DAY)
    assert back.schema == SCHEMA
    assert back.column("buy").to_pylist() == [Decimal("4.971234567890123")]
    assert back.column("quoted_at").type.tz == "UTC"


def test_rewrite_overwrites_the_whole_object_and_leaves_no_temp_files(tmp_path):
    lake = LocalLake(tmp_path)
    lake.write_partition("bcb", "ptax_quotes", DAY, quotes("1", "2", "3"))
    lake.write_partition("bcb", "ptax_quotes", DAY, quotes("9"))
    assert lake.read_partition("bcb", "ptax_quotes", DAY).column("buy").to_pylist() == [Decimal("9")]
    folder = tmp_path / "bcb/ptax_quotes/dt=2024-03-14"
    assert sorted(p.name for p in folder.iterdir()) == ["part-000.parquet"]


def test_same_rows_give_identical_bytes(tmp_path):
    lake = LocalLake(tmp_path)
    digests = []
    for _ in range(2):
        path = lake.write_partition("bcb", "ptax_quotes", DAY, quotes("1.5", "2.5"))
        digests.append(hashlib.sha256(Path(path).read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    chunked = pa.concat_tables([quotes("1.5"), quotes("2.5")])  # two chunks, same rows
    assert parquet_bytes(chunked) == parquet_bytes(quotes("1.5", "2.5"))


def test_zero_row_partition_is_a_readable_file_with_the_schema(tmp_path):
    lake = LocalLake(tmp_path)
    lake.write_partition("bcb", "ptax_quotes", DAY, SCHEMA.empty_table())
    assert lake.exists("bcb", "ptax_quotes", DAY)
    back = lake.read_partition("bcb", "ptax_quotes", DAY)
    assert back.num_rows == 0
    assert back.schema == SCHEMA


def test_list_partitions_is_sorted_and_ignores_quarantine_and_strays(tmp_path):
    lake = LocalLake(tmp_path)
    for day in (date(2024, 3, 15), date(2024, 3, 13), DAY):
        lake.write_partition("bcb", "ptax_quotes", day, quotes("1", day=day))
    lake.write_quarantine("bcb", "ptax_quotes", DAY, [QuarantineRecord("bcb", "ptax_quotes", "k", "bad", "{}")])
    (tmp_path / "bcb/ptax_quotes/notes.txt").write_text("not a partition")
    assert lake.list_partitions("bcb", "ptax_quotes") == [date(2024, 3, 13), DAY, date(2024, 3, 15)]
    assert lake.list_partitions("bcb", "never_written") == []
    assert not lake.exists("bcb", "ptax_quotes", date(2024, 3, 16))


def test_quarantine_is_stored_beside_the_data_and_cleared_by_a_clean_rerun(tmp_path):
    lake = LocalLake(tmp_path)
    records = [
        QuarantineRecord("bcb", "ptax_quotes", "USD 2024-03-14 13:06", "buy is not a number", '{"buy":"n/a"}'),
        QuarantineRecord("bcb", "ptax_quotes", "EUR 2024-03-14 13:06", "no sell", '{"sell":null}'),
    ]
    path = lake.write_quarantine("bcb", "ptax_quotes", DAY, records)
    assert path == str(tmp_path.resolve() / "_quarantine/bcb/ptax_quotes/dt=2024-03-14/part-000.parquet")
    stored = lake.read_quarantine("bcb", "ptax_quotes", DAY)
    assert stored.column("reason").to_pylist() == ["buy is not a number", "no sell"]
    assert stored.column("payload").to_pylist()[0] == '{"buy":"n/a"}'
    assert lake.write_quarantine("bcb", "ptax_quotes", DAY, []) is None
    assert not Path(path).exists()


def test_clickhouse_reader_globs_every_partition_of_the_entity(tmp_path):
    reader = LocalLake(tmp_path).clickhouse_reader("bcb", "ptax_quotes")
    assert reader == f"file('{tmp_path.resolve()}/bcb/ptax_quotes/dt=*/part-000.parquet', 'Parquet')"


def test_reader_quotes_odd_folder_names(tmp_path):
    odd = tmp_path / "it's here"
    assert "it\\'s here" in LocalLake(odd).clickhouse_reader("bcb", "ptax_quotes")


@pytest.mark.parametrize("name", ["../etc", "BCB", "a/b", "", "x y"])
def test_names_that_could_escape_the_layout_are_refused(tmp_path, name):
    with pytest.raises(ValueError, match="lake names"):
        LocalLake(tmp_path).partition_path("bcb", name, DAY)


def test_reading_a_missing_partition_names_the_path(tmp_path):
    with pytest.raises(LakeError, match="dt=2024-03-14"):
        LocalLake(tmp_path).read_partition("bcb", "ptax_quotes", DAY)


def test_the_folder_lake_grants_chdb_and_refuses_a_server(tmp_path, warehouse):
    lake = LocalLake(tmp_path)
    lake.grant_clickhouse_access(warehouse.client, embedded=True)

    class HttpClient:  # stands in for clickhouse-connect's server client
        pass

    with pytest.raises(LakeError, match="S3 lake"):
        lake.grant_clickhouse_access(HttpClient(), embedded=False)
