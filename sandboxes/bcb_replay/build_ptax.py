"""PTAX bulletins for the recordings: every recorded bulletin where one exists, derived ones elsewhere.

USD and EUR get a closing bulletin on every day their real sell rate exists (SGS 1 / SGS 21619); its buy rate,
parities and time are derived (`partly_synthetic`). GBP/JPY/CHF/CAD get one for the demo year only
(`synthetic`). Days with recorded answers keep every recorded bulletin (`real`), once the recorded closing
sell is checked against SGS.
"""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from sandboxes.bcb_replay.layout import CLOSING, PARTLY_SYNTHETIC, REAL, SYNTHETIC
from sandboxes.bcb_replay.synthetic import (
    ClosingRow,
    Quote,
    bulletin_time,
    cross_quote,
    eur_quote,
    text,
    usd_quote,
)

USD_2024_SAMPLE = "olinda_ptax_CotacaoMoedaPeriodo_USD_fechamento_select_2024-01-02_2024-01-05.json"
SHORT_DAY_SAMPLE = "olinda_ptax_CotacaoMoedaPeriodo_USD_EUR_GBP_2021-12-24_RECONSTRUCTED.json"
EUR_DAY_SAMPLE = "olinda_ptax_CotacaoMoedaDia_EUR_2018-03-05_all_bulletins.json"
SYNTHETIC_PTAX = ("GBP", "JPY", "CHF", "CAD")  # no public history: generated for the demo year only
DEMO_YEAR = 2024
QUOTE_FIELDS = ("buy", "sell", "parity_buy", "parity_sell")

Bulletins = dict[str, dict[date, list[dict]]]  # currency -> day -> rows in layout.PTAX_COLUMNS


def recorded_bulletins(sample: Callable[[str], Any]) -> dict[tuple[str, date], list[dict]]:
    """Every real bulletin of the recorded samples, keyed by (currency, day)."""
    found: dict[tuple[str, date], list[dict]] = {}

    def add(currency: str, rows: list[dict], parity_one: bool = False) -> None:
        one = Decimal("1.0000")
        for row in rows:
            stamp, bulletin = row["dataHoraCotacao"], row.get("tipoBoletim", CLOSING)
            found.setdefault((currency, date.fromisoformat(stamp[:10])), []).append(
                {
                    "quoted_at": stamp,
                    "bulletin": CLOSING if bulletin.startswith(CLOSING) else bulletin,
                    "buy": text(row["cotacaoCompra"]),
                    "sell": text(row["cotacaoVenda"]),
                    "parity_buy": text(one if parity_one else row["paridadeCompra"]),
                    "parity_sell": text(one if parity_one else row["paridadeVenda"]),
                    "provenance": REAL,
                }
            )

    add("USD", sample(USD_2024_SAMPLE)["value"], parity_one=True)  # USD parity is 1 by definition
    short_day = sample(SHORT_DAY_SAMPLE)
    for currency in ("USD", "EUR", "GBP"):
        add(currency, short_day[currency]["value"])
    add("EUR", sample(EUR_DAY_SAMPLE)["value"])
    return found


def closing_quote(bulletins: list[dict]) -> Quote:
    """The quote of the closing bulletin among a day's rows."""
    closing = next(row for row in bulletins if row["bulletin"] == CLOSING)
    return Quote(*(Decimal(closing[key]) for key in QUOTE_FIELDS))


def closing_row(day: date, quote: Quote, provenance: str) -> dict:
    values = {key: text(getattr(quote, key)) for key in QUOTE_FIELDS}
    return {"quoted_at": bulletin_time(day), "bulletin": CLOSING, **values, "provenance": provenance}


def build_ptax(
    sgs: dict[int, dict[date, str]], reference: dict[str, ClosingRow], sample: Callable[[str], Any]
) -> Bulletins:
    recorded = recorded_bulletins(sample)
    usd_days = sorted(sgs[1])
    derived: dict[str, dict[date, Quote]] = {"USD": {}, "EUR": {}}
    for day in usd_days:
        derived["USD"][day] = usd_quote(Decimal(sgs[1][day]), reference)
        if day in sgs[21619]:
            eur_sell = Decimal(sgs[21619][day]).normalize()
            derived["EUR"][day] = eur_quote(eur_sell, derived["USD"][day], reference)
    for (currency, day), rows in recorded.items():  # recorded closing bulletins replace derived ones
        quote = closing_quote(rows)
        sells = {"USD": sgs[1], "EUR": sgs[21619]}.get(currency)
        if sells is not None and Decimal(sells[day]) != quote.sell:
            raise ValueError(f"recorded {currency} closing sell of {day} disagrees with SGS")
        if currency in derived:
            derived[currency][day] = quote
    for currency in SYNTHETIC_PTAX:
        usd = derived["USD"]
        derived[currency] = {
            day: cross_quote(usd[day], reference[currency]) for day in usd_days if day.year == DEMO_YEAR
        }
    bulletins: Bulletins = {}
    for currency, quotes in derived.items():
        provenance = SYNTHETIC if currency in SYNTHETIC_PTAX else PARTLY_SYNTHETIC
        bulletins[currency] = {day: [closing_row(day, quote, provenance)] for day, quote in quotes.items()}
    for (currency, day), rows in recorded.items():
        bulletins.setdefault(currency, {})[day] = rows
    return bulletins
