"""The ClickHouse warehouse as a Dagster resource: chDB embedded by default, or a server (CLICKHOUSE_URL)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

import dagster as dg
from pydantic import Field

from ingestion.common.table_layout import TableLayout
from ingestion.common.warehouse import Warehouse, open_warehouse, parse_warehouse_url
from orchestration.resources.settings import FromEnvironment, resolve_data_dir


class ClickHouseResource(FromEnvironment, dg.ConfigurableResource):
    """Opens the warehouse per use, so a step holds the embedded chDB folder only while it needs it. A field left
    None is read from its variable (`ENV`) when used."""

    ENV: ClassVar[dict[str, str]] = {
        "url": "CLICKHOUSE_URL",
        "cluster": "CLICKHOUSE_CLUSTER",
        "storage_policy": "CLICKHOUSE_STORAGE_POLICY",
    }

    url: str | None = Field(
        default=None,
        repr=False,  # may carry a password
        description="empty or chdb:///abs/path (embedded chDB), or http(s)://user:pass@host:port/ (a server)",
    )
    data_dir: str = Field(default="", description="IMPORTAU_DATA_DIR; the embedded warehouse is <data_dir>/warehouse")
    cluster: str | None = Field(
        default=None,
        description="CLICKHOUSE_CLUSTER: DDL ON CLUSTER with Replicated engines (README: Scale out); empty: one node",
    )
    storage_policy: str | None = Field(
        default=None,
        description="CLICKHOUSE_STORAGE_POLICY: raw tables keep their parts on this (S3) policy; empty: local disk",
    )

    def layout(self) -> TableLayout:
        return TableLayout(
            cluster=self.setting("cluster").strip(), storage_policy=self.setting("storage_policy").strip()
        )

    @contextmanager
    def open(self, owner: str) -> Iterator[Warehouse]:
        """The open warehouse; `owner` says who holds it (shown to anyone else who tries to open it)."""
        with open_warehouse(
            self.setting("url") or None, resolve_data_dir(self.data_dir), owner, self.layout()
        ) as warehouse:
            yield warehouse

    def chdb_path(self) -> str | None:
        """The embedded warehouse folder, or None for a server (dbt takes the same lock with it)."""
        return parse_warehouse_url(self.setting("url") or None, resolve_data_dir(self.data_dir)).chdb_path

    def describe(self) -> str:
        """Where the warehouse is, without the password (for logs and metadata)."""
        return str(parse_warehouse_url(self.setting("url") or None, resolve_data_dir(self.data_dir)))
