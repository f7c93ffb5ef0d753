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

`extract_range(conn, entity, after, upto)` is the same read bounded on both sides by the change time
`greatest(updated_at, deleted_at)` (and the primary key at the upper bound), ordered by them, with the high-water
mark it reached: what the partitioned extraction asset uses (`ingestion/erp/extraction.py`). `scan_keys` reads
every primary key of a table, for the periodic hard-delete scan.

The connection comes from a DSN (`ERP_POSTGRES_DSN`, libpq key/value or URL form); messages show it with the
password masked (`safe_dsn`, `ingestion.common.redact`). A URL whose password holds a raw `@` or `/` is refused
before libpq sees it (libpq would send the rest of the password to the resolver as a host or a port): percent-encode
it or use the key/value form. Every connection has a connect timeout and a statement timeout (and TCP
keepalives), so no query waits without bound. Cursors are kept by `state.CursorStore` (or, per partition, by
`state.PartitionCursors`).
"""

import json
import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import NamedTuple

import psycopg
import pyarrow as pa
from psycopg import sql
from psycopg.rows import dict_row

from ingestion.common.quarantine import QuarantineRecord
from ingestion.common.redact import redact_text, redact_url, secrets_of, url_userinfo_problem
from ingestion.erp import contracts

DSN_ENV = "ERP_POSTGRES_DSN"
DEFAULT_SCHEMA = "erp"
DEFAULT_OVERLAP = timedelta(minutes=10)
DEFAULT_CONNECT_TIMEOUT = 10  # seconds: libpq's connect_timeout (the whole start-up, TLS and auth included)
DEFAULT_STATEMENT_TIMEOUT = 300  # seconds: statement_timeout, and idle_in_transaction_session_timeout
# TCP keepalives: a server or network that vanishes mid-query is noticed in about 30 + 3 x 10 s.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}

# Arrow type -> PostgreSQL type the loader creates, and the information_schema data types the extractor accepts.
_STRING = ("text", "character varying", "character")
_INTEGER = ("integer", "smallint")


class ErpDatabaseError(RuntimeError):
    """The ERP database could not be reached or read; the message names the DSN with the password masked."""


class SchemaDriftError(ErpDatabaseError):
    """The ERP table's columns no longer match the contract."""


def safe_dsn(dsn: str) -> str:
    """The DSN in the form it was given, its password masked, for messages and logs."""
    return redact_url(dsn)


def dsn_from_env(environ: Mapping[str, str] = os.environ) -> str:
    """`ERP_POSTGRES_DSN`, e.g. `host=erp-db port=5432 dbname=erp user=importau password=...`."""
    dsn = environ.get(DSN_ENV, "").strip()
    if not dsn:
        raise ErpDatabaseError(f"{DSN_ENV} is not set: give the ERP database as a libpq DSN or postgresql:// URL")
    return dsn


def connect(
    dsn: str,
    connect_timeout: int = DEFAULT_CONNECT_TIMEOUT,
    statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT,
    read_only: bool = False,
    application_name: str = "importau",
) -> psycopg.Connection:
    """A connection (autocommit off) whose every statement is bounded; fails with `ErpDatabaseError` naming the
    DSN without its password.

    `connect_timeout` bounds the start-up (libpq), `statement_timeout` (seconds) every statement and every idle
    transaction on the server, TCP keepalives a peer that disappears. The settings are sent with `SET` after
    connecting, not as start-up `options`, so a pooler that refuses unknown start-up parameters (PgBouncer) still
    works. `read_only` makes every transaction of the session read-only: the extraction never writes to the ERP.
    """
    if problem := url_userinfo_problem(dsn):
        raise ErpDatabaseError(f"cannot connect to the ERP database {safe_dsn(dsn)}: {problem}")
    try:
        conn = psycopg.connect(dsn, connect_timeout=connect_timeout, application_name=application_name, **KEEPALIVES)
    except psycopg.Error as error:
        raise ErpDatabaseError(f"cannot connect to the ERP database {safe_dsn(dsn)}: {_detail(error, dsn)}") from None
    try:
        milliseconds = f"{max(1, round(statement_timeout * 1000))}ms"
        for name, value in (
            ("statement_timeout", milliseconds),
            ("idle_in_transaction_session_timeout", milliseconds),
            ("default_transaction_read_only", "on" if read_only else "off"),
        ):
            conn.execute("SELECT set_config(%s, %s, false)", (name, value))
        conn.commit()
    except psycopg.Error as error:
        conn.close()
        raise ErpDatabaseError(f"cannot set up the session on {safe_dsn(dsn)}: {_detail(error, dsn)}") from None
    return conn


