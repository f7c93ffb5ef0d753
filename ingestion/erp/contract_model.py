"""The building blocks of the ERP contracts: column kinds, columns, entities, and the row checker.

A `Column` has a kind (which fixes its Arrow type), says whether it is required, and may restrict its values
(an allowed set, a regular expression, a minimum, a check such as the CNPJ digit). An `Entity` is a list of
columns, a primary key and row rules that look at several columns at once (an ETA before its ETD). The
checker coerces each value (native Python values, or the text of a CSV export) to the column's type and
returns either the typed row or the reasons it breaks the contract.
"""

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

import pyarrow as pa

from ingestion.erp.cnpj import is_valid_cnpj, normalize_cnpj

MONEY = pa.decimal128(18, 4)
QUANTITY = pa.decimal128(18, 4)
PERCENT = pa.decimal128(9, 4)
FX_RATE = pa.decimal128(38, 15)
TIMESTAMP = pa.timestamp("ms", tz="UTC")

KIND_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int32(),
    "money": MONEY,
    "quantity": QUANTITY,
    "percent": PERCENT,
    "fx_rate": FX_RATE,
    "date": pa.date32(),
    "timestamp": TIMESTAMP,
}

# When a record's file was taken from an inbox (a file drop): every lake dataset of a file drop ends with this
# column. At an equal version, the later arrival is the newer one (staging's tie-break).
ARRIVED_AT = "_arrived_at"
ARRIVAL_TYPE = pa.timestamp("ms", tz="UTC")


def arrival_schema(schema: pa.Schema) -> pa.Schema:
    """A contract's schema as its lake dataset and raw table hold it: the contract columns, then `_arrived_at`."""
    return schema.append(pa.field(ARRIVED_AT, ARRIVAL_TYPE, nullable=False))


def stamp_arrival(schema: pa.Schema, table: pa.Table, arrived_at: datetime) -> pa.Table:
    """Contract rows of one arrival as a lake table: cast to `schema`, every row stamped with `arrived_at`
    (timezone-aware)."""
    if arrived_at.tzinfo is None:
        raise ValueError("arrived_at must be timezone-aware (UTC)")
    stamp = pa.array([arrived_at] * table.num_rows, ARRIVAL_TYPE)
    return table.cast(schema).append_column(arrival_schema(schema).field(ARRIVED_AT), stamp)


# Business dates outside this window are typos (0024-03-01, 2204-03-01), not history.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2100, 12, 31)

RowRule = Callable[[dict], str | None]


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = True
    allowed: frozenset[str] | None = None
    pattern: str | None = None
    minimum: Decimal | None = None
    check: str | None = None  # "cnpj": the value must carry valid CNPJ check digits

    @property
    def arrow_type(self) -> pa.DataType:
        return KIND_TYPES[self.kind]

    def field(self) -> pa.Field:
        return pa.field(self.name, self.arrow_type, nullable=not self.required)


@dataclass(frozen=True)
class Entity:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    row_rules: tuple[tuple[str, RowRule], ...] = field(default=())

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([column.field() for column in self.columns])

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns if column.required)

    def key_of(self, row: dict) -> str:
        """`po_id=PO-000001 line_number=1`: the primary key as text, for quarantine records and messages."""
        return " ".join(f"{name}={row.get(name)}" for name in self.primary_key)


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _to_decimal(value: object, scale: int) -> Decimal:
    if isinstance(value, float):
        raise ValueError("a float is not accepted for money, quantities or rates (pass Decimal or text)")
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number (use '.' as the decimal separator)") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    if number.as_tuple().exponent < -scale and number != number.quantize(Decimal(1).scaleb(-scale)):
        raise ValueError(f"{value!r} has more than {scale} decimal places")
    return number


def _to_date(value: object) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"{value!r} is a timestamp, not a business date")
    if isinstance(value, date):
        parsed = value
    else:
        try:
            parsed = date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a valid date (expected YYYY-MM-DD)") from None
    if not EARLIEST_DATE <= parsed <= LATEST_DATE:
        raise ValueError(f"{parsed.isoformat()} is outside {EARLIEST_DATE}..{LATEST_DATE}")
    return parsed


