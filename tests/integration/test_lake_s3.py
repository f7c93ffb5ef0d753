"""The S3 lake against a real SeaweedFS server, and chDB reading it through a named collection."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from ingestion.common.lake import LakeError, S3Lake
from ingestion.common.quarantine import QuarantineRecord
from ingestion.common.raw_load import LakeNotReadableError, ensure_raw_table, replace_partitions
from tests.servers.seaweedfs import seaweedfs_s3

pytestmark = pytest.mark.integration

SCHEMA = pa.schema(
    [
        pa.field("currency", pa.string(), nullable=False),
        pa.field("quote_date", pa.date32(), nullable=False),
        pa.field("quoted_at", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("buy", pa.decimal128(38, 15), nullable=False),
    ]
)
DAYS = [date(2024, 3, 13), date(2024, 3, 14), date(2024, 3, 15)]
MARCH = (date(2024, 3, 1), date(2024, 3, 31))


def quotes(day: date, *buys: str) -> pa.Table:
    rows = [
        {
            "currency": "USD",
            "quote_date": day,
            "quoted_at": datetime(2024, 3, 1, 13, i, tzinfo=UTC),
            "buy": Decimal(b),
        }
        for i, b in enumerate(buys)
    ]
    return pa.Table.from_pylist(rows, schema=SCHEMA)


@pytest.fixture
def lake(seaweedfs) -> S3Lake:
    """An S3 lake under a prefix of its own, so tests never see each other's objects."""
    return S3Lake(
        seaweedfs.endpoint,
        seaweedfs.access_key,
        seaweedfs.secret_key,
        seaweedfs.bucket,
        prefix=f"test-{uuid.uuid4().hex[:8]}",
    )


def test_write_read_overwrite_and_list(lake):
    uri = lake.write_partition("bcb", "ptax_quotes", DAYS[0], quotes(DAYS[0], "1", "2"))
    assert uri == f"s3://{lake.bucket}/{lake.prefix}/bcb/ptax_quotes/dt=2024-03-13/part-000.parquet"
    lake.write_partition("bcb", "ptax_quotes", DAYS[0], quotes(DAYS[0], "4.971234567890123"))
    assert lake.read_partition("bcb", "ptax_quotes", DAYS[0]).column("buy").to_pylist() == [
        Decimal("4.971234567890123")
    ]
    lake.write_partition("bcb", "ptax_quotes", DAYS[2], quotes(DAYS[2], "5"))
    assert lake.list_partitions("bcb", "ptax_quotes") == [DAYS[0], DAYS[2]]
    assert lake.exists("bcb", "ptax_quotes", DAYS[2]) and not lake.exists("bcb", "ptax_quotes", DAYS[1])


def test_zero_row_partition_keeps_the_schema(lake):
    lake.write_partition("bcb", "ptax_quotes", DAYS[1], SCHEMA.empty_table())
    back = lake.read_partition("bcb", "ptax_quotes", DAYS[1])
    assert back.num_rows == 0 and back.schema == SCHEMA


def test_quarantine_written_then_cleared(lake):
    record = QuarantineRecord("bcb", "ptax_quotes", "USD 13:06", "buy is not a number", '{"buy":"n/a"}')
    uri = lake.write_quarantine("bcb", "ptax_quotes", DAYS[0], [record])
    assert uri.endswith("/_quarantine/bcb/ptax_quotes/dt=2024-03-13/part-000.parquet")
    assert lake.read_quarantine("bcb", "ptax_quotes", DAYS[0]).column("record_key").to_pylist() == [
        "USD 13:06"
    ]
    assert lake.list_partitions("bcb", "ptax_quotes") == []
    assert lake.write_quarantine("bcb", "ptax_quotes", DAYS[0], []) is None
    with pytest.raises(LakeError, match="NoSuchKey"):
        lake.read_quarantine("bcb", "ptax_quotes", DAYS[0])


def test_wrong_secret_names_endpoint_bucket_and_code_but_not_the_secret(seaweedfs):
    wrong = S3Lake(seaweedfs.endpoint, seaweedfs.access_key, "not-the-secret-xyz", seaweedfs.bucket)
    with pytest.raises(LakeError) as caught:
        wrong.write_partition("bcb", "ptax_quotes", DAYS[0], quotes(DAYS[0], "1"))
    message = str(caught.value)
    assert seaweedfs.endpoint in message and seaweedfs.bucket in message
    assert "SignatureDoesNotMatch" in message
    assert "not-the-secret-xyz" not in message


def test_unknown_access_key_and_unknown_bucket_are_named(seaweedfs):
    stranger = S3Lake(seaweedfs.endpoint, "nobody", "whatever", seaweedfs.bucket)
    with pytest.raises(LakeError, match="InvalidAccessKeyId"):
        stranger.check_access()
    missing = S3Lake(seaweedfs.endpoint, seaweedfs.access_key, seaweedfs.secret_key, "no-such-bucket")
    with pytest.raises(LakeError, match="no-such-bucket.*NoSuchBucket"):
        missing.check_access()
    with pytest.raises(LakeError, match="NoSuchBucket"):
        missing.read_partition("bcb", "ptax_quotes", DAYS[0])


