"""Where the ERP drops its exports, where the adapters keep their small state (file registry, cursors), and the
ERP's PostgreSQL database."""

import os
from contextlib import contextmanager
from typing import ClassVar

import dagster as dg
from pydantic import Field

from ingestion.common import settings_registry
from ingestion.erp import postgres
from orchestration.resources.settings import FromEnvironment, resolve_data_dir


class ErpResource(FromEnvironment, dg.ConfigurableResource):
    """The ERP file-drop inbox (`processed/`, `quarantine/`, `skipped/` live inside it), its event broker and its
    PostgreSQL database.

    The database's DSN is read from `ERP_POSTGRES_DSN` when an extraction or a schedule tick needs it, never a
    config field (as the Open Finance credentials): it carries a password, and a field's value would be kept in the
    run's resource config. Empty or unset: the PostgreSQL extraction is not configured (its schedule skips, a
    manual run fails saying so); the file drops do not need it.
    """

    ENV: ClassVar[dict[str, str]] = {"inbox_dir": "ERP_INBOX_DIR", "rabbitmq_url": "ERP_RABBITMQ_URL"}

    inbox_dir: str | None = None  # None: ERP_INBOX_DIR; empty: $IMPORTAU_DATA_DIR/erp/inbox
    data_dir: str = ""
    rabbitmq_url: str | None = Field(default=None, repr=False)  # the ERP's event broker; empty: the sensor skips
    events_queue: str = "importau.erp.events"
    events_exchange: str = "erp.events"
    dead_letter_exchange: str = "erp.events.dlx"
    dead_letter_queue: str = "importau.erp.events.dead"
    postgres_schema: str = Field(default=postgres.DEFAULT_SCHEMA, description="the ERP tables' (or views') schema")
    postgres_connect_timeout_seconds: int = Field(default=postgres.DEFAULT_CONNECT_TIMEOUT, description="libpq")
    postgres_statement_timeout_seconds: int = Field(
        default=postgres.DEFAULT_STATEMENT_TIMEOUT, description="every statement and idle transaction, server-side"
    )
    postgres_overlap_minutes: int = Field(
        default=int(postgres.DEFAULT_OVERLAP.total_seconds() // 60),
        description="re-read before the high-water mark; longer than the ERP's longest write transaction",
    )

    def event_topology(self) -> dict[str, str]:
        return {
            "queue": self.events_queue,
            "exchange": self.events_exchange,
            "dead_letter_exchange": self.dead_letter_exchange,
            "dead_letter_queue": self.dead_letter_queue,
        }

    def inbox(self) -> str:
        return self.setting("inbox_dir") or os.path.join(resolve_data_dir(self.data_dir), "erp", "inbox")

    def state_dir(self) -> str:
        path = os.path.join(resolve_data_dir(self.data_dir), "erp", "state")
        os.makedirs(path, exist_ok=True)
        return path

    def postgres_dsn(self) -> str:
        """`ERP_POSTGRES_DSN`, or "" when the ERP's PostgreSQL is not configured. Never log it: `postgres_label()`."""
        return settings_registry.value(postgres.DSN_ENV).strip()

    def postgres_label(self) -> str:
        """The database for logs and metadata, the password masked."""
        return postgres.safe_dsn(self.postgres_dsn()) if self.postgres_dsn() else "(not configured)"

    @contextmanager
    def postgres_connection(self):
        """A read-only connection with the configured timeouts (`ErpDatabaseError` names the database, masked)."""
        dsn = self.postgres_dsn()
        if not dsn:
            raise postgres.ErpDatabaseError(f"{postgres.DSN_ENV} is not set")
        conn = postgres.connect(
            dsn,
            connect_timeout=self.postgres_connect_timeout_seconds,
            statement_timeout=self.postgres_statement_timeout_seconds,
            read_only=True,
            application_name="importau-erp-extraction",
        )
        try:
            yield conn
        finally:
            conn.close()
