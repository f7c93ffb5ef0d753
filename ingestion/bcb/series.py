"""What is pulled from the BCB by default: SGS series, PTAX currencies, closing-file currencies, Focus sets.

Codes and frequencies are checked against recorded responses where one exists; see ingestion/bcb/README.md
for the evidence behind each (IGP-M = 189 in particular).
"""

from dataclasses import dataclass
from enum import StrEnum


class Frequency(StrEnum):
    BUSINESS_DAY = "business_day"  # one row per Brazilian business day (no weekends/holidays)
    CALENDAR_DAY = "calendar_day"  # one row per calendar day, weekends included
    MONTHLY = "monthly"  # dated on the 1st of the reference month

    @property
    def is_daily(self) -> bool:
        """SGS limits queries of daily-periodicity series to 10-year windows (both daily kinds count)."""
        return self is not Frequency.MONTHLY


@dataclass(frozen=True)
class SgsSeries:
    code: int
    name: str
    frequency: Frequency
    unit: str
    decimals: int  # how many decimals SGS serves in `valor`


SGS_CATALOG: dict[int, SgsSeries] = {
    series.code: series
    for series in (
        SgsSeries(1, "USD/BRL PTAX closing sell", Frequency.BUSINESS_DAY, "BRL per USD", 4),
        SgsSeries(10813, "USD/BRL PTAX closing buy", Frequency.BUSINESS_DAY, "BRL per USD", 4),
        SgsSeries(432, "Selic target (Copom)", Frequency.CALENDAR_DAY, "% per year", 2),
        SgsSeries(11, "Selic daily rate", Frequency.BUSINESS_DAY, "% per day", 6),
        SgsSeries(12, "CDI daily rate", Frequency.BUSINESS_DAY, "% per day", 6),
        SgsSeries(433, "IPCA, change in the month", Frequency.MONTHLY, "% per month", 2),
        SgsSeries(189, "IGP-M, change in the month", Frequency.MONTHLY, "% per month", 2),
        # Not pulled by default; served by the replay server because real history exists for it.
        SgsSeries(21619, "EUR/BRL PTAX closing sell", Frequency.BUSINESS_DAY, "BRL per EUR", 7),
    )
}

DEFAULT_SGS_SERIES: tuple[int, ...] = (1, 10813, 432, 11, 12, 433, 189)

# Currencies Olinda PTAX serves (its `Moedas` resource); type A quotes parity as currency per USD, type B as
# USD per currency.
OLINDA_PTAX_CURRENCIES: dict[str, str] = {
    "AUD": "B",
    "CAD": "A",
    "CHF": "A",
    "DKK": "A",
    "EUR": "B",
    "GBP": "B",
    "JPY": "A",
    "NOK": "A",
    "SEK": "A",
    "USD": "A",
}
DEFAULT_PTAX_CURRENCIES: tuple[str, ...] = ("USD", "EUR", "GBP", "JPY", "CHF", "CAD")

# The daily closing file carries every currency (~156); CNY (code 795) is only available there.
DEFAULT_CLOSING_FILE_CURRENCIES: tuple[str, ...] = ("CNY",)


@dataclass(frozen=True)
class FocusPull:
    entity_set: str
    indicator: str


DEFAULT_FOCUS_PULLS: tuple[FocusPull, ...] = (
    FocusPull("ExpectativasMercadoAnuais", "IPCA"),
    FocusPull("ExpectativasMercadoAnuais", "Selic"),
    FocusPull("ExpectativasMercadoAnuais", "Câmbio"),
    FocusPull("ExpectativasMercadoAnuais", "IGP-M"),
    FocusPull("ExpectativasMercadoInflacao12Meses", "IPCA"),
    FocusPull("ExpectativasMercadoSelic", "Selic"),
    FocusPull("ExpectativaMercadoMensais", "IPCA"),  # singular "Expectativa": that is the set's real name
    FocusPull("ExpectativaMercadoMensais", "Câmbio"),
)


def sgs_series(code: int) -> SgsSeries | None:
    return SGS_CATALOG.get(code)


def is_daily_series(code: int) -> bool:
    """Unknown codes count as daily, so their requests are split into windows the API accepts either way."""
    series = SGS_CATALOG.get(code)
    return series is None or series.frequency.is_daily