def test_chdb_reads_the_s3_lake_through_the_named_collection(lake, seaweedfs, warehouse):
    lake.write_partition("bcb", "ptax_quotes", DAYS[0], quotes(DAYS[0], "1", "2"))
    lake.write_partition("bcb", "ptax_quotes", DAYS[1], SCHEMA.empty_table())
    lake.write_partition("bcb", "ptax_quotes", DAYS[2], quotes(DAYS[2], "3"))
    reader = lake.clickhouse_reader("bcb", "ptax_quotes")
    assert seaweedfs.secret_key not in reader and seaweedfs.access_key not in reader
    assert reader.startswith(f"s3({lake.named_collection}, url='{seaweedfs.endpoint}/{seaweedfs.bucket}/")
    lake.grant_clickhouse_access(warehouse.client)
    lake.grant_clickhouse_access(warehouse.client)  # idempotent (and refreshes rotated keys)
    per_day = warehouse.query_rows(
        f"SELECT dt, toTypeName(dt), count() FROM {reader} WHERE dt BETWEEN '2024-03-13' AND '2024-03-14' "
        "GROUP BY dt ORDER BY dt"
    )
    assert per_day == [(DAYS[0], "Date", 2)]
    ensure_raw_table(
        warehouse.client, "bcb__ptax_quotes_s3", SCHEMA, ["currency", "quote_date"], ["currency"]
    )
    assert replace_partitions(warehouse.client, "bcb__ptax_quotes_s3", reader, *MARCH) == 3
    files = warehouse.query_rows("SELECT DISTINCT _source_file FROM raw.bcb__ptax_quotes_s3 ORDER BY 1")
    assert [row[0] for row in files] == [
        lake.uri(lake.partition_path("bcb", "ptax_quotes", day)) for day in (DAYS[0], DAYS[2])
    ]
    shown = warehouse.query_rows(
        "SELECT collection FROM system.named_collections WHERE name = {n:String}",
        parameters={"n": lake.named_collection},
    )
    assert seaweedfs.secret_key not in str(shown)


def test_wrong_keys_in_the_named_collection_fail_the_load_before_changing_anything(lake, seaweedfs, warehouse):
    lake.write_partition("bcb", "ptax_quotes", DAYS[0], quotes(DAYS[0], "1"))
    lake.grant_clickhouse_access(warehouse.client)
    ensure_raw_table(warehouse.client, "bcb__ptax_wrong_keys", SCHEMA, ["currency", "quote_date"])
    assert (
        replace_partitions(
            warehouse.client,
            "bcb__ptax_wrong_keys",
            lake.clickhouse_reader("bcb", "ptax_quotes"),
            *MARCH,
        )
        == 1
    )
    wrong = S3Lake(
        seaweedfs.endpoint,
        seaweedfs.access_key,
        "wrong-secret-123",
        seaweedfs.bucket,
        prefix=lake.prefix,
        named_collection="importau_lake_s3_wrong",
    )
    wrong.grant_clickhouse_access(warehouse.client)
    with pytest.raises(LakeNotReadableError, match="unchanged") as caught:
        replace_partitions(
            warehouse.client,
            "bcb__ptax_wrong_keys",
            wrong.clickhouse_reader("bcb", "ptax_quotes"),
            *MARCH,
        )
    assert "wrong-secret-123" not in str(caught.value)
    assert warehouse.query_rows("SELECT count() FROM raw.bcb__ptax_wrong_keys") == [(1,)]


def test_a_dead_s3_fails_the_load_in_bounded_time_and_keeps_the_rows(tmp_path, warehouse):
    """S3 goes down between two loads: the second fails (it does not hang) and raw keeps every row it had."""
    import time

    with seaweedfs_s3(tmp_path / "s3") as server:
        lake = S3Lake(server.endpoint, server.access_key, server.secret_key, server.bucket, prefix="dead")
        for day in DAYS:
            lake.write_partition("bcb", "ptax_quotes", day, quotes(day, "1", "2"))
        lake.grant_clickhouse_access(warehouse.client)
        ensure_raw_table(warehouse.client, "bcb__ptax_dead_s3", SCHEMA, ["currency", "quote_date"], ["currency"])
        reader = lake.clickhouse_reader("bcb", "ptax_quotes")
        assert replace_partitions(warehouse.client, "bcb__ptax_dead_s3", reader, *MARCH) == 6
    started = time.monotonic()
    with pytest.raises(LakeNotReadableError, match="unchanged"):
        replace_partitions(warehouse.client, "bcb__ptax_dead_s3", reader, *MARCH)
    print(f"dead S3 detected in {time.monotonic() - started:.1f} s")
    assert warehouse.query_rows("SELECT count() FROM raw.bcb__ptax_dead_s3") == [(6,)]
