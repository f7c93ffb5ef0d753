"""One call per lake dataset: everything configured, for a date range, as a single `ExtractResult`.

These are what the Dagster assets call. Each pull fetches everything before returning, so a failure leaves the
lake untouched; rows are dated inside start..end (the partition split relies on it).
"""

from collections.abc import Iterable
from datetime import date, timedelta

from ingestion.bcb import schemas
from ingestion.bcb.client import BcbClient
from ingestion.bcb.result import ExtractResult
from ingestion.bcb.series import (
    DEFAULT_CLOSING_FILE_CURRENCIES,
    DEFAULT_FOCUS_PULLS,
    FocusPull,
)

__all__ = ["ExtractResult", "pull_sgs", "pull_ptax", "pull_closing_rates", "pull_focus"]


def pull_sgs(client: BcbClient, series_codes: Iterable[int], start: date, end: date) -> ExtractResult:
    """Every given SGS series over start..end (the default list is `series.DEFAULT_SGS_SERIES`)."""
    start, end = _window(start, end)
    results = [client.fetch_sgs(int(code), start, end) for code in series_codes]
    return ExtractResult.combine(results, schemas.SGS_OBSERVATIONS)


def pull_ptax(client: BcbClient, currencies: Iterable[str], start: date, end: date) -> ExtractResult:
    """Every PTAX bulletin of every given currency over start..end (default list: DEFAULT_PTAX_CURRENCIES)."""
    start, end = _window(start, end)
    results = [client.fetch_ptax(currency, start, end) for currency in currencies]
    return ExtractResult.combine(results, schemas.PTAX_QUOTES)


def pull_closing_rates(
    client: BcbClient,
    start: date,
    end: date,
    currencies: Iterable[str] | None = DEFAULT_CLOSING_FILE_CURRENCIES,
) -> ExtractResult:
    """The closing file of every weekday start..end (weekends never have one), for the given symbols."""
    start, end = _window(start, end)
    symbols = None if currencies is None else tuple(currencies)
    days = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
    results = [client.fetch_closing_file(day, symbols) for day in days if day.weekday() < 5]
    return ExtractResult.combine(results, schemas.CLOSING_RATES)


def pull_focus(
    client: BcbClient, start: date, end: date, pulls: Iterable[FocusPull] = DEFAULT_FOCUS_PULLS
) -> ExtractResult:
    """Every configured (entity set, indicator) of the Focus survey computed start..end."""
    start, end = _window(start, end)
    results = [client.fetch_focus(pull.entity_set, pull.indicator, start, end) for pull in pulls]
    return ExtractResult.combine(results, schemas.FOCUS_EXPECTATIONS)


def _window(start: date, end: date) -> tuple[date, date]:
    if end < start:
        raise ValueError(f"window ends before it starts: {start}..{end}")
    return start, end