def _to_timestamp(value: object) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value).strip().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a valid ISO-8601 timestamp") from None
    # A timestamp without an offset is read as UTC (the ERP exports and the database store UTC).
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if not EARLIEST_DATE <= parsed.date() <= LATEST_DATE:
        raise ValueError(f"{parsed.isoformat()} is outside {EARLIEST_DATE}..{LATEST_DATE}")
    return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)


def _to_int(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("a boolean is not an integer")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError(f"{value!r} is not an integer")
    return int(text)


def coerce(column: Column, value: object) -> object:
    """The value in the column's Python type (Decimal, date, datetime UTC, int, str); raises ValueError."""
    kind = column.kind
    if kind == "string":
        return str(value).strip() if not isinstance(value, str) else value.strip()
    if kind == "int":
        return _to_int(value)
    if kind in ("money", "quantity", "percent", "fx_rate"):
        return _to_decimal(value, column.arrow_type.scale)
    if kind == "date":
        return _to_date(value)
    if kind == "timestamp":
        return _to_timestamp(value)
    raise AssertionError(f"unknown column kind {kind}")


def check_value(column: Column, value: object) -> str | None:
    """The contract rule the (coerced, non-null) value breaks, or None."""
    if column.allowed is not None and value not in column.allowed:
        return f"unknown value {value!r} in {column.name} (allowed: {', '.join(sorted(column.allowed))})"
    if column.pattern is not None and not re.fullmatch(column.pattern, str(value)):
        return f"{column.name} {value!r} does not match the pattern {column.pattern}"
    if column.minimum is not None and value < column.minimum:
        return (
            f"negative value {value} in {column.name}"
            if column.minimum == 0
            else (f"{column.name} {value} is below the minimum {column.minimum}")
        )
    if column.check == "cnpj" and not is_valid_cnpj(str(value)):
        return f"CNPJ {value!r} in {column.name} has wrong check digits"
    return None


def check_row(entity: Entity, raw: dict) -> tuple[dict | None, list[str]]:
    """(typed row, []) when the row keeps the contract, else (None, reasons)."""
    reasons: list[str] = []
    typed: dict = {}
    known = {column.name for column in entity.columns}
    extra = sorted(set(raw) - known)
    if extra:
        reasons.append(f"unexpected columns {', '.join(extra)}")
    for column in entity.columns:
        value = raw.get(column.name)
        if _is_blank(value):
            if column.required:
                reasons.append(f"missing required {column.name}")
            typed[column.name] = None
            continue
        try:
            value = coerce(column, value)
        except ValueError as error:
            label = "bad date" if column.kind in ("date", "timestamp") else "bad value"
            reasons.append(f"{label} in {column.name}: {error}")
            typed[column.name] = None
            continue
        if column.check == "cnpj":
            value = normalize_cnpj(value)
        problem = check_value(column, value)
        if problem:
            reasons.append(problem)
        typed[column.name] = value
    if not reasons:
        for rule_name, rule in entity.row_rules:
            problem = rule(typed)
            if problem:
                reasons.append(f"{rule_name}: {problem}")
    return (None, reasons) if reasons else (typed, [])


def split_rows(
    entity: Entity, rows: Iterable[dict], refuse: Callable[[dict, dict | None, str], object], unit: str = "records"
) -> tuple[list[dict], list]:
    """The rows that keep the contract (typed) and `refuse(raw, typed or None, reason)` for each that does not (the
    reasons joined by `; `). Rows sharing a key are all refused (`duplicated key (N <unit> share it)`): nothing
    tells which is right. The ERP, customs and bank statement contracts check their rows through it."""
    checked = [(raw, *check_row(entity, raw)) for raw in rows]
    keys = Counter(entity.key_of(typed) for _, typed, _ in checked if typed is not None)
    valid, refused = [], []
    for raw, typed, reasons in checked:
        if typed is not None and keys[entity.key_of(typed)] > 1:
            reasons = [f"duplicated key ({keys[entity.key_of(typed)]} {unit} share it)"]
        if reasons:
            refused.append(refuse(raw, typed, "; ".join(reasons)))
        else:
            valid.append(typed)
    return valid, refused
