"""Bounded, observed retries shared by every source client, on tenacity; and a retrying HTTP GET on top of them.

`call_with_retry(attempt, ...)` calls `attempt(1)`, `attempt(2)`, ... until one returns. An attempt raises
`TransientError` for a failure worth another try (an HTTP 429 or 5xx, a timeout, a cut-off body: which ones is the
client's call, as each source has its own rules); anything else it raises ends the call at once. Waits between
attempts grow exponentially (with random jitter unless `jitter=False`) up to `wait_max`; a `Retry-After` the
source sent (`retry_after_seconds`: seconds or an HTTP date) raises the wait, never above `max_retry_after`: every
wait has a bound, and so has the whole call (`max_attempts`). After the last attempt the last `TransientError`
reaches the caller with `attempts` set, and the caller turns it into its own error naming the source, the record
and the reason (`SourceHTTPError`, `PluggyHTTPError`, `PortalError`).

`get_with_retry` is that loop around one GET (the BCB client's): HTTP 429 and 5xx, connection errors and timeouts
and bodies a caller's `check` rejects (an HTML error page where JSON was expected, a cut-off body) are retried; any
other 4xx is final at once: asking again will not help. After the last attempt the caller gets `SourceHTTPError`,
whose message names the source, what was asked for (e.g. "series 1 window 2024-01-01..2024-01-31") and the HTTP
status.

Every retry is observed: logged at WARNING by this module's logger (what was asked, which attempt, why, how long
until the next one) and counted in a `RetryCounter` by reason, which the assets put in their metadata. Open
Finance's FapiSession, whose loop also charges a call budget, uses the same `RetryCounter` and `retry_observer`.
"""

import email.utils
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetrySettings:
    """How hard to try. Tests use tiny waits (e.g. wait_initial=0.001, wait_max=0.01)."""

    max_attempts: int = 5  # the first attempt included
    wait_initial: float = 1.0  # the first backoff; it doubles each attempt
    wait_max: float = 30.0  # the longest backoff
    max_retry_after: float | None = None  # the longest Retry-After waited (a longer one waits this); None: wait_max
    jitter: bool = True  # add up to `wait_initial` at random, so parallel clients do not retry in step

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.wait_initial < 0 or self.wait_max < 0 or (self.max_retry_after or 0) < 0:
            raise ValueError("waits must not be negative")

    @property
    def retry_after_cap(self) -> float:
        return self.wait_max if self.max_retry_after is None else self.max_retry_after


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


class TransientError(Exception):
    """Raised by one attempt of `call_with_retry`: a failure that may pass if the source is asked again.

    `kind` is how the retry is counted and logged ("HTTP 503", "bad body", "ReadTimeout"); `detail` says more
    (the source's message, the transport error); `status` is the HTTP status when an answer came, `response` that
    answer, and `retry_after` the wait in seconds the source asked for, if it did. After the last attempt the error
    reaches the caller with `attempts` set.
    """

    def __init__(
        self,
        kind: str,
        detail: str = "",
        *,
        status: int | None = None,
        retry_after: float | None = None,
        response: httpx.Response | None = None,
    ):
        super().__init__(detail or kind)
        self.kind, self.detail, self.status, self.retry_after, self.response = (
            kind,
            detail,
            status,
            retry_after,
            response,
        )
        self.attempts = 0

    @property
    def summary(self) -> str:
        """`kind: detail`, or the kind alone: the reason for an error message."""
        return f"{self.kind}: {self.detail}" if self.detail and self.detail != self.kind else self.kind


class RetryableBodyError(TransientError):
    """Raised by a `check` callback: the status was fine but the body is not what the source serves."""

    def __init__(self, reason: str, body: str):
        super().__init__("bad body", reason)
        self.reason, self.body = reason, body


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


def is_retryable_status(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


def body_excerpt(response: httpx.Response, limit: int = 300) -> str:
    """The start of a body, on one line, for error messages."""
    text = " ".join(response.text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The wait a `Retry-After` header asks for, in seconds (never negative): a number of seconds or an HTTP date
    (RFC 9110, 10.2.3). None when there is none or it cannot be read: the backoff applies then."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        when = when if when.tzinfo is not None else when.replace(tzinfo=UTC)  # HTTP dates are GMT
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


class _Wait:
    """Exponential backoff (jitter optional) capped at `wait_max`; a Retry-After raises it, up to its own cap."""

    def __init__(self, settings: RetrySettings):
        self._backoff = wait_exponential_jitter(
            multiplier=settings.wait_initial,
            jitter=settings.wait_initial if settings.jitter else 0,
            max=settings.wait_max,
        )
        self._retry_after_cap = settings.retry_after_cap

    def __call__(self, state: RetryCallState) -> float:
        wait = self._backoff(state)
        error = state.outcome.exception() if state.outcome else None
        asked = getattr(error, "retry_after", None)
        if asked is not None:
            wait = max(wait, min(asked, self._retry_after_cap))
        return wait


def _kind(error: BaseException) -> str:
    return error.kind if isinstance(error, TransientError) else type(error).__name__


def call_with_retry(
    attempt: Callable[[int], T],
    *,
    source: str,
    request: str,
    settings: RetrySettings,
    sleep: Callable[[float], None] = time.sleep,
    retries: RetryCounter | None = None,
) -> T:
    """`attempt(n)` for n = 1, 2, ... until it returns, retrying while it raises `TransientError` (module docstring).

    `source` and `request` name what is asked for in the retry log lines ("Pluggy", "GET /accounts (item 42)").
    """
    attempts = 0

    def counted() -> T:
        nonlocal attempts
        attempts += 1
        return attempt(attempts)

    retrying = Retrying(
        stop=stop_after_attempt(settings.max_attempts),
        wait=_Wait(settings),
        retry=retry_if_exception_type(TransientError),
        before_sleep=retry_observer(source, request, settings.max_attempts, _kind, retries),
        reraise=True,
        sleep=sleep,
    )
    try:
        return retrying(counted)
    except TransientError as error:
        error.attempts = attempts
        raise


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

    def attempt(number: int) -> httpx.Response:
        try:
            response = client.get(url)
        except httpx.TransportError as error:  # ReadTimeout, ConnectError, RemoteProtocolError...
            raise TransientError(type(error).__name__, str(error)) from error
        status = response.status_code
        if status in expected_statuses:
            if check is not None:
                check(response)
            return response
        if is_retryable_status(status):
            raise TransientError(
                f"HTTP {status}", status=status, retry_after=retry_after_seconds(response), response=response
            )
        raise SourceHTTPError(source, request, status, error_detail(response), number)

    try:
        return call_with_retry(attempt, source=source, request=request, settings=settings, sleep=sleep, retries=retries)
    except RetryableBodyError:
        raise
    except TransientError as error:
        if error.response is not None:
            detail = error_detail(error.response)
            raise SourceHTTPError(source, request, error.status, detail, error.attempts) from None
        raise SourceHTTPError(source, request, None, error.summary, error.attempts) from error.__cause__
