"""The machine's PostgreSQL (127.0.0.1:5432, trust auth, database `test`) for integration tests.

`postgres_dsn()` returns the first DSN that answers (`TEST_POSTGRES_DSN` if set, else user `postgres`, then
`root`) or raises a RuntimeError saying how to start the server; tests fail on it, they never skip.
`temporary_schema(dsn)` yields a fresh schema name (`<prefix>_<random hex>`) and drops it with everything in it
afterwards, so concurrent test runs never see each other's tables.
"""

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

DSN_ENV = "TEST_POSTGRES_DSN"
DEFAULT_DSNS = (
    "host=127.0.0.1 port=5432 dbname=test user=postgres",
    "host=127.0.0.1 port=5432 dbname=test user=root",
)


def postgres_dsn() -> str:
    """A DSN of the running test server (checked with `SELECT 1`)."""
    candidates = [os.environ[DSN_ENV]] if os.environ.get(DSN_ENV) else list(DEFAULT_DSNS)
    errors = []
    for dsn in candidates:
        try:
            with psycopg.connect(dsn, connect_timeout=5) as conn:
                conn.execute("SELECT 1")
            return dsn
        except psycopg.Error as error:
            errors.append(f"{dsn}: {str(error).strip().splitlines()[0] if str(error).strip() else error!r}")
    raise RuntimeError(
        "PostgreSQL does not answer for the integration tests (tried " + "; ".join(errors) + "). Start it with "
        f"`bash .ci/services.sh`, or set {DSN_ENV} to a server where the user may create schemas in its database."
    )


@contextmanager
def temporary_schema(dsn: str, prefix: str = "erp_test") -> Iterator[str]:
    """A schema name unique to this use; the schema (if created) is dropped with CASCADE on exit."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    try:
        yield name
    finally:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
