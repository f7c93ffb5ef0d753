"""Lake -> `raw.<key>`: create the table from the Arrow schema, then replace whole months, atomically.

Raw tables are partitioned `toYYYYMM(_partition_date)`, like the Dagster partitions (months). `replace_partitions`
first checks ClickHouse can read the lake (a DESCRIBE of the reader: no access fails before anything changes),
builds the months' new rows in a side table `raw.<key>__incoming_<id>` with ONE `INSERT ... SELECT CAST(<col> AS
<type>) ..., toDate(dt), now64(3, 'UTC'), _path FROM <reader> WHERE dt BETWEEN start AND end` per lake dataset
(`<reader>` the lake's `file(...)`/`s3(...)` text, bound with its `.parameters` when it has them, the S3 keys on
chDB; `dt` its hive partition column; a raw table may merge several
datasets of one schema, e.g. the ERP's file drops and its PostgreSQL extraction), then swaps each month in with
`ALTER TABLE ... REPLACE PARTITION ID ... FROM` the side table. Never DELETE then INSERT: an INSERT that fails
after the DELETE leaves the range empty (measured: 1,094 -> 0 rows). A failure or a kill before the swap leaves
the previous rows in place; each month's swap is atomic. The CASTs run with
`date_time_overflow_behavior='throw'`, so a date outside `Date` fails loudly (an implicit INSERT conversion
silently saturates it to 1970-01-01). Re-running gives the same rows (only `_loaded_at` changes). Settings go
with each query, never `SET`.

`layout` (ingestion/common/table_layout.py) places the tables: on a cluster the raw and side tables are created
and dropped `ON CLUSTER` as ReplicatedMergeTree, and the INSERT and the partition swaps run on the connected node
(the replication log carries them); with a storage policy the raw table keeps its parts there (the side table
inherits it through `CREATE TABLE ... AS`). The default layout writes exactly the single-node statements.
"""

import re
import uuid
from collections.abc import Sequence
from datetime import date

import pyarrow as pa

from ingestion.common.partitioning import month_end, month_starts
from ingestion.common.redact import redact_text
from ingestion.common.table_layout import TableLayout

SINGLE_NODE = TableLayout()

METADATA_COLUMNS = (
    ("_partition_date", "Date"),
    ("_loaded_at", "DateTime64(3, 'UTC')"),
    ("_source_file", "String"),
)
RESERVED = {"dt", *(name for name, _ in METADATA_COLUMNS)}
MONTHS_PER_INSERT = 60  # under ClickHouse's 100 partitions per INSERT block (max_partitions_per_insert_block)
SIDE_TABLE_INFIX = "__incoming_"  # raw.<key>__incoming_<id>: where a load builds its rows before the swap
# Every read of the lake has a bound: ClickHouse retries S3 100 times by default, and a DESCRIBE against a dead
# endpoint hung for minutes (measured: > 100 s, and 0.5 s with these settings).
S3_BOUNDS = {"s3_retry_attempts": 3, "s3_connect_timeout_ms": 2000, "s3_request_timeout_ms": 30000}
INSERT_SETTINGS = {"use_hive_partitioning": 1, "date_time_overflow_behavior": "throw", **S3_BOUNDS}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INTEGERS = {8: "Int8", 16: "Int16", 32: "Int32", 64: "Int64"}
_PRECISION = {"s": 0, "ms": 3, "us": 6, "ns": 9}


class RawSchemaError(RuntimeError):
    """`raw.<key>` exists with other columns than the lake schema asks for."""


class LakeNotReadableError(RuntimeError):
    """ClickHouse cannot read the lake objects (none yet, or the S3 keys are refused)."""


def _identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return name


def clickhouse_type(field: pa.Field, low_cardinality: bool = False) -> str:
    """The ClickHouse type of an Arrow field, spelled as ClickHouse prints it in system.columns."""
    t = field.type
    if pa.types.is_boolean(t):
        base = "Bool"
    elif pa.types.is_signed_integer(t):
        base = _INTEGERS[t.bit_width]
    elif pa.types.is_unsigned_integer(t):
        base = "U" + _INTEGERS[t.bit_width]
    elif pa.types.is_floating(t):
        base = f"Float{t.bit_width}"
    elif pa.types.is_decimal(t):
        base = f"Decimal({t.precision}, {t.scale})"
    elif pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t):
        base = "String"
    elif pa.types.is_date(t):
        base = "Date"  # 1970-01-01..2149-06-06: business dates; the INSERT refuses anything outside
    elif pa.types.is_timestamp(t):
        if t.tz not in ("UTC", "+00:00", "Etc/UTC"):
            raise ValueError(f"column {field.name}: timestamps must be UTC, got tz={t.tz!r}")
        base = f"DateTime64({_PRECISION[t.unit]}, 'UTC')"
    else:
        raise ValueError(f"column {field.name}: no ClickHouse type for Arrow {t}")
    if field.nullable:
        base = f"Nullable({base})"
    if low_cardinality:
        if not pa.types.is_string(t) and not pa.types.is_large_string(t):
            raise ValueError(f"column {field.name}: LowCardinality is for strings, got {t}")
        base = f"LowCardinality({base})"
    return base


