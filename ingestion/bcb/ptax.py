"""PTAX exchange rates from Olinda: `CotacaoMoedaPeriodo` (a range) and `CotacaoMoedaDia` (one day).

Every bulletin is kept (opening, intermediates, closing). The official rate is the closing bulletin, chosen
by its type (`Fechamento` in CotacaoMoedaPeriodo, `Fechamento PTAX` in CotacaoMoedaDia), never by the latest
timestamp: the last intermediate and the closing share the same second. `dataHoraCotacao` is Brasília local
time without an offset: `quote_date` is its date part, `quoted_at` the same instant in UTC.
"""

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ingestion.bcb import schemas
from ingestion.bcb.olinda import literal_query, parse_envelope
from ingestion.bcb.result import ExtractResult
from ingestion.bcb.values import compact, json_number, row_record, unknown_fields_record

ENTITY = "ptax_quotes"
BRASILIA = ZoneInfo("America/Sao_Paulo")
UTC = ZoneInfo("UTC")
CLOSING_LABELS = frozenset({"Fechamento", "Fechamento PTAX"})
_NUMBERS = {
    "cotacaoCompra": "buy",
    "cotacaoVenda": "sell",
    "paridadeCompra": "parity_buy",
    "paridadeVenda": "parity_sell",
}
_FIELDS = (*_NUMBERS, "dataHoraCotacao", "tipoBoletim")
_TIMESTAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?")


def _odata_date(day: date) -> str:
    return f"'{day:%m-%d-%Y}'"  # month first, quoted


def period_url(olinda_base_url: str, currency: str, start: date, end: date) -> str:
    resource = "CotacaoMoedaPeriodo(moeda=@moeda,dataInicial=@dataInicial,dataFinalCotacao=@dataFinalCotacao)"
    query = literal_query(
        [
            ("@moeda", f"'{currency}'"),
            ("@dataInicial", _odata_date(start)),
            ("@dataFinalCotacao", _odata_date(end)),
            ("$format", "json"),
        ]
    )
    return f"{olinda_base_url.rstrip('/')}/PTAX/versao/v1/odata/{resource}?{query}"


def day_url(olinda_base_url: str, currency: str, day: date) -> str:
    resource = "CotacaoMoedaDia(moeda=@moeda,dataCotacao=@dataCotacao)"
    query = literal_query([("@moeda", f"'{currency}'"), ("@dataCotacao", _odata_date(day)), ("$format", "json")])
    return f"{olinda_base_url.rstrip('/')}/PTAX/versao/v1/odata/{resource}?{query}"


def describe(currency: str, start: date, end: date) -> str:
    return f"Olinda PTAX currency {currency} window {start.isoformat()}..{end.isoformat()}"


def parse_local_timestamp(text: Any) -> datetime:
    """`"2018-03-05 13:05:07.46"` (variable fraction digits) -> naive local datetime, cut to milliseconds."""
    match = _TIMESTAMP.fullmatch(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"{text!r} is not a 'YYYY-MM-DD HH:MM:SS[.fff]' timestamp")
    year, month, day, hour, minute, second, fraction = match.groups()
    millis = int((fraction or "0").ljust(3, "0")[:3])
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), millis * 1000)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid timestamp") from None


def to_utc(local: datetime) -> datetime:
    return local.replace(tzinfo=BRASILIA).astimezone(UTC)


def parse_ptax(body: str, currency: str, start: date, end: date) -> ExtractResult:
    """Parse a CotacaoMoedaPeriodo/CotacaoMoedaDia body; keep rows whose Brasília date is in start..end."""
    rows = parse_envelope(body)
    request_key = f"ptax currency={currency} window={start.isoformat()}..{end.isoformat()}"
    good: dict[tuple[datetime, str], dict] = {}
    quarantine = []
    extras: dict[str, dict[str, Any]] = {}
    for index, row in enumerate(rows):
        key = f"ptax currency={currency} row={index}"
        if not isinstance(row, dict):
            quarantine.append(row_record(ENTITY, key, "the row is not an object", row))
            continue
        if isinstance(row.get("dataHoraCotacao"), str):
            key = f"ptax currency={currency} at={row['dataHoraCotacao']} bulletin={row.get('tipoBoletim')}"
        missing = [name for name in _FIELDS if row.get(name) is None]
        if missing:
            quarantine.append(row_record(ENTITY, key, f"required field(s) missing: {', '.join(missing)}", row))
            continue
        try:
            parsed = _parse_row(row, currency)
        except ValueError as error:
            quarantine.append(row_record(ENTITY, key, str(error), row))
            continue
        if not start <= parsed["quote_date"] <= end:
            continue
        identity = (parsed["quoted_at"], parsed["bulletin_type"])
        if identity in good:
            quarantine.append(row_record(ENTITY, key, "duplicate bulletin in the response; first kept", row))
            continue
        unknown = {name: value for name, value in row.items() if name not in _FIELDS}
        if unknown:
            extras[key] = unknown
        good[identity] = parsed
    ordered = sorted(good.values(), key=lambda item: (item["quoted_at"], item["is_closing"]))
    table = schemas.rows_to_table(ordered, schemas.PTAX_QUOTES)
    return ExtractResult(table, compact([*quarantine, unknown_fields_record(ENTITY, request_key, extras)]))


def _parse_row(row: dict, currency: str) -> dict:
    local = parse_local_timestamp(row["dataHoraCotacao"])
    bulletin = row["tipoBoletim"]
    if not isinstance(bulletin, str) or not bulletin.strip():
        raise ValueError(f"tipoBoletim {bulletin!r} is not a bulletin name")
    parsed: dict[str, Any] = {
        "currency": currency,
        "quote_date": local.date(),
        "quoted_at": to_utc(local),
        "bulletin_type": bulletin,
        "is_closing": bulletin in CLOSING_LABELS,
    }
    for field, column in _NUMBERS.items():
        try:
            parsed[column] = json_number(row[field])
        except ValueError as error:
            raise ValueError(f"{field} {error}") from None
    return parsed
