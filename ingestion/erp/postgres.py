"""The ERP's PostgreSQL database: the demo loader and the incremental extraction by `updated_at`.

`load_company(conn, company, schema)` creates one table per contract entity (DDL derived from the contract:
`numeric(p, s)` for decimals, `date`, `timestamptz`, `text`, `integer`; the primary key; indexes on
`updated_at` and `deleted_at`) and upserts the rows. `extract_incremental(conn, entity, cursor)` first reads
the table's columns from `information_schema` and fails with `SchemaDriftError` when they differ from the
contract, then selects the rows changed since `cursor - overlap` (`updated_at` or `deleted_at` at or after
it: a soft delete is caught even when the ERP does not touch `updated_at`), validates them with
`contracts.validate` and returns the valid rows, the new cursor and the quarantine. Soft-deleted rows come
back with `deleted_at` set; they are never dropped. The overlap re-reads rows of transactions that committed
after a later `updated_at` had already been read; staging keeps the latest version of each key, so re-reading
is harmless. Store the cursor (`CursorStore`) only after the rows have landed.

The connection comes from a DSN (`ERP_POSTGRES_DSN`, libpq key/value or URL form); messages show it with the
password masked (`safe_dsn`). Cursors are kept by `state.CursorStore`.
"""

import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import NamedTuple

import psycopg
import pyarrow as pa
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row

from ingestion.common.quarantine import QuarantineRecord
from ingestion.erp import contracts

DSN_ENV = "ERP_POSTGRES_DSN"
DEFAULT_SCHEMA = "erp"
DEFAULT_OVERLAP = timedelta(minutes=10)

# Arrow type -> PostgreSQL type the loader creates, and the information_schema data types the extractor accepts.
_STRING = ("text", "character varying", "character")
_INTEGER = ("integer", "smallint")


class ErpDatabaseError(RuntimeError):
    """The ERP database could not be reached or read; the message names the DSN with the password masked."""


class SchemaDriftError(ErpDatabaseError):
    """The ERP table's columns no longer match the contract."""


