"""Direct calls to a sandbox over mutual TLS with real tokens, for tests that look at raw answers."""

import httpx

from ingestion.open_finance.auth import TokenManager, TokenStore, http_client

INTERACTION_ID = "3f7d4c6e-9b1a-4c2f-8d5e-1a2b3c4d5e6f"


class Raw:
    """Direct calls to the sandbox with the company certificate and real tokens."""

    def __init__(self, bank, consent_id: str, code: str):
        self.bank = bank
        self.institution = bank.institution(consent_id)
        self.http = http_client(self.institution, timeout=5)
        self.tokens = TokenManager(self.institution, self.http, TokenStore(None), authorization_code=code)

    def call(self, method: str, path: str, token: str = "data", **kwargs) -> httpx.Response:
        bearer = self.tokens.data_token() if token == "data" else self.tokens.consent_token()
        headers = {"Authorization": f"Bearer {bearer}", "x-fapi-interaction-id": INTERACTION_ID}
        return self.http.request(method, self.bank.base_url + path, headers=headers, **kwargs)

    def close(self) -> None:
        self.http.close()