def _detail(error: BaseException, dsn: str | None = None) -> str:
    """The first line of a driver error, with the DSN's password (if any) masked."""
    text = str(error).strip()
    detail = text.splitlines()[0] if text else type(error).__name__
    return redact_text(detail, secrets_of(dsn) if dsn else ())


def where(conn: psycopg.Connection) -> str:
    """The database of a connection for messages: host, port, database and user, never the password."""
    try:
        info = conn.info
        return f"host={info.host} port={info.port} dbname={info.dbname} user={info.user}"
    except psycopg.Error:  # a closed connection no longer says
        return "(connection closed)"


def database_error(conn: psycopg.Connection, what: str, error: psycopg.Error) -> ErpDatabaseError:
    """A driver error as `ErpDatabaseError` naming the database and what was being done (the server's own words
    say which timeout cancelled a statement: "canceling statement due to statement timeout")."""
    hint = ""
    if isinstance(error, psycopg.errors.QueryCanceled):
        hint = (
            ". A slow table or a lock held by the ERP: raise ErpResource.postgres_statement_timeout_seconds, "
            "or look at pg_stat_activity on that server"
        )
    elif isinstance(error, psycopg.OperationalError):
        hint = ". The server or the network went away: check that the ERP database answers, then re-run"
    return ErpDatabaseError(f"{what} on the ERP database {where(conn)} failed: {_detail(error)}{hint}")


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
    assignments = sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(name)) for name in updated)
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
                f"({db['numeric_precision']},{db['numeric_scale']})"
                if db["numeric_precision"] is not None and db["data_type"] == "numeric"
                else ""
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


# --- bounded extraction (the partitioned asset) and the key scan ------------------------------------------------

CHANGED_AT = "_changed_at"  # greatest(updated_at, deleted_at): when the row last changed, a soft delete included
FUTURE_TOLERANCE = timedelta(days=1)  # a change time further ahead of the database's clock is quarantined


class RangeExtraction(NamedTuple):
    """What `extract_range` returns."""

    table: pa.Table  # valid rows in the contract schema, ordered by change time, then primary key
    quarantine: list[QuarantineRecord]
    read: int  # rows read, valid and quarantined
    high_water: datetime | None  # the greatest change time read (bad rows included), never after database_now
    high_water_key: tuple | None  # the primary key of the last row read at high_water, in the query's order
    database_now: datetime  # the database's clock when the read started (its transaction's now())


def _changed_at() -> sql.Composable:
    return sql.SQL("greatest({}, {})").format(sql.Identifier("updated_at"), sql.Identifier("deleted_at"))