def safe_dsn(dsn: str) -> str:
    """The DSN with its password masked, for messages and logs."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparseable DSN>"
    if params.get("password"):
        params["password"] = "***"
    return make_conninfo(**params)


def dsn_from_env(environ: Mapping[str, str] = os.environ) -> str:
    """`ERP_POSTGRES_DSN`, e.g. `host=erp-db port=5432 dbname=erp user=importau password=...`."""
    dsn = environ.get(DSN_ENV, "").strip()
    if not dsn:
        raise ErpDatabaseError(f"{DSN_ENV} is not set: give the ERP database as a libpq DSN or postgresql:// URL")
    return dsn


def connect(dsn: str, connect_timeout: int = 10) -> psycopg.Connection:
    """A connection (autocommit off); fails with `ErpDatabaseError` naming the DSN without its password."""
    try:
        return psycopg.connect(dsn, connect_timeout=connect_timeout)
    except psycopg.Error as error:
        password = conninfo_to_dict(dsn).get("password") if dsn else None
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if password:
            detail = detail.replace(password, "***")
        raise ErpDatabaseError(f"cannot connect to the ERP database {safe_dsn(dsn)}: {detail}") from None


# --- DDL and loading -------------------------------------------------------------------------------------------


def pg_type(arrow_type: pa.DataType) -> str:
    """The PostgreSQL type the loader creates for a contract column."""
    if pa.types.is_string(arrow_type):
        return "text"
    if pa.types.is_int32(arrow_type):
        return "integer"
    if pa.types.is_decimal(arrow_type):
        return f"numeric({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_date32(arrow_type):
        return "date"
    if pa.types.is_timestamp(arrow_type) and arrow_type.tz is not None:
        return "timestamptz"
    raise ValueError(f"no PostgreSQL type for the contract type {arrow_type}")


def create_table_sql(entity: str, schema: str = DEFAULT_SCHEMA) -> sql.Composed:
    """`CREATE TABLE IF NOT EXISTS schema.entity (...)` from the contract (NOT NULL for required columns)."""
    contract = contracts.ENTITIES[entity]
    columns = [
        sql.SQL("{} {}{}").format(
            sql.Identifier(column.name),
            sql.SQL(pg_type(column.arrow_type)),
            sql.SQL(" NOT NULL" if column.required else ""),
        )
        for column in contract.columns
    ]
    key = sql.SQL(", ").join(map(sql.Identifier, contract.primary_key))
    return sql.SQL("CREATE TABLE IF NOT EXISTS {} ({}, PRIMARY KEY ({}))").format(
        sql.Identifier(schema, entity), sql.SQL(", ").join(columns), key
    )


def create_tables(conn: psycopg.Connection, schema: str = DEFAULT_SCHEMA) -> None:
    """Create the schema and every entity table (with `updated_at`/`deleted_at` indexes) that does not exist yet."""
    with conn.transaction():
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        for entity in contracts.ENTITY_NAMES:
            conn.execute(create_table_sql(entity, schema))
            for column in ("updated_at", "deleted_at"):
                conn.execute(
                    sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                        sql.Identifier(f"{entity}_{column}_idx"),
                        sql.Identifier(schema, entity),
                        sql.Identifier(column),
                    )
                )


def upsert_rows(conn: psycopg.Connection, entity: str, table: pa.Table, schema: str = DEFAULT_SCHEMA) -> int:
    """Insert the rows, or update the row with the same key; returns how many rows were inserted or changed.

    The rows go through COPY into a temporary table, then one `INSERT ... ON CONFLICT DO UPDATE` that skips rows
    identical to what is stored. Values are written as given (the contract is checked on extraction).
    """
    contract = contracts.ENTITIES[entity]
    names = [column.name for column in contract.columns]
    stage = sql.Identifier(f"_importau_stage_{entity}")
    target = sql.Identifier(schema, entity)
    cols = sql.SQL(", ").join(map(sql.Identifier, names))
    updated = [name for name in names if name not in contract.primary_key]
    assignments = sql.SQL(", ").join(
        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(name)) for name in updated
    )
    changed = sql.SQL("ROW({}) IS DISTINCT FROM ROW({})").format(
        sql.SQL(", ").join(sql.Identifier("t", name) for name in updated),
        sql.SQL(", ").join(sql.Identifier("excluded", name) for name in updated),
    )
    with conn.transaction():
        conn.execute(sql.SQL("CREATE TEMP TABLE {} (LIKE {})").format(stage, target))
        with conn.cursor() as cur:
            with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(stage, cols)) as copy:
                for row in table.select(names).to_pylist():
                    copy.write_row([row[name] for name in names])
            cur.execute(
                sql.SQL(
                    "INSERT INTO {target} AS t ({cols}) SELECT {cols} FROM {stage} "
                    "ON CONFLICT ({key}) DO UPDATE SET {assignments} WHERE {changed}"
                ).format(
                    target=target,
                    cols=cols,
                    stage=stage,
                    key=sql.SQL(", ").join(map(sql.Identifier, contract.primary_key)),
                    assignments=assignments,
                    changed=changed,
                )
            )
            count = cur.rowcount
        conn.execute(sql.SQL("DROP TABLE {}").format(stage))
    return count


def load_company(conn: psycopg.Connection, company, schema: str = DEFAULT_SCHEMA) -> dict[str, int]:
    """Create the ERP tables in `schema` and upsert every entity of the company (a `DemoCompany` or a mapping
    entity -> Arrow table); returns the rows inserted or changed per entity. Fails on a drifted table."""
    tables: Mapping[str, pa.Table] = company.erp if hasattr(company, "erp") else company
    with conn.transaction():  # one transaction: a failed load leaves the database as it was
        create_tables(conn, schema)
        for entity in tables:
            check_schema(conn, entity, schema)
        loaded = [name for name in contracts.ENTITY_NAMES if name in tables]
        return {name: upsert_rows(conn, name, tables[name], schema) for name in loaded}


# --- schema check and extraction -------------------------------------------------------------------------------


def _accepts(arrow_type: pa.DataType, data_type: str, precision: int | None, scale: int | None) -> bool:
    if pa.types.is_string(arrow_type):
        return data_type in _STRING
    if pa.types.is_int32(arrow_type):
        return data_type in _INTEGER
    if pa.types.is_decimal(arrow_type):  # unconstrained numeric is fine: validate refuses extra decimals
        if data_type != "numeric" or precision is None:
            return data_type == "numeric"
        scale = scale or 0
        return scale <= arrow_type.scale and precision - scale <= arrow_type.precision - arrow_type.scale
    if pa.types.is_date32(arrow_type):
        return data_type == "date"
    return data_type == "timestamp with time zone"


def read_columns(conn: psycopg.Connection, entity: str, schema: str = DEFAULT_SCHEMA) -> list[dict]:
    """The table's columns from information_schema: name, data_type, numeric_precision, numeric_scale."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT column_name AS name, data_type, numeric_precision, numeric_scale FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (schema, entity),
        )
        return cur.fetchall()


