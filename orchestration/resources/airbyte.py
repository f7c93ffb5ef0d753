"""The company's Airbyte connection for Open Finance (Airbyte-managed mode); every value from the environment."""

from typing import ClassVar

import dagster as dg
from pydantic import Field

from ingestion.open_finance.airbyte import AirbyteSync
from orchestration.resources.settings import FromEnvironment


class AirbyteResource(FromEnvironment, dg.ConfigurableResource):
    """A field left None is read from its variable (`ENV`) when used; the secrets thus never enter run config."""

    ENV: ClassVar[dict[str, str]] = {
        "server_url": "AIRBYTE_SERVER_URL",
        "connection_id": "AIRBYTE_OPEN_FINANCE_CONNECTION_ID",
        "client_id": "AIRBYTE_CLIENT_ID",
        "client_secret": "AIRBYTE_CLIENT_SECRET",
        "api_token": "AIRBYTE_API_TOKEN",
    }

    server_url: str | None = None  # e.g. https://airbyte.example.com/api/public/v1
    connection_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = Field(default=None, repr=False)
    api_token: str | None = Field(default=None, repr=False)
    institution: str = "airbyte"  # the institution name the landed rows carry
    timeout_seconds: float = 3600.0
    poll_interval_seconds: float = 15.0

    def configured(self) -> bool:
        return bool(self.setting("server_url") and self.setting("connection_id"))

    def sync(self) -> AirbyteSync:
        return AirbyteSync(
            self.setting("server_url"),
            self.setting("connection_id"),
            client_id=self.setting("client_id") or None,
            client_secret=self.setting("client_secret") or None,
            bearer_token=self.setting("api_token") or None,
            timeout=self.timeout_seconds,
            poll_interval=self.poll_interval_seconds,
        )
