"""Lake -> raw: table types from the Arrow schema, and a replace of whole months that is idempotent and atomic."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from ingestion.common.lake import LocalLake
from ingestion.common.raw_load import (
    SIDE_TABLE_INFIX,
    LakeNotReadableError,
    RawSchemaError,
    clickhouse_type,
    drop_stale_side_tables,
    ensure_raw_table,
    existing_columns,
    raw_columns,
    replace_partitions,
)

SCHEMA = pa.schema(
    [
        pa.field("currency", pa.string(), nullable=False),
        pa.field("quote_date", pa.date32(), nullable=False),
        pa.field("quoted_at", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("is_closing", pa.bool_(), nullable=False),
        pa.field("buy", pa.decimal128(38, 15), nullable=False),
        pa.field("respondents", pa.int32()),
        pa.field("detail", pa.string()),
        pa.field("calc_type", pa.string()),
    ]
)
EXPECTED = [
    ("currency", "LowCardinality(String)"),
    ("quote_date", "Date"),
    ("quoted_at", "DateTime64(3, 'UTC')"),
    ("is_closing", "Bool"),
    ("buy", "Decimal(38, 15)"),
    ("respondents", "Nullable(Int32)"),
    ("detail", "Nullable(String)"),
    ("calc_type", "LowCardinality(Nullable(String))"),
    ("_partition_date", "Date"),
    ("_loaded_at", "DateTime64(3, 'UTC')"),
    ("_source_file", "String"),
]
DAYS = [date(2024, 3, 13), date(2024, 3, 14), date(2024, 3, 15)]


def quotes(day: date, *buys: str) -> pa.Table:
    rows = [
        {
            "currency": "USD",
            "quote_date": day,
            "quoted_at": datetime(day.year, day.month, day.day, 10 + i, tzinfo=UTC),
            "is_closing": i == len(buys) - 1,
            "buy": Decimal(buy),
            "respondents": None,
            "detail": None,
            "calc_type": "x",
        }
        for i, buy in enumerate(buys)
    ]
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def test_arrow_types_map_to_clickhouse_types():
    assert raw_columns(SCHEMA, ["currency", "calc_type"]) == EXPECTED
    assert clickhouse_type(pa.field("t", pa.timestamp("us", tz="UTC"), nullable=False)) == "DateTime64(6, 'UTC')"
    with pytest.raises(ValueError, match="UTC"):
        clickhouse_type(pa.field("t", pa.timestamp("ms")))
    with pytest.raises(ValueError, match="may not be named"):
        raw_columns(pa.schema([pa.field("dt", pa.string())]))


def test_ensure_raw_table_creates_the_expected_columns_and_is_idempotent(warehouse):
    for _ in range(2):
        ensure_raw_table(warehouse.client, "test__types", SCHEMA, ["currency", "quote_date"], ["currency", "calc_type"])
    assert existing_columns(warehouse.client, "test__types") == EXPECTED
    engine, partition_key, sorting_key = warehouse.query_rows(
        "SELECT engine, partition_key, sorting_key FROM system.tables WHERE database = 'raw' AND name = 'test__types'"
    )[0]
    assert (engine, partition_key, sorting_key) == (
        "MergeTree",
        "toYYYYMM(_partition_date)",
        "currency, quote_date",
    )


def test_ensure_raw_table_refuses_a_table_with_other_columns(warehouse):
    ensure_raw_table(warehouse.client, "test__drift", SCHEMA, ["currency"])
    wider = SCHEMA.append(pa.field("sell", pa.decimal128(38, 15)))
    with pytest.raises(RawSchemaError, match="sell"):
        ensure_raw_table(warehouse.client, "test__drift", wider, ["currency"])


def test_order_by_must_name_required_columns(warehouse):
    with pytest.raises(ValueError, match="non-nullable"):
        ensure_raw_table(warehouse.client, "test__bad_order", SCHEMA, ["respondents"])


MARCH = (date(2024, 3, 1), date(2024, 3, 31))
APRIL = (date(2024, 4, 1), date(2024, 4, 30))


def load(warehouse, lake: LocalLake, key: str, start: date, end: date) -> int:
    ensure_raw_table(warehouse.client, key, SCHEMA, ["currency", "quote_date", "quoted_at"], ["currency"])
    entity = key.split("__")[1]
    has_objects = any(start <= day <= end for day in lake.list_partitions("bcb", entity))
    reader = lake.clickhouse_reader("bcb", entity) if has_objects else None
    return replace_partitions(warehouse.client, key, reader, start, end)


def table_rows(warehouse, key: str) -> list[tuple]:
    return warehouse.query_rows(f"SELECT * EXCEPT _loaded_at FROM raw.{key} ORDER BY quote_date, quoted_at")


def side_tables(warehouse, key: str) -> list[str]:
    return [
        row[0]
        for row in warehouse.query_rows(
            f"SELECT name FROM system.tables WHERE database = 'raw' AND startsWith(name, '{key}{SIDE_TABLE_INFIX}')"
        )
    ]


def test_replace_partitions_three_times_gives_the_same_rows(warehouse, tmp_path):
    lake = LocalLake(tmp_path / "lake")
    lake.write_partition("bcb", "idempotent", DAYS[0], quotes(DAYS[0], "4.97", "4.98"))
    lake.write_partition("bcb", "idempotent", DAYS[1], quotes(DAYS[1]))  # a zero-row object
    lake.write_partition("bcb", "idempotent", DAYS[2], quotes(DAYS[2], "5.012345678901234"))
    counts, snapshots = [], []
    for _ in range(3):
        counts.append(load(warehouse, lake, "bcb__idempotent", *MARCH))
        snapshots.append(table_rows(warehouse, "bcb__idempotent"))
    assert counts == [3, 3, 3]
    assert snapshots[0] == snapshots[1] == snapshots[2]
    first = snapshots[0][0]
    assert first[4] == Decimal("4.97") and first[8] == DAYS[0]
    assert first[9] == lake.uri(lake.partition_path("bcb", "idempotent", DAYS[0]))
    loaded_at = warehouse.query_rows("SELECT toTypeName(_loaded_at), max(_loaded_at) FROM raw.bcb__idempotent")
    assert loaded_at[0][0] == "DateTime64(3, 'UTC')"
    assert side_tables(warehouse, "bcb__idempotent") == []  # the side table is dropped after the swap


def test_replace_partitions_touches_only_its_months(warehouse, tmp_path):
    lake = LocalLake(tmp_path / "lake")
    for day in DAYS:
        lake.write_partition("bcb", "window", day, quotes(day, "1", "2"))
    april = date(2024, 4, 2)
    lake.write_partition("bcb", "window", april, quotes(april, "5"))
    assert load(warehouse, lake, "bcb__window", MARCH[0], APRIL[1]) == 7
    lake.write_partition("bcb", "window", DAYS[1], quotes(DAYS[1], "7"))  # the source corrected one day of March
    lake.write_partition("bcb", "window", april, quotes(april, "9"))  # and April, which is not reloaded
    assert load(warehouse, lake, "bcb__window", *MARCH) == 5
    per_day = warehouse.query_rows(
        "SELECT _partition_date, count(), sum(buy) FROM raw.bcb__window GROUP BY 1 ORDER BY 1"
    )
    assert per_day == [
        (DAYS[0], 2, Decimal(3)),
        (DAYS[1], 1, Decimal(7)),
        (DAYS[2], 2, Decimal(3)),
        (april, 1, Decimal(5)),
    ]


def test_a_long_range_is_inserted_in_chunks_of_months(warehouse, tmp_path):
    """ClickHouse refuses one INSERT over more than 100 partitions: a 10-year backfill goes in chunks of months."""
    lake = LocalLake(tmp_path / "lake")
    days = [date(2024, 1, 31), date(2024, 2, 1), date(2024, 3, 15), date(2024, 4, 30)]
    for day in days:
        lake.write_partition("bcb", "chunked", day, quotes(day, "1"))
    ensure_raw_table(warehouse.client, "bcb__chunked", SCHEMA, ["currency", "quote_date", "quoted_at"], ["currency"])
    reader = lake.clickhouse_reader("bcb", "chunked")
    assert replace_partitions(warehouse.client, "bcb__chunked", reader, date(2024, 1, 1), APRIL[1], 3) == 4
    assert [row[0] for row in warehouse.query_rows("SELECT _partition_date FROM raw.bcb__chunked ORDER BY 1")] == days


def test_only_whole_months_are_replaced(warehouse, tmp_path):
    lake = LocalLake(tmp_path / "lake")
    lake.write_partition("bcb", "partial", DAYS[0], quotes(DAYS[0], "1"))
    with pytest.raises(ValueError, match="whole months"):
        load(warehouse, lake, "bcb__partial", DAYS[0], DAYS[2])


def test_a_month_the_lake_no_longer_has_is_emptied(warehouse, tmp_path):
    lake = LocalLake(tmp_path / "lake")
    lake.write_partition("bcb", "emptied", DAYS[0], quotes(DAYS[0], "1"))
    assert load(warehouse, lake, "bcb__emptied", *MARCH) == 1
    lake.write_partition("bcb", "emptied", DAYS[0], SCHEMA.empty_table())
    assert load(warehouse, lake, "bcb__emptied", *MARCH) == 0
    lake.remove_partition("bcb", "emptied", DAYS[0])
    assert load(warehouse, lake, "bcb__emptied", *MARCH) == 0  # no object at all: no reader
    assert warehouse.query_rows("SELECT count() FROM raw.bcb__emptied") == [(0,)]


def test_a_date_outside_the_date_type_fails_instead_of_wrapping(warehouse, tmp_path):
    lake = LocalLake(tmp_path / "lake")
    lake.write_partition("bcb", "old", DAYS[0], quotes(date(1960, 1, 1), "1"))
    with pytest.raises(Exception, match="out of bounds|VALUE_IS_OUT_OF_RANGE"):
        load(warehouse, lake, "bcb__old", *MARCH)


def test_loading_before_the_table_exists_says_so(warehouse, tmp_path):
    with pytest.raises(RawSchemaError, match="ensure_raw_table"):
        replace_partitions(warehouse.client, "never_created", "file('/x', 'Parquet')", *MARCH)


def test_an_unreadable_lake_fails_before_changing_anything(warehouse, tmp_path):
    lake = LocalLake(tmp_path / "lake")
    lake.write_partition("bcb", "moved", DAYS[0], quotes(DAYS[0], "1"))
    assert load(warehouse, lake, "bcb__moved", *MARCH) == 1
    missing = LocalLake(tmp_path / "elsewhere").clickhouse_reader("bcb", "moved")
    with pytest.raises(LakeNotReadableError, match="unchanged"):
        replace_partitions(warehouse.client, "bcb__moved", missing, *MARCH)
    assert warehouse.query_rows("SELECT count() FROM raw.bcb__moved") == [(1,)]


def test_a_corrupt_lake_object_leaves_the_previous_rows_in_place(warehouse, tmp_path):
    """A truncated object makes the INSERT fail: the months keep every row they had (no DELETE ran first)."""
    lake = LocalLake(tmp_path / "lake")
    for day in DAYS:
        lake.write_partition("bcb", "corrupt", day, quotes(day, "1", "2"))
    april = date(2024, 4, 2)
    lake.write_partition("bcb", "corrupt", april, quotes(april, "5"))
    assert load(warehouse, lake, "bcb__corrupt", MARCH[0], APRIL[1]) == 7
    before = table_rows(warehouse, "bcb__corrupt")
    path = tmp_path / "lake" / lake.partition_path("bcb", "corrupt", DAYS[2])
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # truncated, as a dying upload leaves it
    with pytest.raises(Exception):  # noqa: B017 - ClickHouse's own error, whatever its wording
        load(warehouse, lake, "bcb__corrupt", MARCH[0], APRIL[1])
    assert table_rows(warehouse, "bcb__corrupt") == before
    assert side_tables(warehouse, "bcb__corrupt") == []


def test_side_tables_left_by_a_killed_load_are_dropped(warehouse):
    ensure_raw_table(warehouse.client, "bcb__killed", SCHEMA, ["currency", "quote_date", "quoted_at"], ["currency"])
    warehouse.command(f"CREATE TABLE raw.bcb__killed{SIDE_TABLE_INFIX}deadbeef AS raw.bcb__killed")
    assert drop_stale_side_tables(warehouse.client, "bcb__killed", older_than_hours=1) == []  # could be running
    assert drop_stale_side_tables(warehouse.client, "bcb__killed", older_than_hours=0) == [
        f"bcb__killed{SIDE_TABLE_INFIX}deadbeef"
    ]
    assert side_tables(warehouse, "bcb__killed") == []
