"""Brazilian business days (real ANBIMA calendar) and PTAX rates (real USD/EUR, synthetic CNY).

The Siscomex rule: a declaration registered on day D is converted at the PTAX selling rate of the business day
before D (Portaria MF 6/1999; Notícia Siscomex Importação 016/2019). A Monday registration uses Friday's rate;
one after a holiday uses the business day before the holiday.
"""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sandboxes.demo_company import reference

FOUR_PLACES = Decimal("0.0001")


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in reference.anbima_holidays()


def previous_business_day(day: date) -> date:
    """The last business day strictly before `day`."""
    day -= timedelta(days=1)
    while not is_business_day(day):
        day -= timedelta(days=1)
    return day


def next_business_day(day: date) -> date:
    """`day` itself when it is a business day, else the first business day after it."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def add_business_days(day: date, count: int) -> date:
    """Move `count` business days forward (or back when negative) from `day`."""
    step = 1 if count >= 0 else -1
    for _ in range(abs(count)):
        day += timedelta(days=step)
        while not is_business_day(day):
            day += timedelta(days=step)
    return day


def business_days(start: date, end: date) -> list[date]:
    days, day = [], start
    while day <= end:
        if is_business_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def ptax_sell(currency: str, day: date) -> Decimal:
    """The PTAX closing sell rate of `day` (BRL per unit): real for USD and EUR, derived for CNY.

    CNY = USD / (CNY per USD of the 2026-07-31 closing file), rounded to 4 places:
    SYNTHETIC (one fixed parity).
    Where the EUR series has a gap on a business day, the last earlier published rate is used.
    """
    if currency == "CNY":
        return (ptax_sell("USD", day) / reference.cny_per_usd()).quantize(FOUR_PLACES, ROUND_HALF_UP)
    history = reference.ptax_sell_history(currency)
    if day in history:
        return history[day]
    earlier = [d for d in history if d <= day and (day - d).days <= 7]
    if not earlier:
        raise LookupError(f"no PTAX {currency} rate on or shortly before {day}")
    return history[max(earlier)]


def siscomex_rate(currency: str, registration_date: date) -> Decimal:
    """The rate of a declaration registered on `registration_date`: PTAX sell of the previous business day."""
    return ptax_sell(currency, previous_business_day(registration_date))
