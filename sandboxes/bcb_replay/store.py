"""The recordings of data/bcb_replay/ loaded into memory, with the look-ups the server needs."""

import bisect
import csv
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from sandboxes.bcb_replay import layout


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _typed_focus_value(field: str, text: str):
    if text == "":
        return None
    if field in layout.FOCUS_DECIMAL_FIELDS:
        return Decimal(text)
    if field in layout.FOCUS_INT_FIELDS:
        return int(text)
    return text


@dataclass(frozen=True)
class PtaxRow:
    day: date
    quoted_at: str
    bulletin: str
    buy: Decimal
    sell: Decimal
    parity_buy: Decimal
    parity_sell: Decimal


@dataclass(frozen=True)
class ClosingExtra:
    buy: Decimal
    sell: Decimal
    parity_buy: Decimal
    parity_sell: Decimal


class ReplayStore:
    """Everything the server answers from; loaded once, read-only afterwards (safe across threads)."""

    def __init__(self, data_dir: Path | str = layout.DEFAULT_DATA_DIR):
        self.data_dir = Path(data_dir)
        if not (self.data_dir / layout.CATALOG).exists():
            raise FileNotFoundError(
                f"no replay recordings in {self.data_dir} (expected {layout.CATALOG}); "
                "build them with: python -m sandboxes.bcb_replay.build_recordings"
            )
        self.sgs = self._load_sgs()
        self._sgs_days = {code: [day for day, _ in rows] for code, rows in self.sgs.items()}
        self.ptax = self._load_ptax()
        self._ptax_days = {code: [row.day for row in rows] for code, rows in self.ptax.items()}
        self.currency_codes = self._load_currency_codes()
        self.closing_extra = self._load_closing_extra()
        self.closing_files = {
            date(int(path.stem[:4]), int(path.stem[4:6]), int(path.stem[6:8])): path.read_bytes()
            for path in sorted((self.data_dir / layout.CLOSING_FILES_DIR).glob("*.csv"))
        }
        self.focus = self._load_focus()
        self.moedas = (self.data_dir / layout.MOEDAS).read_bytes()

    def _load_sgs(self) -> dict[int, list[tuple[date, str]]]:
        series = {}
        for path in sorted((self.data_dir / layout.SGS_DIR).glob("*.csv")):
            _, rows = _read_csv(path)
            series[int(path.stem)] = sorted((date.fromisoformat(row["date"]), row["value"]) for row in rows)
        return series

    def _load_ptax(self) -> dict[str, list[PtaxRow]]:
        quotes = {}
        for path in sorted((self.data_dir / layout.PTAX_DIR).glob("*.csv")):
            _, rows = _read_csv(path)
            parsed = [
                PtaxRow(
                    date.fromisoformat(row["quoted_at"][:10]),
                    row["quoted_at"],
                    row["bulletin"],
                    Decimal(row["buy"]),
                    Decimal(row["sell"]),
                    Decimal(row["parity_buy"]),
                    Decimal(row["parity_sell"]),
                )
                for row in rows
            ]
            quotes[path.stem] = sorted(parsed, key=lambda item: item.quoted_at)
        return quotes

    def _load_currency_codes(self) -> dict[str, tuple[str, str]]:
        _, rows = _read_csv(self.data_dir / layout.CLOSING_CURRENCIES)
        return {row["symbol"]: (row["code"], row["type"]) for row in rows}

    def _load_closing_extra(self) -> dict[str, dict[date, ClosingExtra]]:
        extra = {}
        for path in sorted((self.data_dir / layout.CLOSING_EXTRA_DIR).glob("*.csv")):
            _, rows = _read_csv(path)
            extra[path.stem] = {
                date.fromisoformat(row["date"]): ClosingExtra(
                    *(Decimal(row[key]) for key in ("buy", "sell", "parity_buy", "parity_sell"))
                )
                for row in rows
            }
        return extra

    def _load_focus(self) -> dict[str, tuple[list[str], list[dict]]]:
        sets = {}
        for path in sorted((self.data_dir / layout.FOCUS_DIR).glob("*.csv")):
            fields, rows = _read_csv(path)
            fields = [name for name in fields if name != "provenance"]
            typed = [{name: _typed_focus_value(name, row[name]) for name in fields} for row in rows]
            sets[path.stem] = (fields, typed)
        return sets

    # -- look-ups ------------------------------------------------------------------------------------------

    def sgs_rows(self, code: int, start: date, end: date) -> list[tuple[date, str]]:
        days = self._sgs_days.get(code, [])
        return self.sgs.get(code, [])[bisect.bisect_left(days, start) : bisect.bisect_right(days, end)]

    def sgs_last(self, code: int, count: int) -> list[tuple[date, str]]:
        return self.sgs.get(code, [])[-count:] if count else []

    def ptax_rows(self, currency: str, start: date, end: date) -> list[PtaxRow]:
        days = self._ptax_days.get(currency, [])
        return self.ptax.get(currency, [])[bisect.bisect_left(days, start) : bisect.bisect_right(days, end)]

    def closing_rows(self, day: date) -> list[tuple[str, str, str, ClosingExtra]]:
        """(code, type, symbol, rates) for every currency with a closing quote on `day`, sorted by code."""
        rows = []
        for currency in self.ptax:
            closing = [row for row in self.ptax_rows(currency, day, day) if row.bulletin == layout.CLOSING]
            if closing and currency in self.currency_codes:
                last = closing[-1]
                rates = ClosingExtra(last.buy, last.sell, last.parity_buy, last.parity_sell)
                rows.append((*self.currency_codes[currency], currency, rates))
        for currency, by_day in self.closing_extra.items():
            if day in by_day and currency in self.currency_codes:
                rows.append((*self.currency_codes[currency], currency, by_day[day]))
        return sorted(rows)
