"""The Banco Central API client as a Dagster resource: base URLs and what to pull are configuration."""

from typing import ClassVar

import dagster as dg

from ingestion.bcb.client import BcbClient
from ingestion.bcb.series import DEFAULT_SGS_SERIES
from ingestion.common.retry import RetryCounter
from orchestration.resources.settings import FromEnvironment


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class BcbApiResource(FromEnvironment, dg.ConfigurableResource):
    """Where the BCB APIs live (live BCB by default, the local replay server in the demo and tests). A field left
    None is read from its variable (`ENV`, defaults in the settings registry) when used."""

    ENV: ClassVar[dict[str, str]] = {
        "sgs_base_url": "BCB_SGS_BASE_URL",
        "olinda_base_url": "BCB_OLINDA_BASE_URL",
        "closing_file_base_url": "BCB_CLOSING_FILE_BASE_URL",
        "ptax_currencies": "BCB_PTAX_CURRENCIES",
        "closing_file_currencies": "BCB_CLOSING_FILE_CURRENCIES",
    }

    sgs_base_url: str | None = None
    olinda_base_url: str | None = None
    closing_file_base_url: str | None = None
    sgs_series: str = ",".join(str(code) for code in DEFAULT_SGS_SERIES)
    ptax_currencies: str | None = None
    closing_file_currencies: str | None = None
    timeout_seconds: float = 30.0
    max_attempts: int = 5

    def get_client(self, retries: RetryCounter | None = None) -> BcbClient:
        """A new client (close it after use); `retries` counts its retries (its own counter when None)."""
        return BcbClient(
            sgs_base_url=self.setting("sgs_base_url"),
            olinda_base_url=self.setting("olinda_base_url"),
            closing_base_url=self.setting("closing_file_base_url"),
            timeout=self.timeout_seconds,
            max_attempts=self.max_attempts,
            retries=retries,
        )

    def series_codes(self) -> list[int]:
        return [int(code) for code in _csv(self.sgs_series)]

    def ptax_currency_list(self) -> list[str]:
        return [code.upper() for code in _csv(self.setting("ptax_currencies"))]

    def closing_currency_list(self) -> list[str]:
        return [code.upper() for code in _csv(self.setting("closing_file_currencies"))]
