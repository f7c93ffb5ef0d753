"""Every error the Open Finance client raises, each saying what failed and, where a person must act, what to do.

Messages never hold a token, a client assertion, a key or a certificate: only institution names, consent ids,
endpoint templates, HTTP statuses, OAuth error codes and the bank's own error codes and titles.
"""

from ingestion.common.quarantine import QuarantineRecord, SourcePayloadError


class OpenFinanceError(RuntimeError):
    """Base class of the client's errors."""


class ConsentError(OpenFinanceError):
    """The consent cannot be used: expired, revoked, rejected, not yet authorised, or missing a permission.

    Never retried: the run fails at once and the message tells the user what to do at the institution.
    """

    def __init__(self, institution: str, consent_id: str, problem: str, action: str):
        self.institution, self.consent_id, self.problem, self.action = (
            institution,
            consent_id,
            problem,
            action,
        )
        super().__init__(f"Open Finance institution {institution!r}, consent {consent_id}: {problem}. {action}")


class AuthError(OpenFinanceError):
    """The token endpoint refused the company's credentials (client id, signing key or certificate)."""

    def __init__(self, institution: str, token_url: str, grant: str, status: int | None, error: str, action: str):
        self.institution, self.token_url, self.grant, self.status, self.error = (
            institution,
            token_url,
            grant,
            status,
            error,
        )
        answer = f"HTTP {status}" if status is not None else "no HTTP response"
        super().__init__(
            f"Open Finance institution {institution!r}: token endpoint {token_url} refused the {grant} grant "
            f"({answer}, {error}). {action}"
        )


class CallBudgetExceeded(OpenFinanceError):
    """The configured monthly call budget of one endpoint at one institution is used up."""

    def __init__(self, institution: str, endpoint: str, budget: int, month: str, used: int):
        self.institution, self.endpoint, self.budget, self.month, self.used = (
            institution,
            endpoint,
            budget,
            month,
            used,
        )
        super().__init__(
            f"Open Finance institution {institution!r}: monthly call budget for {endpoint} is used up "
            f"({used} of {budget} calls in {month}). No call was made. Wait for next month, or raise the budget "
            f"for this endpoint in the institution's `monthly_call_budget` if the institution's own limit allows."
        )


class OpenFinanceHTTPError(OpenFinanceError):
    """The institution answered with an error status (after retries, where retrying made sense)."""

    def __init__(
        self,
        institution: str,
        request: str,
        status: int | None,
        detail: str,
        interaction_id: str | None = None,
        attempts: int | None = None,
    ):
        self.institution, self.request, self.status, self.detail = institution, request, status, detail
        self.interaction_id, self.attempts = interaction_id, attempts
        answer = f"HTTP {status}" if status is not None else "no HTTP response"
        tries = "" if not attempts else f" after {attempts} attempt" + ("" if attempts == 1 else "s")
        ref = f" (x-fapi-interaction-id {interaction_id})" if interaction_id else ""
        super().__init__(f"Open Finance institution {institution!r}: {request} failed{tries}: {answer}{ref}: {detail}")


class InteractionIdMismatch(OpenFinanceError):
    """The response echoed a different x-fapi-interaction-id: it may answer another request, so it is not used."""


class ResourcesNotReady(OpenFinanceError):
    """GET /resources answered 202: the institution is still preparing the consent's resource list."""


class OpenFinancePayloadError(SourcePayloadError):
    """A 200 body that is not a complete Open Finance page (cut off, not JSON, no `data`, fewer records than
    `meta.totalRecords`). The partition fails before anything is written; the body is quarantined."""


__all__ = [
    "AuthError",
    "CallBudgetExceeded",
    "ConsentError",
    "InteractionIdMismatch",
    "OpenFinanceError",
    "OpenFinanceHTTPError",
    "OpenFinancePayloadError",
    "QuarantineRecord",
    "ResourcesNotReady",
]
