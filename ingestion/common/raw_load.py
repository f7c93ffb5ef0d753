"""Lake -> `raw.<key>`: create the table from the Arrow schema, then replace a date range with ONE INSERT.

`replace_partitions` first checks ClickHouse can read the lake (a DESCRIBE of the reader, so no files or
refused keys fail before anything is deleted), deletes `_partition_date BETWEEN start AND end` (a synchronous
lightweight DELETE), then runs `INSERT INTO raw.<key> SELECT CAST(<col> AS <type>) ..., toDate(dt),
now64(3, 'UTC'), _path FROM <reader> WHERE dt BETWEEN start AND end`, `<reader>` being the lake's
`file(...)`/`s3(...)` text and `dt` its hive partition column. The CASTs run with
`date_time_overflow_behavior='throw'`, so a date outside `Date` fails loudly (an implicit INSERT conversion
silently saturates it to 1970-01-01). Re-running gives the same rows (only `_loaded_at` changes). Settings go
with each query, never `SET`.
"""

import re
from collections.abc import Sequence
from datetime import date

import pyarrow as pa

METADATA_COLUMNS = (
    ("_partition_date", "Date"),
    ("_loaded_at", "DateTime64(3, 'UTC')"),
    ("_source_file", "String"),
)
RESERVED = {"dt", *(name for name, _ in METADATA_COLUMNS)}
DELETE_SETTINGS = {"lightweight_deletes_sync": 2}
INSERT_SETTINGS = {"use_hive_partitioning": 1, "date_time_overflow_behavior": "throw"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INTEGERS = {8: "Int8", 16: "Int16", 32: "Int32", 64: "Int64"}
_PRECISION = {"s": 0, "ms": 3, "us": 6, "ns": 9}


class RawSchemaError(RuntimeError):
    """`raw.<key>` exists with other columns than the lake schema asks for."""


class LakeNotReadableError(RuntimeError):
    """ClickHouse cannot read the lake objects (none yet, or the named collection's keys are refused)."""


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
        (_identifier(field.name), clickhouse_type(field, field.name in low_cardinality))
        for field in arrow_schema
    ]
    return columns + list(METADATA_COLUMNS)


def ensure_raw_table(
    client,
    key: str,
    arrow_schema: pa.Schema,
    order_by: Sequence[str],
    low_cardinality: Sequence[str] = (),
    partition_by: str = "toYYYYMM(_partition_date)",
) -> None:
    """Create `raw.<key>` (MergeTree) if missing; if it exists, check it has exactly these columns."""
    columns = raw_columns(arrow_schema, low_cardinality)
    types = dict(columns)
    for name in order_by:
        if name not in types or types[name].startswith("Nullable") or "(Nullable" in types[name]:
            raise ValueError(f"order_by column {name!r} must be a non-nullable column of raw.{key}")
    body = ",\n    ".join(f"`{name}` {type_}" for name, type_ in columns)
    client.command(
        f"CREATE TABLE IF NOT EXISTS raw.`{_identifier(key)}` (\n    {body}\n) ENGINE = MergeTree\n"
        f"PARTITION BY {partition_by}\nORDER BY ({', '.join(f'`{name}`' for name in order_by)})"
    )
    found = existing_columns(client, key)
    if found != columns:
        missing = [f"{n} {t}" for n, t in columns if (n, t) not in found]
        extra = [f"{n} {t}" for n, t in found if (n, t) not in columns]
        raise RawSchemaError(
            f"raw.{key} differs from the lake schema: missing {missing or 'nothing'}, unexpected "
            f"{extra or 'nothing'} (or the order differs). Migrate it (ALTER TABLE) or drop it and reload."
        )


def existing_columns(client, key: str) -> list[tuple[str, str]]:
    rows = client.query(
        "SELECT name, type FROM system.columns WHERE database = 'raw' AND table = {t:String} "
        "ORDER BY position",
        parameters={"t": key},
    ).result_rows
    return [(name, type_) for name, type_ in rows]


def _source_file_expression(reader_sql: str) -> str:
    """`_path` is an absolute path for `file(...)` and `bucket/key` for `s3(...)`: make the latter a URI."""
    return "concat('s3://', _path)" if reader_sql.lstrip().lower().startswith("s3(") else "_path"


def replace_partitions(client, key: str, reader_sql: str, start: date, end: date) -> int:
    """Replace days start..end (both included) of `raw.<key>` from the lake; return the rows there now."""
    if end < start:
        raise ValueError(f"date range ends before it starts: {start}..{end}")
    table = f"raw.`{_identifier(key)}`"
    columns = [(n, t) for n, t in existing_columns(client, key) if n not in dict(METADATA_COLUMNS)]
    if not columns:
        raise RawSchemaError(f"raw.{key} does not exist: call ensure_raw_table first")
    try:  # before deleting anything: the lake must be readable (finds no file, or no access, early)
        client.query(f"DESCRIBE TABLE {reader_sql}", settings=INSERT_SETTINGS)
    except Exception as error:
        said = next((line for line in str(error).splitlines() if "DB::Exception" in line), str(error))
        raise LakeNotReadableError(
            f"raw.{key}: ClickHouse cannot read the lake at {reader_sql} (nothing deleted). Write the lake "
            f"partitions first, or check the named collection's keys. ClickHouse said: {said.strip()[:400]}"
        ) from None
    window = {"start": start, "end": end}
    # A synchronous lightweight DELETE costs ~0.15 s per active part even when nothing matches (measured in
    # benchmarks/bcb_ingestion.py): skip it for the usual case of a day loaded for the first time.
    present = client.command(
        f"SELECT count() FROM {table} WHERE _partition_date BETWEEN {{start:Date}} AND {{end:Date}}",
        parameters=window,
    )
    if int(present):
        client.command(
            f"DELETE FROM {table} WHERE _partition_date BETWEEN {{start:Date}} AND {{end:Date}}",
            parameters=window,
            settings=DELETE_SETTINGS,
        )
    select = ",\n    ".join(f"CAST(`{name}` AS {type_}) AS `{name}`" for name, type_ in columns)
    names = ", ".join(f"`{name}`" for name, _ in columns)
    client.command(
        f"INSERT INTO {table} ({names}, _partition_date, _loaded_at, _source_file)\n"
        f"SELECT\n    {select},\n    toDate(dt), now64(3, 'UTC'), {_source_file_expression(reader_sql)}\n"
        f"FROM {reader_sql}\nWHERE dt BETWEEN {{start:Date}} AND {{end:Date}}",
        parameters=window,
        settings=INSERT_SETTINGS,
    )
    counted = client.query(
        f"SELECT count() FROM {table} WHERE _partition_date BETWEEN {{start:Date}} AND {{end:Date}}",
        parameters=window,
    )
    return int(counted.result_rows[0][0])
