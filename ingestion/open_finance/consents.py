"""Consents API v3: create, read, and decide whether a consent can be used right now.

`check_consent` turns every unusable state into a `ConsentError` naming the institution, the consent and what
the user must do; it is called before a pull and again when a data call answers 401/403, and never retries.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from ingestion.open_finance.errors import ConsentError
from ingestion.open_finance.transport import FapiSession

ENDPOINT_CREATE = "consents/v3/consents"
ENDPOINT_READ = "consents/v3/consents/{consentId}"

_REJECTION_TEXT = {
    "CONSENT_EXPIRED": "expired before it was authorised, or its term ended",
    "CONSENT_MAX_DATE_REACHED": "reached its expiration date",
    "CUSTOMER_MANUALLY_REJECTED": "was rejected by the account holder",
    "CUSTOMER_MANUALLY_REVOKED": "was revoked by the account holder",
    "CONSENT_TECHNICAL_ISSUE": "was rejected by the institution for a technical issue",
    "INTERNAL_SECURITY_REASON": "was rejected by the institution for a security reason",
}


@dataclass(frozen=True)
class Consent:
    consent_id: str
    status: str  # AUTHORISED, AWAITING_AUTHORISATION, REJECTED
    permissions: tuple[str, ...]
    creation: datetime | None
    status_update: datetime | None
    expiration: datetime | None  # None = no fixed term
    rejected_by: str | None = None
    rejection_code: str | None = None


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_consent(body: dict) -> Consent:
    data = body["data"]
    rejection = data.get("rejection") or {}
    return Consent(
        consent_id=str(data["consentId"]),
        status=str(data["status"]),
        permissions=tuple(data.get("permissions") or ()),
        creation=_when(data.get("creationDateTime")),
        status_update=_when(data.get("statusUpdateDateTime")),
        expiration=_when(data.get("expirationDateTime")),
        rejected_by=rejection.get("rejectedBy"),
        rejection_code=(rejection.get("reason") or {}).get("code"),
    )


def _new_consent_action(institution: str, permissions: Iterable[str]) -> str:
    return (
        f"Create a new consent at {institution} with permissions {', '.join(sorted(permissions))}: run "
        f"`importau open-finance connect {institution}` (the account holder authorises it at the bank), or "
        f"set its id as consent_id of institution {institution!r} and give the new authorization code "
        f"(OPEN_FINANCE_{institution.upper()}_AUTHORIZATION_CODE)."
    )


def check_consent(institution: str, consent: Consent, required: Iterable[str], now: datetime | None = None) -> None:
    """Raise `ConsentError` unless the consent is AUTHORISED, unexpired and grants every required permission."""
    now = now or datetime.now(UTC)
    required = tuple(required)
    action = _new_consent_action(institution, required)
    if consent.status == "REJECTED":
        reason = _REJECTION_TEXT.get(consent.rejection_code or "", "was rejected")
        by = f" (rejected by {consent.rejected_by}, code {consent.rejection_code})" if consent.rejected_by else ""
        raise ConsentError(institution, consent.consent_id, f"the consent {reason}{by}", action)
    if consent.status == "AWAITING_AUTHORISATION":
        raise ConsentError(
            institution,
            consent.consent_id,
            "the consent is still awaiting authorisation",
            f"The account holder must approve it in {institution}'s channels within 60 minutes of its creation "
            f"(after that the institution rejects it). {action}",
        )
    if consent.status != "AUTHORISED":
        raise ConsentError(institution, consent.consent_id, f"unknown consent status {consent.status!r}", action)
    if consent.expiration is not None and consent.expiration <= now:
        raise ConsentError(
            institution,
            consent.consent_id,
            f"the consent expired at {consent.expiration:%Y-%m-%dT%H:%M:%SZ}",
            action,
        )
    missing = sorted(set(required) - set(consent.permissions))
    if missing:
        raise ConsentError(
            institution,
            consent.consent_id,
            f"the consent lacks permission(s) {', '.join(missing)}",
            action,
        )


class ConsentsApi:
    """Consents v3 over a session (client_credentials token, scope `consents`)."""

    def __init__(self, session: FapiSession):
        self.session = session
        self.base = session.institution.url("consents")

    def create(
        self,
        permissions: Iterable[str],
        logged_user_cpf: str,
        business_cnpj: str | None = None,
        expiration: datetime | None = None,
    ) -> Consent:
        """POST /consents; the answer is AWAITING_AUTHORISATION until the user approves it at the bank."""
        data: dict = {
            "loggedUser": {"document": {"identification": logged_user_cpf, "rel": "CPF"}},
            "permissions": list(dict.fromkeys(permissions)),
        }
        if business_cnpj:
            data["businessEntity"] = {"document": {"identification": business_cnpj, "rel": "CNPJ"}}
        if expiration is not None:
            data["expirationDateTime"] = expiration.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        response = self.session.request(
            "POST",
            f"{self.base}/consents",
            endpoint=ENDPOINT_CREATE,
            token="consent",
            describe="create consent",
            json_body={"data": data},
            expected=(201,),
        )
        return parse_consent(response.body)

    def read(self, consent_id: str) -> Consent:
        response = self.session.request(
            "GET",
            f"{self.base}/consents/{consent_id}",
            endpoint=ENDPOINT_READ,
            token="consent",
            describe=f"read consent {consent_id}",
        )
        return parse_consent(response.body)

    def verify(self, consent_id: str, required: Iterable[str], now: datetime | None = None) -> Consent:
        """Read the consent and `check_consent` it; returns it when usable."""
        consent = self.read(consent_id)
        check_consent(self.session.institution.name, consent, required, now)
        return consent
