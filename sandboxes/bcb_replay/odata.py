"""The slice of OData the replay server needs: resource calls, $filter, $orderby, $select, $top and $skip.

Supported `$filter`: comparisons `<field> eq|ne|gt|ge|lt|le <'text' or number>` joined by `and` (what Olinda
clients send). Anything else raises `ODataError`, answered as HTTP 400.
"""

import re
from decimal import Decimal, InvalidOperation
from typing import Any

_CALL = re.compile(r"^(?P<name>\w+)(?:\((?P<args>.*)\))?$")
_CONDITION = re.compile(
    r"^\s*(?P<field>\w+)\s+(?P<op>eq|ne|gt|ge|lt|le)\s+(?P<value>'(?:[^']|'')*'|[-+]?\d+(?:\.\d+)?)\s*$"
)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


class ODataError(ValueError):
    pass


def literal(text: str) -> Any:
    """An OData literal: `'text'` (with '' for a quote) or a number."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ODataError(f"not an OData literal: {text!r}") from None


def parse_call(segment: str, query: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """`Name(a=@a,b='x')` with query `@a='v'` -> ("Name", {"a": "v", "b": "x"})."""
    match = _CALL.match(segment)
    if not match:
        raise ODataError(f"cannot read the resource {segment!r}")
    arguments: dict[str, Any] = {}
    for part in filter(None, (match.group("args") or "").split(",")):
        if "=" not in part:
            raise ODataError(f"argument without a value: {part!r}")
        key, value = (piece.strip() for piece in part.split("=", 1))
        if value.startswith("@"):
            if value not in query:
                raise ODataError(f"parameter alias {value} has no value in the query")
            value = query[value]
        arguments[key] = literal(value)
    return match.group("name"), arguments


def parse_filter(text: str) -> list[tuple[str, str, Any]]:
    conditions = []
    for part in _AND.split(text.strip()):
        match = _CONDITION.match(part)
        if not match:
            raise ODataError(f"unsupported $filter condition {part!r}")
        conditions.append((match.group("field"), match.group("op"), literal(match.group("value"))))
    return conditions


def _compare(left: Any, op: str, right: Any) -> bool:
    if left is None:
        return op == "ne"
    if isinstance(right, Decimal) and isinstance(left, int | Decimal):
        left = Decimal(left)
    elif isinstance(right, Decimal) or isinstance(left, int | Decimal):
        return op == "ne"
    return {
        "eq": left == right,
        "ne": left != right,
        "gt": left > right,
        "ge": left >= right,
        "lt": left < right,
        "le": left <= right,
    }[op]


def _sort_key(value: Any) -> tuple:
    return (value is not None, value if value is not None else 0)


def apply_options(rows: list[dict], fields: list[str], query: dict[str, str]) -> tuple[list[dict], list[str]]:
    """Filter, order, page and select rows as `$filter`/`$orderby`/`$skip`/`$top`/`$select` ask."""
    if "$filter" in query:
        conditions = parse_filter(query["$filter"])
        for field, _, _ in conditions:
            if field not in fields:
                raise ODataError(f"Could not find a property named '{field}'")
        rows = [row for row in rows if all(_compare(row.get(f), op, value) for f, op, value in conditions)]
    if "$orderby" in query:
        for clause in reversed([part.strip() for part in query["$orderby"].split(",") if part.strip()]):
            field, _, direction = clause.partition(" ")
            if field not in fields or direction.strip().lower() not in ("", "asc", "desc"):
                raise ODataError(f"unsupported $orderby clause {clause!r}")
            reverse = direction.strip().lower() == "desc"
            rows = sorted(rows, key=lambda row, f=field: _sort_key(row.get(f)), reverse=reverse)
    skip, top = _count(query, "$skip", 0), _count(query, "$top", None)
    rows = rows[skip:] if top is None else rows[skip : skip + top]
    if "$select" in query:
        selected = [name.strip() for name in query["$select"].split(",") if name.strip()]
        unknown = [name for name in selected if name not in fields]
        if unknown:
            raise ODataError(f"Could not find a property named '{unknown[0]}'")
        rows = [{name: row.get(name) for name in selected} for row in rows]
        fields = selected
    return rows, fields


def _count(query: dict[str, str], name: str, default: int | None) -> int | None:
    if name not in query:
        return default
    text = query[name].strip()
    if not text.isdigit():
        raise ODataError(f"{name} must be a non-negative integer, got {text!r}")
    return int(text)
