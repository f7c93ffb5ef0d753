"""Pluggy (the aggregator path to the company's banks) as a Dagster resource.

`PLUGGY_CLIENT_SECRET` is read from the environment when a pull starts, never a config field: a field's value
would be kept in the run's resource config. A field left None is read from its variable (`ENV`) through the
settings registry when used.
"""

import os
from pathlib import Path
from typing import ClassVar

import dagster as dg

from ingestion.common.clock import sao_paulo_today
from ingestion.pluggy.client import DEFAULT_BASE_URL, ClientSettings, PluggyClient
from ingestion.pluggy.config import PluggyItem, PluggySettings, load_settings
from ingestion.pluggy.errors import PluggyConfigError
from orchestration.resources.settings import FromEnvironment, resolve_data_dir


class PluggyResource(FromEnvironment, dg.ConfigurableResource):
    ENV: ClassVar[dict[str, str]] = {
        "base_url": "PLUGGY_BASE_URL",
        "client_id": "PLUGGY_CLIENT_ID",
        "item_ids": "PLUGGY_ITEM_IDS",
        "webhook_spool_dir": "PLUGGY_WEBHOOK_SPOOL_DIR",
    }

    base_url: str | None = None
    client_id: str | None = None
    item_ids: str | None = None  # PLUGGY_ITEM_IDS (ingestion/pluggy/config.py); empty: the source is off
    webhook_spool_dir: str | None = None  # empty: $IMPORTAU_DATA_DIR/pluggy/webhooks
    data_dir: str = ""
    max_attempts: int = 5  # per request (ingestion/pluggy/client.py ClientSettings)
    retry_wait_seconds: float = 1.0  # first backoff of a 5xx/timeout, doubling up to 30 s

    def settings(self) -> PluggySettings | None:
        return load_settings(
            {
                "PLUGGY_ITEM_IDS": self.setting("item_ids"),
                "PLUGGY_CLIENT_ID": self.setting("client_id"),
                "PLUGGY_CLIENT_SECRET": os.environ.get("PLUGGY_CLIENT_SECRET", ""),
                "PLUGGY_BASE_URL": self.setting("base_url") or DEFAULT_BASE_URL,
            }
        )

    def items(self, only: list[str] | None = None) -> list[PluggyItem]:
        settings = self.settings()
        configured = list(settings.items) if settings else []
        if only:
            unknown = sorted(set(only) - {item.item_id for item in configured})
            if unknown:
                raise PluggyConfigError(f"item(s) {', '.join(unknown)} are not in PLUGGY_ITEM_IDS")
            configured = [item for item in configured if item.item_id in only]
        return configured

    def client(self) -> PluggyClient:
        settings = self.settings()
        if settings is None:
            raise PluggyConfigError("PLUGGY_ITEM_IDS is empty: no Pluggy item to pull")
        bounds = ClientSettings(
            max_attempts=self.max_attempts,
            wait_initial=self.retry_wait_seconds,
            wait_max=max(self.retry_wait_seconds, min(30.0, self.retry_wait_seconds * 30)),
        )
        return PluggyClient(settings.base_url, settings.client_id, settings.client_secret, bounds)

    def current_day(self):
        return sao_paulo_today()

    def spool_dir(self) -> Path:
        return Path(
            self.setting("webhook_spool_dir") or os.path.join(resolve_data_dir(self.data_dir), "pluggy", "webhooks")
        )
