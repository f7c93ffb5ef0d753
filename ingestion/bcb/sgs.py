"""SGS time series (`api.bcb.gov.br/dados/serie`): URLs, windows, and parsers for the JSON and CSV bodies.

JSON body: `[{"data": "dd/MM/yyyy", "valor": "<decimal string>"}, ...]`. Values become Decimal, never float.
Rows outside the requested window are dropped (the API once answered the last stored value for empty ranges).
"""

import csv
import io
from datetime import date, timedelta
from typing import Any

from ingestion.bcb import schemas
from ingestion.bcb.result import ExtractResult
from ingestion.bcb.values import (
    UnparseableBody,
    compact,
    load_json,
    parse_comma_decimal,
    parse_day_month_year,
    parse_decimal,
    row_record,
    unknown_fields_record,
)

ENTITY = "sgs_observations"
WINDOW_YEARS = 10
NOT_FOUND_MARKER = "Value(s) not found"
_FIELDS = ("data", "valor")


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def split_windows(start: date, end: date, years: int = WINDOW_YEARS) -> list[tuple[date, date]]:
    """Consecutive windows covering start..end, each shorter than `years` years (2015-01-01..2024-12-31)."""
    if end < start:
        raise ValueError(f"window ends before it starts: {start}..{end}")
    windows = []
    cursor = start
    while cursor <= end:
        window_end = min(end, _add_years(cursor, years) - timedelta(days=1))
        windows.append((cursor, window_end))
        cursor = window_end + timedelta(days=1)
    return windows


def sgs_url(base_url: str, series_code: int, start: date, end: date, fmt: str = "json") -> str:
    """`{base}/bcdata.sgs.{code}/dados?formato=json&dataInicial=dd/MM/yyyy&dataFinal=dd/MM/yyyy`."""
    return (
        f"{base_url.rstrip('/')}/bcdata.sgs.{series_code}/dados?formato={fmt}"
        f"&dataInicial={start:%d/%m/%Y}&dataFinal={end:%d/%m/%Y}"
    )


def describe(series_code: int, start: date, end: date) -> str:
    return f"SGS series {series_code} window {start.isoformat()}..{end.isoformat()}"


def error_detail(body: str) -> str | None:
    """The message of an SGS error body: top-level `error` (window rule) or `erro.detail` (exceptions)."""
    try:
        payload = load_json(body)
    except UnparseableBody:
        return None
    if not isinstance(payload, dict):
        return None
    if isinstance(payload.get("error"), str):
        return payload["error"]
    erro = payload.get("erro")
    if isinstance(erro, dict) and isinstance(erro.get("detail"), str):
        return erro["detail"]
    return None


def is_not_found(body: str) -> bool:
    """The 404 body SGS sends for a window without observations: a valid, empty result."""
    detail = error_detail(body)
    return detail is not None and NOT_FOUND_MARKER in detail


def is_window_error(body: str) -> bool:
    """The 406 (sometimes 400) body refusing a daily-series window over 10 years or without dataInicial."""
    detail = error_detail(body) or ""
    return "janela" in detail or "10 anos" in detail or "dataInicial" in detail


def parse_sgs_json(body: str, series_code: int, start: date, end: date) -> ExtractResult:
    """Parse an SGS JSON body: bad rows are quarantined; a non-array body raises UnparseableBody."""
    payload = load_json(body)
    if not isinstance(payload, list):
        raise UnparseableBody(f"expected a JSON array of observations, got {type(payload).__name__}")
    return _rows_to_result(payload, series_code, start, end, comma_decimal=False)


def parse_sgs_csv(body: str, series_code: int, start: date, end: date) -> ExtractResult:
    """Parse the SGS CSV style: `"data";"valor"` header, `;`, quoted fields, comma decimals."""
    reader = csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";")
    lines = [line for line in reader if line]
    if not lines or len(lines[0]) != 2:
        raise UnparseableBody("expected a two-column `;` CSV with a header line")
    rows: list[Any] = [dict(zip(_FIELDS, line, strict=True)) if len(line) == 2 else line for line in lines[1:]]
    return _rows_to_result(rows, series_code, start, end, comma_decimal=True)


def _rows_to_result(rows: list[Any], series_code: int, start: date, end: date, comma_decimal: bool) -> ExtractResult:
    request_key = f"sgs series={series_code} window={start.isoformat()}..{end.isoformat()}"
    good: dict[date, dict] = {}
    quarantine = []
    extras: dict[str, dict[str, Any]] = {}
    for index, row in enumerate(rows):
        key = f"sgs series={series_code} row={index}"
        if not isinstance(row, dict):
            quarantine.append(row_record(ENTITY, key, "the row is not a {data, valor} object", row))
            continue
        if isinstance(row.get("data"), str):
            key = f"sgs series={series_code} date={row['data']}"
        missing = [name for name in _FIELDS if name not in row or row[name] is None]
        if missing:
            quarantine.append(row_record(ENTITY, key, f"required field(s) missing: {', '.join(missing)}", row))
            continue
        unknown = {name: value for name, value in row.items() if name not in _FIELDS}
        try:
            reference_date = parse_day_month_year(row["data"])
        except ValueError as error:
            quarantine.append(row_record(ENTITY, key, f"data {error}", row))
            continue
        try:
            value = _parse_value(row["valor"], comma_decimal)
        except ValueError as error:
            quarantine.append(row_record(ENTITY, key, f"valor {error}", row))
            continue
        if not start <= reference_date <= end:
            continue
        if reference_date in good:
            quarantine.append(row_record(ENTITY, key, "duplicate date in the response; first row kept", row))
            continue
        if unknown:
            extras[key] = unknown
        good[reference_date] = {"series_code": series_code, "reference_date": reference_date, "value": value}
    table = schemas.rows_to_table([good[day] for day in sorted(good)], schemas.SGS_OBSERVATIONS)
    return ExtractResult(table, compact([*quarantine, unknown_fields_record(ENTITY, request_key, extras)]))


def _parse_value(valor: Any, comma_decimal: bool):
    if not isinstance(valor, str):
        raise ValueError(f"{valor!r} is not a decimal string")
    return parse_comma_decimal(valor) if comma_decimal else parse_decimal(valor)
