"""One FAPI call, done right: budget charged, fresh interaction id, bearer token, retries with backoff.

`FapiSession.request` is the only place the client touches the network for the data and consents APIs:

* the monthly call budget is charged before every attempt (`CallBudgetExceeded` stops the run before the
  institution is asked); follow-up pages that carry the bank's `pagination-key` are not counted by default,
  as the specs say such calls do not count against the endpoint's limit;
* every attempt sends a fresh `x-fapi-interaction-id` (uuid4) and checks the echo: a different id fails the
  call (the answer may belong to another request), a missing echo is logged (pitfall: not all banks echo);
* 429 and 529 (no Retry-After exists in Open Finance), 500/502/503/504, timeouts and connection errors are
  retried with exponential backoff and jitter (tenacity), as are 200 bodies that are not JSON; a 401 on a data
  call is answered once with a new token; everything else fails at once with the bank's error code and title;
* every retry is logged at WARNING and counted by reason in `FapiSession.retries` (ingestion/common/retry.py).
"""

import json
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from ingestion.common.quarantine import QuarantineRecord
from ingestion.common.retry import RetryCounter, retry_observer
from ingestion.open_finance.auth import TokenManager
from ingestion.open_finance.budget import BudgetSession, CallBudget
from ingestion.open_finance.config import Institution
from ingestion.open_finance.errors import InteractionIdMismatch, OpenFinanceHTTPError, OpenFinancePayloadError

log = logging.getLogger(__name__)

SOURCE = "open_finance"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 529})
INTERACTION_HEADER = "x-fapi-interaction-id"


@dataclass(frozen=True)
class CallSettings:
    """How hard to try and how big pages are. Tests use tiny waits (wait_initial=0.001, wait_max=0.01)."""

    max_attempts: int = 5
    wait_initial: float = 1.0
    wait_max: float = 30.0
    timeout: float = 30.0
    page_size: int = 1000
    count_paginated_calls: bool = False

    def longest_call(self) -> float:
        """An upper bound on one `FapiSession.request`: every attempt timing out twice (a 401 asks once more,
        a token request may precede it) plus the longest backoff between attempts."""
        return self.max_attempts * (3 * self.timeout + self.wait_max)


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any
    url: str
    interaction_id: str


class _Retryable(Exception):
    def __init__(self, status: int | None, detail: str, body: str = "", interaction_id: str | None = None):
        super().__init__(detail)
        self.status, self.detail, self.body, self.interaction_id = status, detail, body, interaction_id


def _reason(error: BaseException) -> str:
    """How a retry is counted: "HTTP 429", "bad body" (a 200 that is not complete JSON), "ReadTimeout"..."""
    if isinstance(error, _Retryable):
        return "bad body" if error.body else f"HTTP {error.status}"
    return type(error).__name__


def error_detail(response: httpx.Response, limit: int = 300) -> str:
    """The bank's error envelope as `CODE: title (detail)`, else the start of the body on one line."""
    try:
        errors = response.json().get("errors") or []
        first = errors[0]
        text = f"{first.get('code')}: {first.get('title')} ({first.get('detail')})"
    except (ValueError, AttributeError, IndexError, KeyError, TypeError):
        text = " ".join(response.text.split())
    return text if len(text) <= limit else text[:limit] + "..."


