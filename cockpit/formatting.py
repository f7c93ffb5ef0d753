"""How a Brazilian finance team reads numbers: `R$ 1.234,56`, `31/12/2024`, `12,5 %` (English: `R$ 1,234.56`).

Formatting only: every value arrives computed by the marts' SQL, and is never rounded before it is shown.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal


def is_missing(value) -> bool:
    """None, NULL read as NaN/NaT/pd.NA, or a Decimal NaN: shown as `–`."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN is the one value not equal to itself
    except TypeError:  # pd.NA
        return True


def _grouped(value: Decimal, places: int, language: str) -> str:
    quantum = Decimal(1).scaleb(-places)
    text = f"{abs(value).quantize(quantum, ROUND_HALF_UP):,.{places}f}"  # 1,234.56
    if language == "pt":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")  # 1.234,56
    return text


def number(value, places: int = 2, language: str = "pt") -> str:
    if is_missing(value):
        return "–"
    value = Decimal(str(value)) if not isinstance(value, Decimal) else value
    return ("-" if value < 0 else "") + _grouped(value, places, language)


def money(value, language: str = "pt") -> str:
    """`R$ 1.234,56`; negative `-R$ 1.234,56`; None `–`."""
    if is_missing(value):
        return "–"
    value = Decimal(str(value)) if not isinstance(value, Decimal) else value
    return ("-" if value < 0 else "") + "R$ " + _grouped(value, 2, language)


def foreign(value, currency: str, language: str = "pt") -> str:
    """An amount in its own currency: `USD 1.234,56`."""
    if is_missing(value):
        return "–"
    return f"{currency} {number(value, 2, language)}"


def percent(value, places: int = 1, language: str = "pt") -> str:
    return "–" if is_missing(value) else f"{number(value, places, language)} %"


def day(value, language: str = "pt") -> str:
    """`dd/mm/aaaa` (pt), ISO `yyyy-mm-dd` (en)."""
    if is_missing(value):
        return "–"
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        value = date.fromisoformat(str(value)[:10])
    return value.strftime("%d/%m/%Y") if language == "pt" else value.isoformat()
