"""What the sandbox institution remembers: registered clients, consents, codes, tokens, its clock, its faults.

Secrets it issues (tokens, codes) and client assertions it receives are kept in `issued_secrets` and
`received_assertions` so tests can check that none of them ever reaches the client's logs.
"""

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sandboxes.common.faults import FaultPlan
from sandboxes.open_finance_bank.data import BankData
from sandboxes.open_finance_bank.faults import new_plan


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    public_key_pem: bytes
    cert_thumbprint: str  # x5t#S256 of the transport certificate tokens are bound to


@dataclass
class ConsentRecord:
    consent_id: str
    client_id: str
    permissions: list[str]
    status: str
    created: datetime
    status_updated: datetime
    expiration: datetime | None = None
    rejected_by: str | None = None
    rejection_code: str | None = None

    def reject(self, by: str, code: str, now: datetime) -> None:
        self.status, self.rejected_by, self.rejection_code, self.status_updated = "REJECTED", by, code, now

    def usable(self, now: datetime) -> bool:
        if self.status == "AUTHORISED" and self.expiration is not None and self.expiration <= now:
            self.reject("ASPSP", "CONSENT_MAX_DATE_REACHED", now)
        return self.status == "AUTHORISED"


@dataclass(frozen=True)
class TokenRecord:
    client_id: str
    grant: str  # client_credentials or authorization_code (refresh_token issues the same kind)
    scope: str
    consent_id: str | None
    expires_at: float
    cert_thumbprint: str


@dataclass
class SandboxState:
    data: BankData
    today: date
    access_token_lifetime: int = 300
    clients: dict[str, RegisteredClient] = field(default_factory=dict)
    consents: dict[str, ConsentRecord] = field(default_factory=dict)
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (client_id, consent_id)
    tokens: dict[str, TokenRecord] = field(default_factory=dict)
    refresh_tokens: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # -> (client, consent, thumb)
    used_jtis: set[str] = field(default_factory=set)
    expire_after: dict[str, int] = field(default_factory=dict)  # consent_id -> data calls left before expiry
    renamed_ids: dict[str, str] = field(default_factory=dict)  # transactionId -> the id served instead
    faults: FaultPlan = field(default_factory=new_plan)
    issued_secrets: list[str] = field(default_factory=list)
    received_assertions: list[str] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    rejected_handshakes: int = 0
    # the authorization server (authorization.py): request_uri -> PushedRequest, code -> (PKCE challenge,
    # redirect_uri), and what the account holder does at the authorize endpoint ("approve" or "deny")
    pushed_requests: dict[str, object] = field(default_factory=dict)
    code_requests: dict[str, tuple[str, str]] = field(default_factory=dict)
    authorisation_decision: str = "approve"
    # claims the next id_token gets instead of the right ones (None drops the claim): a misbehaving bank, for tests
    id_token_faults: dict[str, object] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC).replace(microsecond=0)

    def _secret(self, prefix: str) -> str:
        value = f"{prefix}-{secrets.token_urlsafe(24)}"
        self.issued_secrets.append(value)
        return value

    # -- consents ------------------------------------------------------------------------------------------

    def new_consent(self, client_id: str, permissions: list[str], expiration: datetime | None) -> ConsentRecord:
        with self.lock:
            now = self.now()
            consent_id = f"urn:sandboxbank:{secrets.token_hex(8).upper()}"
            record = ConsentRecord(
                consent_id,
                client_id,
                list(dict.fromkeys(permissions)),
                "AWAITING_AUTHORISATION",
                now,
                now,
                expiration,
            )
            self.consents[consent_id] = record
            return record

    def authorise(self, consent_id: str) -> str:
        """The account holder approves the consent at the bank; returns the code the redirect would carry."""
        with self.lock:
            record = self.consents[consent_id]
            if record.status == "AWAITING_AUTHORISATION":
                record.status, record.status_updated = "AUTHORISED", self.now()
            code = self._secret("code")
            self.codes[code] = (record.client_id, consent_id)
            return code

    def expire(self, consent_id: str, after_calls: int = 0) -> None:
        with self.lock:
            if after_calls <= 0:
                record = self.consents[consent_id]
                record.expiration = self.now()
                record.reject("ASPSP", "CONSENT_MAX_DATE_REACHED", self.now())
            else:
                self.expire_after[consent_id] = after_calls

    def count_data_call(self, consent_id: str) -> None:
        with self.lock:
            if consent_id in self.expire_after:
                self.expire_after[consent_id] -= 1
                if self.expire_after[consent_id] <= 0:
                    del self.expire_after[consent_id]
                    self.expire(consent_id)

    # -- tokens --------------------------------------------------------------------------------------------

    def issue_token(self, client_id: str, grant: str, scope: str, consent_id: str | None, thumbprint: str) -> dict:
        with self.lock:
            token = self._secret("at")
            self.tokens[token] = TokenRecord(
                client_id, grant, scope, consent_id, time.time() + self.access_token_lifetime, thumbprint
            )
            answer = {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": self.access_token_lifetime,
                "scope": scope,
            }
            if consent_id is not None:
                refresh = self._secret("rt")
                self.refresh_tokens[refresh] = (client_id, consent_id, thumbprint)
                answer["refresh_token"] = refresh
            return answer

    def token(self, value: str) -> TokenRecord | None:
        with self.lock:
            record = self.tokens.get(value)
            if record is not None and record.expires_at <= time.time():
                return None
            return record

    def set_today(self, day: date) -> None:
        with self.lock:
            self.today = day

    def advance(self, days: int = 1) -> date:
        with self.lock:
            self.today += timedelta(days=days)
            return self.today
