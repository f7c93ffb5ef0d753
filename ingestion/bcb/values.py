"""Shared parsing pieces for BCB payloads: exact decimals, strict dates, JSON decoding, quarantine records."""

import json
import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

from ingestion.bcb.schemas import DECIMAL_PRECISION, DECIMAL_SCALE
from ingestion.common.quarantine import QuarantineRecord

SOURCE = "bcb"
MAX_PAYLOAD_CHARS = 1_000_000  # a whole-body quarantine record keeps at most this much text
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class UnparseableBody(ValueError):
    """The body as a whole cannot be read (not JSON, not the expected shape, an HTML page...)."""


def parse_decimal(text: str) -> Decimal:
    """A decimal string (`.` separator) to Decimal, refusing what decimal128(38, 15) cannot hold exactly."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("is empty")
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    return check_decimal(value, text)


def parse_comma_decimal(text: str) -> Decimal:
    """A decimal with `,` as separator (SGS CSV, the closing file): `"4,8916"`."""
    if "." in text:
        raise ValueError(f"{text!r} is not a comma-decimal number")
    return parse_decimal(text.replace(",", "."))


def check_decimal(value: Decimal, shown: object) -> Decimal:
    """Refuse NaN/infinity and values decimal128(38, 15) cannot hold without rounding."""
    if not value.is_finite():
        raise ValueError(f"{shown!r} is not a finite number")
    with localcontext(prec=100):
        if value.normalize().as_tuple().exponent < -DECIMAL_SCALE:
            raise ValueError(f"{shown!r} has more than {DECIMAL_SCALE} decimals")
    if value and value.adjusted() >= DECIMAL_PRECISION - DECIMAL_SCALE:
        raise ValueError(f"{shown!r} is too large for decimal({DECIMAL_PRECISION},{DECIMAL_SCALE})")
    return value


def json_number(value: Any) -> Decimal:
    """A JSON number (decoded with parse_float=Decimal; ints stay int) as Decimal; anything else refused."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValueError(f"{value!r} is not a JSON number")
    return check_decimal(Decimal(value), value)


def parse_day_month_year(text: Any) -> date:
    """`dd/MM/yyyy` (SGS, closing file), strictly: never let a library guess the order."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a dd/MM/yyyy date")
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        raise ValueError(f"{text!r} is not a dd/MM/yyyy date") from None


def parse_iso_date(text: Any) -> date:
    """`yyyy-MM-dd` (Focus `Data`), strictly."""
    if not isinstance(text, str) or not _ISO_DATE.fullmatch(text):
        raise ValueError(f"{text!r} is not a yyyy-MM-dd date")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date") from None


def load_json(text: str) -> Any:
    """Decode JSON keeping every number exact (floats become Decimal)."""
    stripped = text.lstrip()
    if stripped.startswith("<"):
        raise UnparseableBody("the body is an HTML/XML page, not JSON")
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise UnparseableBody(f"the body is not valid JSON ({error.msg} at char {error.pos})") from None


def body_record(entity: str, record_key: str, reason: str, body: str) -> QuarantineRecord:
    """One record for a whole body that could not be read."""
    payload = body if len(body) <= MAX_PAYLOAD_CHARS else body[:MAX_PAYLOAD_CHARS] + "\n[cut at 1,000,000 chars]"
    return QuarantineRecord(SOURCE, entity, record_key, f"{SOURCE} {record_key}: {reason}", payload)


def row_record(entity: str, record_key: str, reason: str, row: Any) -> QuarantineRecord:
    """One record for a single bad row; `row` is kept as JSON text (or as-is if it is already text)."""
    payload = row if isinstance(row, str) else to_json_text(row)
    return QuarantineRecord(SOURCE, entity, record_key, f"{SOURCE} {record_key}: {reason}", payload)


def unknown_fields_record(entity: str, request_key: str, extras: dict[str, dict[str, Any]]) -> QuarantineRecord | None:
    """Fields the parser does not know: the rows still land, and these values are kept so nothing is lost.

    `extras` maps each row's key to its unknown fields. One record per response, not one per row.
    """
    if not extras:
        return None
    names = sorted({name for fields in extras.values() for name in fields})
    reason = (
        f"unknown field(s) {', '.join(names)} in {len(extras)} row(s); the rows landed without them, "
        "their values are kept in this payload"
    )
    return row_record(entity, request_key, reason, extras)


def to_json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def compact(records: Iterable[QuarantineRecord | None]) -> list[QuarantineRecord]:
    return [record for record in records if record is not None]
