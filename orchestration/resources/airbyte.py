"""The company's Airbyte connection for Open Finance (Airbyte-managed mode); every value from the environment."""

import dagster as dg
from pydantic import Field

from ingestion.open_finance.airbyte import AirbyteSync


class AirbyteResource(dg.ConfigurableResource):
    server_url: str = ""  # e.g. https://airbyte.example.com/api/public/v1
    connection_id: str = ""
    client_id: str = ""
    client_secret: str = Field(default="", repr=False)
    api_token: str = Field(default="", repr=False)
    institution: str = "airbyte"  # the institution name the landed rows carry
    timeout_seconds: float = 3600.0
    poll_interval_seconds: float = 15.0

    def configured(self) -> bool:
        return bool(self.server_url and self.connection_id)

    def sync(self) -> AirbyteSync:
        return AirbyteSync(
            self.server_url,
            self.connection_id,
            client_id=self.client_id or None,
            client_secret=self.client_secret or None,
            bearer_token=self.api_token or None,
            timeout=self.timeout_seconds,
            poll_interval=self.poll_interval_seconds,
        )