class FapiSession:
    """Calls one institution's APIs over its mutual-TLS client; safe to share between threads.

    `budget` is a `CallBudget` (one locked file write per call) or, as `pull_institution` passes it, a
    `BudgetSession` of one (charged in memory against blocks reserved from the file).
    """

    def __init__(
        self,
        institution: Institution,
        http: httpx.Client,
        tokens: TokenManager,
        budget: CallBudget | BudgetSession,
        settings: CallSettings | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.institution, self.http, self.tokens, self.budget = institution, http, tokens, budget
        self.settings, self.sleep = settings or CallSettings(), sleep
        self.calls: Counter[str] = Counter()  # attempts per endpoint template in this session
        self.retries = RetryCounter()  # retries of transient failures in this session, by reason
        self.missing_echoes = 0
        self._counts_lock = threading.Lock()

    def request(
        self,
        method: str,
        url: str,
        *,
        endpoint: str,
        token: Literal["data", "consent"],
        describe: str,
        params: dict | None = None,
        json_body: dict | None = None,
        expected: Collection[int] = (200,),
    ) -> ApiResponse:
        """Send until an expected status with a JSON body (or no body) arrives; raise what stays broken."""
        attempts = 0
        free = (not self.settings.count_paginated_calls) and "pagination-key=" in url

        def attempt() -> ApiResponse:
            nonlocal attempts
            attempts += 1
            response, interaction_id = self._send(method, url, endpoint, token, params, json_body, free)
            if response.status_code == 401 and token == "data":
                self.tokens.drop_data_token()  # revoked or expired early: one new token, then it counts
                response, interaction_id = self._send(method, url, endpoint, token, params, json_body, free)
            status = response.status_code
            if status in expected:
                return ApiResponse(status, self._json(response, interaction_id), str(response.url), interaction_id)
            if status in RETRY_STATUSES:
                raise _Retryable(status, error_detail(response), interaction_id=interaction_id)
            raise OpenFinanceHTTPError(
                self.institution.name, describe, status, error_detail(response), interaction_id, attempts
            )

        retrying = Retrying(
            stop=stop_after_attempt(self.settings.max_attempts),
            wait=wait_exponential_jitter(
                multiplier=self.settings.wait_initial,
                max=self.settings.wait_max,
                jitter=self.settings.wait_initial,
            ),
            retry=retry_if_exception_type((_Retryable, httpx.TransportError)),
            before_sleep=retry_observer(
                f"open finance {self.institution.name}", describe, self.settings.max_attempts, _reason, self.retries
            ),
            reraise=True,
            sleep=self.sleep,
        )
        try:
            return retrying(attempt)
        except _Retryable as error:
            if error.body:
                record = QuarantineRecord(
                    SOURCE, endpoint, f"{self.institution.name} {describe}", error.detail, error.body
                )
                raise OpenFinancePayloadError(
                    f"Open Finance institution {self.institution.name!r}: {describe}: {error.detail} "
                    f"(still so after {attempts} attempts); body quarantined, nothing stored",
                    [record],
                ) from None
            raise OpenFinanceHTTPError(
                self.institution.name, describe, error.status, error.detail, error.interaction_id, attempts
            ) from None
        except httpx.TransportError as error:
            raise OpenFinanceHTTPError(
                self.institution.name, describe, None, f"{type(error).__name__}: {error}", None, attempts
            ) from error

    # -- one attempt -------------------------------------------------------------------------------------

    def _send(self, method, url, endpoint, token, params, json_body, free) -> tuple[httpx.Response, str]:
        if not free:
            self.budget.charge(self.institution.name, endpoint, self.institution.budget_for(endpoint))
        with self._counts_lock:
            self.calls[endpoint] += 1
        bearer = self.tokens.data_token() if token == "data" else self.tokens.consent_token()
        interaction_id = str(uuid.uuid4())
        headers = {
            "Authorization": f"Bearer {bearer}",
            INTERACTION_HEADER: interaction_id,
            "Accept": "application/json",
        }
        response = self.http.request(method, url, params=params, json=json_body, headers=headers)
        log.info(
            "open finance %s: %s %s -> HTTP %d (%s %s)",
            self.institution.name,
            method,
            endpoint,
            response.status_code,
            INTERACTION_HEADER,
            interaction_id,
        )
        self._check_echo(response, interaction_id, endpoint)
        return response, interaction_id

    def _check_echo(self, response: httpx.Response, sent: str, endpoint: str) -> None:
        echoed = response.headers.get(INTERACTION_HEADER)
        if echoed is None:
            with self._counts_lock:
                self.missing_echoes += 1
            log.warning(
                "open finance %s: %s answered without echoing %s %s",
                self.institution.name,
                endpoint,
                INTERACTION_HEADER,
                sent,
            )
        elif echoed.strip().lower() != sent:
            raise InteractionIdMismatch(
                f"Open Finance institution {self.institution.name!r}: {endpoint} echoed {INTERACTION_HEADER} "
                f"{echoed!r} for a request sent with {sent}; the answer is not used"
            )

    @staticmethod
    def _json(response: httpx.Response, interaction_id: str) -> Any:
        if not response.content:
            return None
        try:
            body = json.loads(response.content)
        except (ValueError, UnicodeDecodeError) as error:
            reason = f"HTTP {response.status_code} body is not complete JSON ({type(error).__name__}: {error})"
            raise _Retryable(response.status_code, reason, response.text, interaction_id) from None
        if not isinstance(body, dict):
            raise _Retryable(response.status_code, "body is not a JSON object", response.text, interaction_id)
        return body