def raw_columns(arrow_schema: pa.Schema, low_cardinality: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(name, ClickHouse type) of every column of `raw.<key>`, the lake's first, then the metadata columns."""
    unknown = set(low_cardinality) - set(arrow_schema.names)
    if unknown:
        raise ValueError(f"low_cardinality names columns not in the schema: {sorted(unknown)}")
    clash = RESERVED & set(arrow_schema.names)
    if clash:
        raise ValueError(f"lake columns may not be named {sorted(clash)} (the raw load adds or reads them)")
    columns = [
        (_identifier(field.name), clickhouse_type(field, field.name in low_cardinality)) for field in arrow_schema
    ]
    return columns + list(METADATA_COLUMNS)


def ensure_raw_table(
    client,
    key: str,
    arrow_schema: pa.Schema,
    order_by: Sequence[str],
    low_cardinality: Sequence[str] = (),
    partition_by: str = "toYYYYMM(_partition_date)",
    layout: TableLayout = SINGLE_NODE,
) -> None:
    """Create `raw.<key>` (MergeTree) if missing; if it exists, check it has exactly these columns."""
    columns = raw_columns(arrow_schema, low_cardinality)
    types = dict(columns)
    for name in order_by:
        if name not in types or types[name].startswith("Nullable") or "(Nullable" in types[name]:
            raise ValueError(f"order_by column {name!r} must be a non-nullable column of raw.{key}")
    client.command(raw_table_ddl(key, columns, order_by, partition_by, layout))
    found = existing_columns(client, key)
    if found != columns:
        missing = [f"{n} {t}" for n, t in columns if (n, t) not in found]
        extra = [f"{n} {t}" for n, t in found if (n, t) not in columns]
        raise RawSchemaError(
            f"raw.{key} differs from the lake schema: missing {missing or 'nothing'}, unexpected "
            f"{extra or 'nothing'} (or the order differs). Migrate it (ALTER TABLE) or drop it and reload."
        )


def raw_table_ddl(
    key: str,
    columns: Sequence[tuple[str, str]],
    order_by: Sequence[str],
    partition_by: str = "toYYYYMM(_partition_date)",
    layout: TableLayout = SINGLE_NODE,
) -> str:
    """The `CREATE TABLE IF NOT EXISTS raw.<key>` statement."""
    body = ",\n    ".join(f"`{name}` {type_}" for name, type_ in columns)
    return (
        f"CREATE TABLE IF NOT EXISTS raw.`{_identifier(key)}`{layout.on_cluster()} (\n    {body}\n) "
        f"ENGINE = {layout.engine('MergeTree')}\n"
        f"PARTITION BY {partition_by}\nORDER BY ({', '.join(f'`{name}`' for name in order_by)})"
        f"{layout.settings()}"
    )


def side_table_ddl(key: str, side_name: str, layout: TableLayout = SINGLE_NODE) -> str:
    """The side table a load builds its months in: the raw table's structure, engine and settings."""
    return f"CREATE TABLE raw.`{_identifier(side_name)}`{layout.on_cluster()} AS raw.`{_identifier(key)}`"


def drop_table_ddl(name: str, layout: TableLayout = SINGLE_NODE) -> str:
    return f"DROP TABLE IF EXISTS raw.`{_identifier(name)}`{layout.on_cluster()} SYNC"


def partition_swap_sql(key: str, partition_id: str, side_name: str | None) -> str:
    """`REPLACE PARTITION ID` from the side table, or `DROP PARTITION ID` when `side_name` is None (the lake no
    longer has that month). Never ON CLUSTER: on a replicated table the replication log carries it (module doc)."""
    if not re.fullmatch(r"\d{6}", partition_id):
        raise ValueError(f"not a month partition id: {partition_id!r}")
    table = f"raw.`{_identifier(key)}`"
    if side_name is None:
        return f"ALTER TABLE {table} DROP PARTITION ID '{partition_id}'"
    return f"ALTER TABLE {table} REPLACE PARTITION ID '{partition_id}' FROM raw.`{_identifier(side_name)}`"


def existing_columns(client, key: str) -> list[tuple[str, str]]:
    rows = client.query(
        "SELECT name, type FROM system.columns WHERE database = 'raw' AND table = {t:String} ORDER BY position",
        parameters={"t": key},
    ).result_rows
    return [(name, type_) for name, type_ in rows]


def _bound(reader_sql: str) -> dict[str, str]:
    """The query parameters a lake reader needs (`LakeReader.parameters`: the S3 keys on chDB), else none."""
    return dict(getattr(reader_sql, "parameters", None) or {})


def _source_file_expression(reader_sql: str) -> str:
    """`_path` is an absolute path for `file(...)` and `bucket/key` for `s3(...)`: make the latter a URI."""
    return "concat('s3://', _path)" if reader_sql.lstrip().lower().startswith("s3(") else "_path"


def _months(start: date, end: date) -> list[date]:
    """The months start..end covers; the range must be whole months (raw tables are partitioned by month)."""
    months = month_starts(start, end)
    if start != months[0] or end != month_end(months[-1]):
        raise ValueError(f"raw loads replace whole months: {start}..{end} is not a range of whole months")
    return months


def _active_partitions(client, table_name: str) -> dict[str, int]:
    rows = client.query(
        "SELECT partition_id, sum(rows) FROM system.parts WHERE database = 'raw' AND table = {t:String} "
        "AND active GROUP BY partition_id",
        parameters={"t": table_name},
    ).result_rows
    return {partition_id: int(count) for partition_id, count in rows}


def drop_stale_side_tables(client, key: str, older_than_hours: int = 6, layout: TableLayout = SINGLE_NODE) -> list[str]:
    """Side tables a killed load left behind (`raw.<key>__incoming_*`), older than any load still running."""
    names = [
        row[0]
        for row in client.query(
            "SELECT name FROM system.tables WHERE database = 'raw' AND startsWith(name, {prefix:String}) "
            "AND metadata_modification_time <= now() - toIntervalHour({hours:UInt32})",
            parameters={"prefix": f"{key}{SIDE_TABLE_INFIX}", "hours": older_than_hours},
        ).result_rows
    ]
    for name in names:
        client.command(drop_table_ddl(name, layout))
    return names


def replace_partitions(
    client,
    key: str,
    reader_sql: str | Sequence[str] | None,
    start: date,
    end: date,
    months_per_insert: int = MONTHS_PER_INSERT,
    layout: TableLayout = SINGLE_NODE,
) -> int:
    """Replace the months start..end of `raw.<key>` from the lake, atomically per month; return the rows now there.

    `reader_sql` is one lake dataset's reader, or several (datasets of one schema merged into one raw table, e.g.
    the ERP's file drops and its PostgreSQL extraction), or None / none when the lake holds no object in the
    range: those months become empty. Otherwise the new rows are built in a side table first (one INSERT per
    reader); a failure there (unreadable or corrupt object, S3 down, a kill) leaves `raw.<key>` exactly as it
    was. Then each month is swapped in with `REPLACE PARTITION` (a month the lake no longer has is dropped), and
    the side table is dropped.
    """
    if end < start:
        raise ValueError(f"date range ends before it starts: {start}..{end}")
    months = _months(start, end)
    table = f"raw.`{_identifier(key)}`"
    columns = [(n, t) for n, t in existing_columns(client, key) if n not in dict(METADATA_COLUMNS)]
    if not columns:
        raise RawSchemaError(f"raw.{key} does not exist: call ensure_raw_table first")
    readers = [reader_sql] if isinstance(reader_sql, str) else list(reader_sql or [])
    for reader in readers:
        try:  # before anything else: the lake must be readable (finds no file, or no access, early)
            client.query(f"DESCRIBE TABLE {reader}", parameters=_bound(reader), settings=INSERT_SETTINGS)
        except Exception as error:
            said = next((line for line in str(error).splitlines() if "DB::Exception" in line), str(error))
            said = redact_text(said, _bound(reader).values())  # the keys a reader binds never reach a message
            raise LakeNotReadableError(
                f"raw.{key}: ClickHouse cannot read the lake at {reader} (raw.{key} unchanged). Write the lake "
                f"partitions first, or check the lake's S3 keys. ClickHouse said: {said.strip()[:400]}"
            ) from None
    window = {"start": start, "end": end}
    side_name = f"{key}{SIDE_TABLE_INFIX}{uuid.uuid4().hex[:12]}"
    side = f"raw.`{side_name}`"
    client.command(side_table_ddl(key, side_name, layout))
    try:
        for reader in readers:
            select = ",\n    ".join(f"CAST(`{name}` AS {type_}) AS `{name}`" for name, type_ in columns)
            names = ", ".join(f"`{name}`" for name, _ in columns)
            # ClickHouse refuses an INSERT block spanning more than 100 partitions (a 10-year backfill is 120)
            for first in range(0, len(months), months_per_insert):
                chunk = months[first : first + months_per_insert]
                chunk_end = min(end, month_end(chunk[-1]))
                client.command(
                    f"INSERT INTO {side} ({names}, _partition_date, _loaded_at, _source_file)\n"
                    f"SELECT\n    {select},\n    toDate(dt), now64(3, 'UTC'), {_source_file_expression(reader)}\n"
                    f"FROM {reader}\nWHERE dt BETWEEN {{start:Date}} AND {{end:Date}}",
                    parameters={**_bound(reader), "start": chunk[0], "end": chunk_end},
                    settings=INSERT_SETTINGS,
                )
        incoming = _active_partitions(client, side_name)
        current = _active_partitions(client, key)
        for month in months:
            partition_id = month.strftime("%Y%m")
            if partition_id in incoming:
                client.command(partition_swap_sql(key, partition_id, side_name))
            elif partition_id in current:  # the lake has nothing for that month any more
                client.command(partition_swap_sql(key, partition_id, None))
    finally:
        client.command(drop_table_ddl(side_name, layout))
    counted = client.query(
        f"SELECT count() FROM {table} WHERE _partition_date BETWEEN {{start:Date}} AND {{end:Date}}",
        parameters=window,
    )
    return int(counted.result_rows[0][0])