def check_schema(conn: psycopg.Connection, entity: str, schema: str = DEFAULT_SCHEMA) -> None:
    """Raise `SchemaDriftError` naming every difference between the table (or view) and the contract."""
    contract = contracts.ENTITIES[entity]
    found = {column["name"]: column for column in read_columns(conn, entity, schema)}
    where = f"{schema}.{entity}"
    if not found:
        raise SchemaDriftError(f"the ERP table {where} does not exist (or this user cannot see it)")
    problems = []
    missing = [column.name for column in contract.columns if column.name not in found]
    if missing:
        problems.append(f"missing columns {', '.join(missing)}")
    extra = [name for name in found if name not in {column.name for column in contract.columns}]
    if extra:
        problems.append(f"unexpected columns {', '.join(extra)}")
    for column in contract.columns:
        db = found.get(column.name)
        if db and not _accepts(column.arrow_type, db["data_type"], db["numeric_precision"], db["numeric_scale"]):
            shown = db["data_type"] + (
                f"({db['numeric_precision']},{db['numeric_scale']})" if db["numeric_precision"] is not None
                and db["data_type"] == "numeric" else ""
            )
            problems.append(f"{column.name} is {shown}, the contract needs {pg_type(column.arrow_type)}")
    if problems:
        raise SchemaDriftError(
            f"the ERP table {where} drifted from the contract: {'; '.join(problems)}. Update the contract "
            "(ingestion/erp/contracts.py) or point the extraction at a view that matches it"
        )


class Extraction(NamedTuple):
    """What one incremental extraction returns: `table, cursor, quarantine = extract_incremental(...)`."""

    table: pa.Table  # valid rows in the contract schema, ordered by primary key; soft deletes have deleted_at
    cursor: datetime | None  # the greatest updated_at/deleted_at read (never before the previous cursor)
    quarantine: list[QuarantineRecord]

    @property
    def deleted(self) -> int:
        """How many of the rows are soft-deleted."""
        return self.table.num_rows - self.table["deleted_at"].null_count


def extract_incremental(
    conn: psycopg.Connection,
    entity: str,
    cursor: datetime | None,
    overlap: timedelta = DEFAULT_OVERLAP,
    schema: str = DEFAULT_SCHEMA,
) -> Extraction:
    """The rows of `schema.entity` changed at or after `cursor - overlap` (every row when `cursor` is None)."""
    contract = contracts.ENTITIES[entity]
    cols = sql.SQL(", ").join(sql.Identifier(column.name) for column in contract.columns)
    query = sql.SQL("SELECT {} FROM {}").format(cols, sql.Identifier(schema, entity))
    params: tuple = ()
    if cursor is not None:
        if cursor.tzinfo is None:
            raise ValueError("the cursor must be timezone-aware (UTC)")
        query += sql.SQL(" WHERE updated_at >= %s OR deleted_at >= %s")
        params = (cursor - overlap, cursor - overlap)
    query += sql.SQL(" ORDER BY {}").format(sql.SQL(", ").join(map(sql.Identifier, contract.primary_key)))
    with conn.transaction():
        check_schema(conn, entity, schema)
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query, params)
            rows = cur.fetchall()
    seen = [stamp for row in rows for stamp in (row["updated_at"], row["deleted_at"]) if stamp is not None]
    new_cursor = max([*seen, *([cursor] if cursor is not None else [])], default=None)
    table, quarantine = contracts.validate(entity, rows)
    return Extraction(table, new_cursor, quarantine)
