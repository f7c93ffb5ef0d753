"""A retrying HTTP GET on httpx + tenacity, shared by every source client.

Retried: HTTP 429 and 5xx, connection errors and timeouts, and bodies a caller's `check` rejects (an HTML
error page where JSON was expected, a cut-off body). Waits grow exponentially with random jitter, capped at
`wait_max`; a 429 `Retry-After` is honoured up to that cap. Any other 4xx is final at once: asking again
will not help. After the last attempt the caller gets `SourceHTTPError`, whose message names the source,
what was asked for (e.g. "series 1 window 2024-01-01..2024-01-31") and the HTTP status.

Every retry is observed: logged at WARNING by this module's logger (what was asked, which attempt, why, how long
until the next one) and counted in a `RetryCounter` by reason, which the assets put in their metadata. Other
clients with their own retry loop (Open Finance's FapiSession) use the same `RetryCounter` and `retry_observer`.
"""

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetrySettings:
    """How hard to try. Tests use tiny waits (e.g. wait_initial=0.001, wait_max=0.01)."""

    max_attempts: int = 5
    wait_initial: float = 1.0
    wait_max: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.wait_initial < 0 or self.wait_max < 0:
            raise ValueError("waits must not be negative")


class SourceHTTPError(RuntimeError):
    """The source gave no usable answer: a final HTTP error, or no response at all after every attempt."""

    def __init__(self, source: str, request: str, status: int | None, detail: str, attempts: int | None = None):
        self.source, self.request, self.status, self.detail, self.attempts = (
            source,
            request,
            status,
            detail,
            attempts,
        )
        answer = f"HTTP {status}" if status is not None else "no HTTP response"
        tries = "" if attempts is None else f" after {attempts} attempt" + ("" if attempts == 1 else "s")
        message = f"{source}: {request} failed{tries}: {answer}"
        super().__init__(f"{message}: {detail}" if detail else message)


class RetryableBodyError(Exception):
    """Raised by a `check` callback: the status was fine but the body is not what the source serves."""

    def __init__(self, reason: str, body: str):
        super().__init__(reason)
        self.reason, self.body = reason, body
        self.attempts = 0


class _RetryableStatus(Exception):
    def __init__(self, response: httpx.Response):
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


class RetryCounter:
    """Retries of transient failures by reason ("HTTP 429", "HTTP 503", "bad body", "ReadTimeout"); thread-safe,
    so one counter can follow a source's parallel calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, reason: str) -> None:
        with self._lock:
            self._counts[reason] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def by_reason(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))

    def __str__(self) -> str:
        reasons = ", ".join(f"{reason} x{count}" for reason, count in self.by_reason().items())
        return f"{self.total} retries" + (f" ({reasons})" if reasons else "")


def retry_observer(
    source: str,
    request: str,
    max_attempts: int,
    reason_of: Callable[[BaseException], str],
    counter: RetryCounter | None = None,
) -> Callable[[RetryCallState], None]:
    """A tenacity `before_sleep`: log the failed attempt at WARNING and count it (`reason_of` names its cause)."""

    def observe(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        reason = reason_of(error) if error is not None else "no result"
        if counter is not None:
            counter.add(reason)
        detail = str(error) if error is not None else ""
        why = reason if detail in ("", reason) else f"{reason}: {detail}"
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "%s: %s: attempt %d of %d failed (%s); retrying in %.1f s",
            source,
            request,
            state.attempt_number,
            max_attempts,
            why,
            wait,
        )

    return observe


def _reason(error: BaseException) -> str:
    if isinstance(error, _RetryableStatus):
        return f"HTTP {error.response.status_code}"
    if isinstance(error, RetryableBodyError):
        return "bad body"
    return type(error).__name__  # httpx.ReadTimeout, ConnectError, RemoteProtocolError...


def is_retryable_status(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


def body_excerpt(response: httpx.Response, limit: int = 300) -> str:
    """The start of a body, on one line, for error messages."""
    text = " ".join(response.text.split())
    return text if len(text) <= limit else text[:limit] + "..."


class _Wait:
    """Exponential backoff with jitter; a 429 Retry-After (seconds) raises the wait, never above the cap."""

    def __init__(self, settings: RetrySettings):
        self._backoff = wait_exponential_jitter(
            multiplier=settings.wait_initial,
            jitter=settings.wait_initial,
            max=settings.wait_max,
        )
        self._cap = settings.wait_max

    def __call__(self, state: RetryCallState) -> float:
        wait = self._backoff(state)
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _RetryableStatus):
            retry_after = error.response.headers.get("Retry-After", "")
            if retry_after.strip().isdigit():
                wait = max(wait, min(float(retry_after), self._cap))
        return wait


def _should_retry(error: BaseException) -> bool:
    return isinstance(error, _RetryableStatus | RetryableBodyError | httpx.TransportError)


def get_with_retry(
    client: httpx.Client,
    url: str,
    *,
    source: str,
    request: str,
    settings: RetrySettings,
    expected_statuses: Collection[int] = (200,),
    check: Callable[[httpx.Response], None] | None = None,
    error_detail: Callable[[httpx.Response], str] = body_excerpt,
    sleep: Callable[[float], None] = time.sleep,
    retries: RetryCounter | None = None,
) -> httpx.Response:
    """GET `url` until it answers one of `expected_statuses` (and passes `check`), retrying what is transient.

    `request` describes what was asked for, in words ("SGS series 1 window 2024-01-01..2024-01-31"); it goes
    into every error. `check` runs on expected answers and raises `RetryableBodyError` for a body worth asking
    for again; after the last attempt that `RetryableBodyError` propagates with `.attempts` set, so the caller
    can quarantine the body. Transient failures end in `SourceHTTPError`, as does any other status at once.
    Each retry is logged at WARNING and added to `retries`.
    """
    attempts = 0

    def attempt() -> httpx.Response:
        nonlocal attempts
        attempts += 1
        response = client.get(url)
        if response.status_code in expected_statuses:
            if check is not None:
                check(response)
            return response
        if is_retryable_status(response.status_code):
            raise _RetryableStatus(response)
        raise SourceHTTPError(source, request, response.status_code, error_detail(response), attempts)

    retrying = Retrying(
        stop=stop_after_attempt(settings.max_attempts),
        wait=_Wait(settings),
        retry=retry_if_exception(_should_retry),
        before_sleep=retry_observer(source, request, settings.max_attempts, _reason, retries),
        reraise=True,
        sleep=sleep,
    )
    try:
        return retrying(attempt)
    except _RetryableStatus as error:
        status = error.response.status_code
        raise SourceHTTPError(source, request, status, error_detail(error.response), attempts) from None
    except httpx.TransportError as error:
        detail = f"{type(error).__name__}: {error}"
        raise SourceHTTPError(source, request, None, detail, attempts) from error
    except RetryableBodyError as error:
        error.attempts = attempts
        raise
