"""Records in the official shape → typed rows for `schemas.py`, and quarantine for the records that cannot be.

* Amounts are JSON strings (never floats): parsed to `Decimal`, with their currency in a sibling column. A
  money value with more than 4 decimals or 14 integer digits, or a rate with more than 15 decimals, does not
  fit its column and is quarantined rather than rounded. A leading `-` is accepted everywhere (pitfall 6).
* Direction comes from `creditDebitType`: `signed_amount` is positive for CREDITO, negative for DEBITO.
* Instants are parsed leniently (RFC 3339 with or without fractions, `Z` or an offset; no zone = UTC) and
  normalised to UTC, truncated to milliseconds. `booking_date` is the date in São Paulo (UTC-3 all year
  since 2019), the calendar the booking-date filters use.
* IDs stay strings (numbers are turned into their text), at most 100 characters.
* A record missing a required field, or with a value that does not parse, becomes a `QuarantineRecord` naming
  the field; the other records of the page still land. `raw_json` keeps the whole record, unknown fields too.
"""

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from ingestion.common.quarantine import QuarantineRecord

SOURCE = "open_finance"
SAO_PAULO = timezone(timedelta(hours=-3))
MAX_ID_LENGTH = 100
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_LIMITS = {"money": (14, 4), "rate": (23, 15)}  # (integer digits, decimals) that fit decimal128(18,4)/(38,15)


class BadRecord(ValueError):
    """Why one record cannot land (the quarantine reason)."""


@dataclass(frozen=True)
class Field:
    column: str
    path: str  # dotted path in the record, e.g. "transactionAmount.amount"
    kind: str  # id, text, currency, money, rate, ts, date, bool, int
    required: bool = True


@dataclass
class Parsed:
    rows: list[dict] = field(default_factory=list)
    quarantine: list[QuarantineRecord] = field(default_factory=list)

    def extend(self, other: "Parsed") -> None:
        self.rows.extend(other.rows)
        self.quarantine.extend(other.quarantine)


def canonical_json(record: object) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def parse_decimal(text: object, kind: str = "money") -> Decimal:
    if not isinstance(text, str) or not _DECIMAL.match(text.strip()):
        raise BadRecord(f"not a decimal string: {text!r}")
    value = Decimal(text.strip())
    integer_digits, decimals = _LIMITS[kind]
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > decimals:
        raise BadRecord(f"{text!r} has more than {decimals} decimals")
    if abs(value) >= Decimal(10) ** integer_digits:
        raise BadRecord(f"{text!r} has more than {integer_digits} integer digits")
    return value


def parse_instant(text: object) -> datetime:
    if not isinstance(text, str):
        raise BadRecord(f"not a date-time string: {text!r}")
    cleaned = text.strip().replace("z", "Z")
    cleaned = cleaned[:-1] + "+00:00" if cleaned.endswith("Z") else cleaned
    match = re.match(r"^(.*T\d{2}:\d{2}:\d{2})(\.\d+)?(.*)$", cleaned)
    if match and match.group(2):  # any number of fraction digits: keep milliseconds
        cleaned = match.group(1) + (match.group(2) + "000")[:4] + match.group(3)
    try:
        parsed = datetime.fromisoformat(cleaned)
    except ValueError:
        raise BadRecord(f"not an RFC 3339 date-time: {text!r}") from None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)


def parse_date(text: object) -> date:
    match = _DATE.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise BadRecord(f"not a date: {text!r}")
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise BadRecord(f"not a date: {text!r}") from None


def _identifier(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadRecord(f"not an identifier: {value!r}")
    text = str(value)
    if not text or len(text) > MAX_ID_LENGTH:
        raise BadRecord(f"identifier of {len(text)} characters (1..{MAX_ID_LENGTH} allowed)")
    return text


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise BadRecord(f"not a string: {value!r}")
    return value


def _currency(value: object) -> str:
    if not isinstance(value, str) or not _CURRENCY.match(value):
        raise BadRecord(f"not an ISO 4217 currency code: {value!r}")
    return value


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise BadRecord(f"not a boolean: {value!r}")
    return value


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value or abs(value) >= 2**31:
        raise BadRecord(f"not a 32-bit integer: {value!r}")
    return int(value)


CONVERTERS: dict[str, Callable[[object], object]] = {
    "id": _identifier,
    "text": _text,
    "currency": _currency,
    "money": lambda value: parse_decimal(value, "money"),
    "rate": lambda value: parse_decimal(value, "rate"),
    "ts": parse_instant,
    "date": parse_date,
    "bool": _boolean,
    "int": _integer,
}

_MISSING = object()


def _dig(record: Mapping, path: str) -> object:
    value: object = record
    for part in path.split("."):
        if not isinstance(value, Mapping) or value.get(part) is None:
            return _MISSING
        value = value[part]
    return value


def convert_fields(record: Mapping, fields: Iterable[Field]) -> dict:
    """The record's fields converted; `BadRecord` names the first missing or unparseable field."""
    row: dict = {}
    for spec in fields:
        value = _dig(record, spec.path)
        if value is _MISSING or (value == "" and spec.kind != "text"):
            if spec.required:
                raise BadRecord(f"missing required field {spec.path}")
            row[spec.column] = None
            continue
        try:
            row[spec.column] = CONVERTERS[spec.kind](value)
        except BadRecord as error:
            raise BadRecord(f"invalid {spec.path}: {error}") from None
    return row


def signed(amount: object, credit_debit_type: object) -> Decimal:
    """`amount` with the sign of the direction: CREDITO positive, DEBITO negative."""
    if credit_debit_type == "CREDITO":
        return abs(amount)  # type: ignore[arg-type]
    if credit_debit_type == "DEBITO":
        return -abs(amount)  # type: ignore[arg-type]
    raise BadRecord(f"invalid creditDebitType: {credit_debit_type!r} (CREDITO or DEBITO expected)")


def booking_date(instant: datetime) -> date:
    return instant.astimezone(SAO_PAULO).date()


def parse_records(
    entity: str,
    records: Iterable[Mapping],
    fields: Iterable[Field],
    context: Mapping[str, object],
    key_field: str,
    derive: Callable[[dict], None] | None = None,
) -> Parsed:
    """Convert every record; the ones that fail go to quarantine with the reason, the rest become rows."""
    fields = tuple(fields)
    parsed = Parsed()
    where = " ".join(f"{name}={value}" for name, value in context.items())
    for index, record in enumerate(records):
        raw = canonical_json(record)
        key_value = record.get(key_field) if isinstance(record, Mapping) else None
        record_key = f"{where} {key_field}={key_value}" if key_value is not None else f"{where} record #{index}"
        try:
            if not isinstance(record, Mapping):
                raise BadRecord("record is not a JSON object")
            row = {**context, **convert_fields(record, fields)}
            if derive is not None:
                derive(row)
        except BadRecord as error:
            parsed.quarantine.append(QuarantineRecord(SOURCE, entity, record_key, str(error), raw))
            continue
        row["raw_json"] = raw
        parsed.rows.append(row)
    return parsed
