"""Deterministic synthetic values for what no real source gives, each derived from real BCB numbers.

Every constant is read from a real file at build time (the BCB closing file of 2026-07-31), never typed in:
- USD buy = real USD sell - the USD sell/buy spread of that file; EUR buy likewise with the EUR spread.
- EUR parities = EUR rate / USD rate of the same day (both real sells, or both derived buys).
- GBP/JPY/CHF/CAD/CNY = the USD rates of the day converted with that file's parity of the currency: type B
  (USD per unit) multiply, type A (units per USD) divide, as the BCB derives non-USD rates.
- Bulletin times of generated closing bulletins: 13:03-13:14 local time, picked from a hash of the date.
Hashes (sha256 of a text key) replace random numbers so that every build writes the same bytes.
"""

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

FOUR = Decimal("0.0001")
FIVE = Decimal("0.00001")


def unit(key: str) -> Decimal:
    """A number in [0, 1) fixed by `key`."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    return Decimal(int(digest[:12], 16)) / Decimal(16**12)


def signed(key: str) -> Decimal:
    """A number in [-1, 1) fixed by `key`."""
    return unit(key) * 2 - 1


def q4(value: Decimal) -> Decimal:
    return value.quantize(FOUR, rounding=ROUND_HALF_EVEN)


def rate(value: Decimal) -> Decimal:
    """Round a BRL rate as the closing file does: 4 decimals, 5 below 0.1 (JPY)."""
    return value.quantize(FOUR if value >= Decimal("0.1") else FIVE, rounding=ROUND_HALF_EVEN)


def bulletin_time(day: date) -> str:
    """A closing-bulletin local time for `day`, with the API's variable fraction digits (`.46`, `.319`)."""
    minute = 3 + int(unit(f"minute {day}") * 12)
    second = int(unit(f"second {day}") * 60)
    millis = 1 + int(unit(f"millis {day}") * 998)
    fraction = f"{millis:03d}".rstrip("0")
    return f"{day.isoformat()} 13:{minute:02d}:{second:02d}.{fraction}"


@dataclass(frozen=True)
class ClosingRow:
    """One row of a real closing file."""

    code: str
    type: str
    symbol: str
    buy: Decimal
    sell: Decimal
    parity_buy: Decimal
    parity_sell: Decimal


def read_closing_file(text: str) -> dict[str, ClosingRow]:
    rows = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        _, code, type_, symbol, *numbers = line.split(";")
        buy, sell, parity_buy, parity_sell = (Decimal(n.replace(",", ".")) for n in numbers)
        rows[symbol] = ClosingRow(code, type_, symbol, buy, sell, parity_buy, parity_sell)
    return rows


@dataclass(frozen=True)
class Quote:
    buy: Decimal
    sell: Decimal
    parity_buy: Decimal
    parity_sell: Decimal


def spread(reference: dict[str, ClosingRow], symbol: str) -> Decimal:
    row = reference[symbol]
    return row.sell - row.buy


def usd_quote(sell: Decimal, reference: dict[str, ClosingRow]) -> Quote:
    """A USD closing quote from the real sell: buy = sell - the real USD spread; parity 1 (USD per USD)."""
    return Quote(q4(sell - spread(reference, "USD")), sell, Decimal("1.0000"), Decimal("1.0000"))


def eur_quote(eur_sell: Decimal, usd: Quote, reference: dict[str, ClosingRow]) -> Quote:
    """EUR from its real sell: buy with the real EUR spread, parities = EUR / USD of the day (type B)."""
    buy = q4(eur_sell - spread(reference, "EUR"))
    return Quote(buy, eur_sell, q4(buy / usd.buy), q4(eur_sell / usd.sell))


def cross_quote(usd: Quote, row: ClosingRow) -> Quote:
    """A currency's BRL rates from the day's USD rates and the reference file's parity of that currency."""
    parity_buy, parity_sell = row.parity_buy.normalize(), row.parity_sell.normalize()
    if row.type == "B":  # USD per unit of the currency
        buy, sell = rate(usd.buy * parity_buy), rate(usd.sell * parity_sell)
    else:  # units of the currency per USD
        buy, sell = rate(usd.buy / parity_sell), rate(usd.sell / parity_buy)
    return Quote(buy, sell, q4(parity_buy), q4(parity_sell))


def text(value: Decimal) -> str:
    return format(value, "f")
