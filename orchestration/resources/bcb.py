"""The Banco Central API client as a Dagster resource: base URLs and what to pull are configuration."""

import dagster as dg

from ingestion.bcb.client import BcbClient
from ingestion.bcb.series import DEFAULT_SGS_SERIES
from ingestion.common.retry import RetryCounter


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class BcbApiResource(dg.ConfigurableResource):
    """Where the BCB APIs live (live BCB by default, the local replay server in the demo and tests)."""

    sgs_base_url: str = "https://api.bcb.gov.br/dados/serie"
    olinda_base_url: str = "https://olinda.bcb.gov.br/olinda/servico"
    closing_file_base_url: str = "https://www4.bcb.gov.br/Download/fechamento"
    sgs_series: str = ",".join(str(code) for code in DEFAULT_SGS_SERIES)
    ptax_currencies: str = "USD,EUR,GBP,JPY,CHF,CAD"
    closing_file_currencies: str = "CNY"
    timeout_seconds: float = 30.0
    max_attempts: int = 5

    def get_client(self, retries: RetryCounter | None = None) -> BcbClient:
        """A new client (close it after use); `retries` counts its retries (its own counter when None)."""
        return BcbClient(
            sgs_base_url=self.sgs_base_url,
            olinda_base_url=self.olinda_base_url,
            closing_base_url=self.closing_file_base_url,
            timeout=self.timeout_seconds,
            max_attempts=self.max_attempts,
            retries=retries,
        )

    def series_codes(self) -> list[int]:
        return [int(code) for code in _csv(self.sgs_series)]

    def ptax_currency_list(self) -> list[str]:
        return [code.upper() for code in _csv(self.ptax_currencies)]

    def closing_currency_list(self) -> list[str]:
        return [code.upper() for code in _csv(self.closing_file_currencies)]
