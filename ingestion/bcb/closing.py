"""The BCB daily closing file `fechamento/YYYYMMDD.csv`: closing rates of every currency (CNY included).

No header, `;` separated, comma decimals, 8 columns:
`dd/mm/yyyy;code;type;symbol;buy;sell;parity_buy;parity_sell`. HTTP 404 means no quotes that day (weekend,
holiday): a valid empty result.
"""

from collections.abc import Collection
from datetime import date

from ingestion.bcb import schemas
from ingestion.bcb.result import ExtractResult
from ingestion.bcb.values import UnparseableBody, parse_comma_decimal, parse_day_month_year, row_record

ENTITY = "closing_rates"
_COLUMNS = 8
_NUMBERS = ("buy", "sell", "parity_buy", "parity_sell")


def closing_url(closing_base_url: str, day: date) -> str:
    return f"{closing_base_url.rstrip('/')}/{day:%Y%m%d}.csv"


def describe(day: date) -> str:
    return f"BCB closing file for {day.isoformat()}"


def decode(content: bytes) -> str:
    """The file is ASCII in practice; fall back to Latin-1 rather than fail on an accented byte."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def check_body(text: str) -> None:
    """Raise UnparseableBody when the body is clearly not the whole CSV file: an HTML page, no `;` line at all, or
    a body that stops inside a line.

    The BCB's file ends with a line break after its last line (as every recorded file does). A body cut short
    (a dropped connection behind a proxy, the replay's `truncated` fault) otherwise parsed as a shorter file: the
    cut line was quarantined and every currency after it silently missing, so the day's rates lacked CNY until
    the next day's re-pull (found by the 30-day soak: one `fct_fx_rates_daily` row short on a BCB fault day).
    """
    stripped = text.lstrip()
    if stripped.startswith("<"):
        raise UnparseableBody("the body is an HTML/XML page, not the closing CSV")
    lines = [line for line in stripped.splitlines() if line.strip()]
    if lines and not any(line.count(";") == _COLUMNS - 1 for line in lines):
        raise UnparseableBody(f"no line has {_COLUMNS} `;`-separated columns")
    if lines and not text.endswith(("\n", "\r")):
        raise UnparseableBody(
            f"the body stops inside a line (no line break after {lines[-1][-40:]!r}): cut short, not the whole file"
        )


def parse_closing_file(text: str, day: date, currencies: Collection[str] | None = None) -> ExtractResult:
    """Rows of the file for the given symbols (all when `currencies` is None); bad lines are quarantined."""
    check_body(text)
    wanted = {symbol.upper() for symbol in currencies} if currencies is not None else None
    good: dict[str, dict] = {}
    quarantine = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = [part.strip() for part in line.split(";")]
        symbol = fields[3] if len(fields) > 3 else ""
        if wanted is not None and symbol.upper() not in wanted:
            continue
        key = f"closing file={day:%Y%m%d} line={number} currency={symbol or '?'}"
        if len(fields) != _COLUMNS:
            quarantine.append(row_record(ENTITY, key, f"expected {_COLUMNS} columns, got {len(fields)}", line))
            continue
        try:
            row = _parse_fields(fields)
        except ValueError as error:
            quarantine.append(row_record(ENTITY, key, str(error), line))
            continue
        if row["quote_date"] != day:
            reason = f"line dated {row['quote_date'].isoformat()} inside the file of {day.isoformat()}"
            quarantine.append(row_record(ENTITY, key, reason, line))
            continue
        if row["bcb_currency_code"] in good:
            quarantine.append(row_record(ENTITY, key, "currency code repeated in the file; first kept", line))
            continue
        good[row["bcb_currency_code"]] = row
    rows = sorted(good.values(), key=lambda item: item["currency"])
    return ExtractResult(schemas.rows_to_table(rows, schemas.CLOSING_RATES), quarantine)


def _parse_fields(fields: list[str]) -> dict:
    day_text, code, currency_type, symbol, *numbers = fields
    try:
        quote_date = parse_day_month_year(day_text)
    except ValueError as error:
        raise ValueError(f"date {error}") from None
    if not code.isdigit():
        raise ValueError(f"currency code {code!r} is not numeric")
    if currency_type not in {"A", "B"}:
        raise ValueError(f"currency type {currency_type!r} is not A or B")
    if not symbol.isalpha():
        raise ValueError(f"currency symbol {symbol!r} is not alphabetic")
    row = {
        "quote_date": quote_date,
        "bcb_currency_code": code,
        "currency_type": currency_type,
        "currency": symbol,
    }
    for column, text in zip(_NUMBERS, numbers, strict=True):
        try:
            row[column] = parse_comma_decimal(text)
        except ValueError as error:
            raise ValueError(f"{column} {error}") from None
    return row