def extract_range(
    conn: psycopg.Connection,
    entity: str,
    after: datetime | None,
    upto: datetime | None = None,
    upto_key: tuple | None = None,
    schema: str = DEFAULT_SCHEMA,
    source: str = "erp_postgres",
) -> RangeExtraction:
    """The rows of `schema.entity` whose change time `greatest(updated_at, deleted_at)` is at or after `after`
    (None: from the first) and at or before `upto` (None: up to now; with `upto_key`, `(change time, primary
    key) <= (upto, upto_key)`), validated against the contract, in one transaction with the schema check.

    The high-water mark is the last row read in `(change time, primary key)` order, bad rows included (a bad row
    is reported once, not forever), but never after the database's clock: a row stamped in the future is read
    again by later extractions until its time has come, instead of pushing the cursor past rows still to be
    written. A change time more than a day ahead of the database's clock is quarantined (a clock or time-zone
    error in the ERP). Queries use the `updated_at` and `deleted_at` indexes for the lower bound.
    """
    for name, value in (("after", after), ("upto", upto)):
        if value is not None and value.tzinfo is None:
            raise ValueError(f"{name} must be timezone-aware (UTC)")
    if upto_key is not None and upto is None:
        raise ValueError("upto_key needs upto")
    contract = contracts.ENTITIES[entity]
    key = [sql.Identifier(name) for name in contract.primary_key]
    cols = sql.SQL(", ").join(sql.Identifier(column.name) for column in contract.columns)
    query = sql.SQL("SELECT {}, {} AS {} FROM {}").format(
        cols, _changed_at(), sql.Identifier(CHANGED_AT), sql.Identifier(schema, entity)
    )
    conditions, params = [], []
    if after is not None:  # greatest(u, d) >= x  <=>  u >= x OR d >= x: both indexes serve it
        conditions.append(sql.SQL("(updated_at >= %s OR deleted_at >= %s)"))
        params += [after, after]
    if upto is not None and upto_key is not None:
        if len(upto_key) != len(key):
            raise ValueError(f"upto_key {upto_key!r} does not match the key ({', '.join(contract.primary_key)})")
        conditions.append(
            sql.SQL("({}, {}) <= ({})").format(
                _changed_at(), sql.SQL(", ").join(key), sql.SQL(", ").join([sql.Placeholder()] * (1 + len(key)))
            )
        )
        params += [upto, *upto_key]
    elif upto is not None:
        conditions.append(sql.SQL("{} <= %s").format(_changed_at()))
        params.append(upto)
    if conditions:
        query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions)
    query += sql.SQL(" ORDER BY {}, {}").format(_changed_at(), sql.SQL(", ").join(key))
    try:
        with conn.transaction():
            check_schema(conn, entity, schema)
            database_now = conn.execute("SELECT now()").fetchone()[0]
            with conn.cursor(row_factory=dict_row) as cur:
                cur.execute(query, params)
                rows = cur.fetchall()
    except SchemaDriftError:
        raise
    except psycopg.Error as error:
        raise database_error(conn, f"reading {schema}.{entity}", error) from None
    high_water, high_water_key = None, None
    for row in reversed(rows):
        if row[CHANGED_AT] <= database_now:
            high_water, high_water_key = row[CHANGED_AT], tuple(row[name] for name in contract.primary_key)
            break
    future = [row for row in rows if row[CHANGED_AT] > database_now + FUTURE_TOLERANCE]
    current = [row for row in rows if row[CHANGED_AT] <= database_now + FUTURE_TOLERANCE]
    for row in rows:
        del row[CHANGED_AT]
    table, quarantine = contracts.validate(entity, current, source=source)
    for row in future:
        stamp = max(stamp for stamp in (row["updated_at"], row["deleted_at"]) if stamp is not None)
        quarantine.append(
            QuarantineRecord(
                source,
                entity,
                contract.key_of(row),
                f"{entity} {contract.key_of(row)}: changed at {stamp.isoformat()}, more than "
                f"{FUTURE_TOLERANCE.days} day after the database's clock ({database_now.isoformat()}): a clock "
                "or time-zone error in the ERP",
                json.dumps(row, default=str, ensure_ascii=False, sort_keys=True),
            )
        )
    return RangeExtraction(table, quarantine, len(rows), high_water, high_water_key, database_now)


def scan_keys(conn: psycopg.Connection, entity: str, schema: str = DEFAULT_SCHEMA) -> set[tuple]:
    """Every primary key of `schema.entity` (soft-deleted rows included: they still exist), after the schema check.
    The hard-delete scan compares them with the keys the lake holds."""
    contract = contracts.ENTITIES[entity]
    query = sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(sql.Identifier(name) for name in contract.primary_key), sql.Identifier(schema, entity)
    )
    try:
        with conn.transaction():
            check_schema(conn, entity, schema)
            return {tuple(row) for row in conn.execute(query).fetchall()}
    except SchemaDriftError:
        raise
    except psycopg.Error as error:
        raise database_error(conn, f"scanning the keys of {schema}.{entity}", error) from None
