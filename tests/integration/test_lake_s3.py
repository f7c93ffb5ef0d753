"""The S3 lake against a real SeaweedFS server, and chDB reading it with the keys as query parameters (issue 13:
no named collection, which chDB kept on disk; tests/security/test_secrets_at_rest.py has the server side)."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from ingestion.common.lake import LakeError, S3Bounds, S3Lake
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
    assert lake.read_quarantine("bcb", "ptax_quotes", DAYS[0]).column("record_key").to_pylist() == ["USD 13:06"]
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


def test_chdb_reads_the_s3_lake_with_the_keys_as_query_parameters(lake, seaweedfs, warehouse):
    lake.write_partition("bcb", "ptax_quotes", DAYS[0], quotes(DAYS[0], "1", "2"))
    lake.write_partition("bcb", "ptax_quotes", DAYS[1], SCHEMA.empty_table())
    lake.write_partition("bcb", "ptax_quotes", DAYS[2], quotes(DAYS[2], "3"))
    reader = lake.clickhouse_reader("bcb", "ptax_quotes")
    assert seaweedfs.secret_key not in reader and seaweedfs.access_key not in reader
    assert reader.startswith(f"s3('{seaweedfs.endpoint}/{seaweedfs.bucket}/")
    lake.grant_clickhouse_access(warehouse.client, embedded=True)
    lake.grant_clickhouse_access(warehouse.client, embedded=True)  # idempotent
    assert lake.clickhouse_reader("bcb", "ptax_quotes") == reader and not lake.uses_named_collection
    per_day = warehouse.query_rows(
        f"SELECT dt, toTypeName(dt), count() FROM {reader} WHERE dt BETWEEN '2024-03-13' AND '2024-03-14' "
        "GROUP BY dt ORDER BY dt",
        parameters=reader.parameters,
    )
    assert per_day == [(DAYS[0], "Date", 2)]
    ensure_raw_table(warehouse.client, "bcb__ptax_quotes_s3", SCHEMA, ["currency", "quote_date"], ["currency"])
    assert replace_partitions(warehouse.client, "bcb__ptax_quotes_s3", reader, *MARCH) == 3
    files = warehouse.query_rows("SELECT DISTINCT _source_file FROM raw.bcb__ptax_quotes_s3 ORDER BY 1")
    assert [row[0] for row in files] == [
        lake.uri(lake.partition_path("bcb", "ptax_quotes", day)) for day in (DAYS[0], DAYS[2])
    ]
    shown = warehouse.query_rows(
        "SELECT collection FROM system.named_collections WHERE name = {n:String}",
        parameters={"n": lake.named_collection},
    )
    assert shown == []  # nothing of the keys is kept by chDB


def test_wrong_keys_fail_the_load_before_changing_anything(lake, seaweedfs, warehouse):
    lake.write_partition("bcb", "ptax_quotes", DAYS[0], quotes(DAYS[0], "1"))
    lake.grant_clickhouse_access(warehouse.client, embedded=True)
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
    wrong.grant_clickhouse_access(warehouse.client, embedded=True)
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
        lake.grant_clickhouse_access(warehouse.client, embedded=True)
        ensure_raw_table(warehouse.client, "bcb__ptax_dead_s3", SCHEMA, ["currency", "quote_date"], ["currency"])
        reader = lake.clickhouse_reader("bcb", "ptax_quotes")
        assert replace_partitions(warehouse.client, "bcb__ptax_dead_s3", reader, *MARCH) == 6
    started = time.monotonic()
    with pytest.raises(LakeNotReadableError, match="unchanged"):
        replace_partitions(warehouse.client, "bcb__ptax_dead_s3", reader, *MARCH)
    print(f"dead S3 detected in {time.monotonic() - started:.1f} s")
    assert warehouse.query_rows("SELECT count() FROM raw.bcb__ptax_dead_s3") == [(6,)]


def _unused_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound once by the kernel's choice, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_dead_endpoint_fails_within_the_default_bound_naming_it_and_what_to_check():
    """Nothing listens on the port: every call gives up after its capped retries, with the endpoint named."""
    import time

    endpoint = f"http://127.0.0.1:{_unused_port()}"
    lake = S3Lake(endpoint, "importau-test", "a-secret-never-shown", "importau-lake", prefix="dead")
    assert lake.bounds == S3Bounds()
    assert lake.bounds.worst_case_seconds() <= 60  # a dead S3 fails a step in tens of seconds, not minutes
    for call in (
        lake.check_access,
        lambda: lake.write_partition("bcb", "ptax_quotes", DAYS[0], quotes(DAYS[0], "1")),
        lambda: lake.read_partition("bcb", "ptax_quotes", DAYS[0]),
        lambda: lake.exists("bcb", "ptax_quotes", DAYS[0]),
        lambda: lake.list_partitions("bcb", "ptax_quotes"),
    ):
        started = time.monotonic()
        with pytest.raises(LakeError) as caught:
            call()
        elapsed = time.monotonic() - started
        message = str(caught.value)
        print(f"dead endpoint: failed after {elapsed:.1f} s: {message}")
        assert elapsed < lake.bounds.worst_case_seconds(), message
        assert endpoint in message and "'importau-lake'" in message, message
        assert "check that the S3 server is running and reachable" in message, message
        assert "3 attempts" in message and "a-secret-never-shown" not in message, message


def test_a_hung_s3_fails_within_the_configured_bound_and_works_again_once_it_answers(tmp_path):
    """SeaweedFS stopped mid-test (SIGSTOP: the port still accepts connections, nothing answers), through the
    resource and its timeout settings: reads and writes fail after the read timeouts, not after minutes."""
    import time

    from orchestration.resources.lake import LakeResource
    from tests.servers.seaweedfs import paused

    with seaweedfs_s3(tmp_path / "s3") as server:
        resource = LakeResource(
            url=f"s3://{server.bucket}/hung",
            s3_endpoint_url=server.endpoint,
            s3_access_key_id=server.access_key,
            s3_secret_access_key=server.secret_key,
            s3_connect_timeout_seconds=1,
            s3_read_timeout_seconds=2,
            s3_max_retries=1,
        )
        lake = resource.get_lake()  # checked: endpoint, keys and bucket answer
        assert lake.bounds == S3Bounds(connect_timeout=1, read_timeout=2, max_retries=1)
        bound = lake.bounds.worst_case_seconds()
        lake.write_partition("bcb", "ptax_quotes", DAYS[0], quotes(DAYS[0], "1"))
        with paused(server):
            for action, call in (
                ("write", lambda: lake.write_partition("bcb", "ptax_quotes", DAYS[1], quotes(DAYS[1], "2"))),
                ("read", lambda: lake.read_partition("bcb", "ptax_quotes", DAYS[0])),
                ("check the bucket", lambda: resource.get_lake()),
            ):
                started = time.monotonic()
                with pytest.raises(LakeError) as caught:
                    call()
                elapsed = time.monotonic() - started
                message = str(caught.value)
                print(f"hung S3, {action}: failed after {elapsed:.1f} s (bound {bound:g} s)")
                # it waited for the read timeouts (2 attempts of 2 s), and no longer than the bound
                assert 2 * 2 <= elapsed < bound + 1, message
                assert f"cannot {action}" in message and server.endpoint in message, message
                assert "ReadTimeoutError" in message and "2 attempts" in message, message
                assert server.secret_key not in message
        # It answers again. Not DAYS[1]: the server may still apply the timed-out PUTs it had queued (S3 has no
        # cancel), so that object may end up "2" or "3" depending on timing.
        lake.write_partition("bcb", "ptax_quotes", DAYS[2], quotes(DAYS[2], "3"))
        assert lake.read_partition("bcb", "ptax_quotes", DAYS[2]).column("buy").to_pylist() == [Decimal("3")]


def test_a_missing_bucket_fails_the_pull_step_before_it_pulls_or_writes(seaweedfs):
    """The BCB pull with an S3 lake whose bucket does not exist: the step stops at the lake check, before any
    request to the source (its API is a dead port here: reaching it would fail differently) and any write."""
    import dagster as dg
    from minio import Minio

    from orchestration.defs.bcb import bcb_pull
    from orchestration.resources.bcb import BcbApiResource
    from orchestration.resources.lake import LakeResource

    dead_api = f"http://127.0.0.1:{_unused_port()}"
    admin = Minio(seaweedfs.host_port, seaweedfs.access_key, seaweedfs.secret_key, secure=False)
    buckets_before = sorted(bucket.name for bucket in admin.list_buckets())
    result = dg.materialize(
        [bcb_pull],
        partition_key="2024-03-01",
        resources={
            "bcb": BcbApiResource(
                sgs_base_url=dead_api, olinda_base_url=dead_api, closing_file_base_url=dead_api, max_attempts=1
            ),
            "lake": LakeResource(
                url="s3://no-such-bucket/lake",
                s3_endpoint_url=seaweedfs.endpoint,
                s3_access_key_id=seaweedfs.access_key,
                s3_secret_access_key=seaweedfs.secret_key,
            ),
        },
        raise_on_error=False,
    )
    assert not result.success
    error = result.failure_data_for_node("bcb_pull").error.to_string()
    assert "LakeError" in error and "bucket 'no-such-bucket' (NoSuchBucket" in error, error
    assert "create it, or fix the bucket in LAKE_URL" in error, error
    assert "SourceHTTPError" not in error and dead_api not in error, error  # the source was never asked
    assert seaweedfs.secret_key not in error
    assert sorted(bucket.name for bucket in admin.list_buckets()) == buckets_before
