"""The shared retry loop (ingestion/common/retry.py) that the BCB, Pluggy and Portal Único clients stand on: how
long it waits (every wait bounded, Retry-After honoured up to its cap), how many times it asks, and what reaches
the caller. The clients' own rules (which statuses retry, their error messages) are tested with each client against
its stand-in; here the attempts are plain functions, and `sleep` records the waits instead of sleeping."""

import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from ingestion.common.retry import (
    RetryCounter,
    RetrySettings,
    TransientError,
    call_with_retry,
    retry_after_seconds,
)


def failing(times: int, error: TransientError, then: str = "answer"):
    """An attempt that raises `error` the first `times` times, then returns `then`; it records the numbers it got."""
    numbers = []

    def attempt(number: int) -> str:
        numbers.append(number)
        if len(numbers) <= times:
            raise error
        return then

    attempt.numbers = numbers
    return attempt


def run(attempt, settings: RetrySettings, sleeps: list, retries: RetryCounter | None = None):
    return call_with_retry(
        attempt, source="test", request="thing 1", settings=settings, sleep=sleeps.append, retries=retries
    )


def test_without_jitter_the_waits_double_up_to_the_cap():
    sleeps = []
    settings = RetrySettings(max_attempts=5, wait_initial=1.0, wait_max=3.0, jitter=False)
    assert run(failing(4, TransientError("HTTP 503")), settings, sleeps) == "answer"
    assert sleeps == [1.0, 2.0, 3.0, 3.0]


def test_a_retry_after_raises_the_wait_but_never_above_its_bound():
    sleeps = []
    settings = RetrySettings(max_attempts=4, wait_initial=0.001, wait_max=0.01, max_retry_after=60.0, jitter=False)
    for asked in (5.0, 3600.0, 0.0):
        attempt = failing(1, TransientError("HTTP 429", retry_after=asked))
        run(attempt, settings, sleeps)
    assert sleeps == [5.0, 60.0, 0.001]  # a longer Retry-After waits the bound; a zero one the backoff


def test_without_its_own_bound_a_retry_after_is_capped_at_wait_max():
    sleeps = []
    run(failing(1, TransientError("HTTP 429", retry_after=90.0)), RetrySettings(wait_max=30.0), sleeps)
    assert sleeps == [30.0]


def test_the_last_transient_error_reaches_the_caller_with_its_attempts_and_each_retry_is_counted(caplog):
    sleeps, retries = [], RetryCounter()
    attempt = failing(10, TransientError("HTTP 500", "Internal server error", status=500))
    with caplog.at_level(logging.WARNING, logger="ingestion.common.retry"):
        with pytest.raises(TransientError) as caught:
            run(attempt, RetrySettings(max_attempts=3, wait_initial=0.001, wait_max=0.01), sleeps, retries)
    assert (caught.value.attempts, caught.value.status, caught.value.summary) == (
        3,
        500,
        "HTTP 500: Internal server error",
    )
    assert attempt.numbers == [1, 2, 3] and len(sleeps) == 2
    assert retries.by_reason() == {"HTTP 500": 2}
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2 and lines[0].startswith(
        "test: thing 1: attempt 1 of 3 failed (HTTP 500: Internal server error); retrying in "
    )


def test_any_other_error_ends_the_call_at_once():
    numbers = []

    def attempt(number: int) -> str:
        numbers.append(number)
        raise ValueError("not worth asking again")

    with pytest.raises(ValueError, match="not worth asking again"):
        run(attempt, RetrySettings(max_attempts=5), [])
    assert numbers == [1]


def test_settings_refuse_no_attempt_and_negative_waits():
    with pytest.raises(ValueError, match="max_attempts"):
        RetrySettings(max_attempts=0)
    with pytest.raises(ValueError, match="negative"):
        RetrySettings(max_retry_after=-1)


def answer(retry_after: str | None) -> httpx.Response:
    return httpx.Response(429, headers={"Retry-After": retry_after} if retry_after is not None else {})


def test_retry_after_is_read_as_seconds_or_as_an_http_date():
    assert retry_after_seconds(answer("7")) == 7.0
    assert retry_after_seconds(answer(" 1.5 ")) == 1.5
    assert retry_after_seconds(answer("-3")) == 0.0
    for unreadable in (None, "", "soon", "nan", "inf"):
        assert retry_after_seconds(answer(unreadable)) is None, unreadable
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)  # "Wed, 21 Oct 2015 07:28:00 GMT"
    assert 100 <= retry_after_seconds(answer(later)) <= 120
    earlier = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    assert retry_after_seconds(answer(earlier)) == 0.0
