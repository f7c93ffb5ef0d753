"""JSON text with `Decimal` money written as JSON numbers, digit for digit, never through a float.

The standard `json.dumps` cannot write a Decimal as a number: its `default=` hook may only return something it
already knows, and a float would round the money. `dumps` here writes the structure itself (objects, arrays) and
hands every other value to `json.dumps`, so its output is the one `json.dumps` gives for the same options, with
each Decimal written as `str(decimal)` (`89.90` stays `89.90`, `1E+2` stays `1E+2`: reading it back with
`json.loads(text, parse_float=Decimal)` gives the same Decimal). `decimal_text` spells them otherwise when a
caller needs it. NaN and infinities are not JSON numbers: they are refused.

Used by Pluggy's quarantined `raw_json`, the demo DUIMP files, and the Pluggy and BCB stand-ins' answers.
"""

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any


def dumps(
    value: Any,
    *,
    sort_keys: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    ensure_ascii: bool = True,
    default: Callable[[Any], Any] | None = None,
    decimal_text: Callable[[Decimal], str] = str,
) -> str:
    """`json.dumps(value, ...)` with the same options, but every Decimal written as the number it is."""
    if separators is None:
        separators = (",", ": ") if indent is not None else (", ", ": ")
    item_separator, key_separator = separators

    def scalar(item: Any) -> str:
        return json.dumps(item, ensure_ascii=ensure_ascii)

    def number(item: Decimal) -> str:
        if not item.is_finite():
            raise ValueError(f"{item} is not a JSON number")
        return decimal_text(item)

    def joined(parts: list[str], level: int, opening: str, closing: str) -> str:
        if not parts:
            return opening + closing
        if indent is None:
            return opening + item_separator.join(parts) + closing
        inner, outer = "\n" + " " * (indent * (level + 1)), "\n" + " " * (indent * level)
        return opening + inner + (item_separator + inner).join(parts) + outer + closing

    def write(item: Any, level: int) -> str:
        if isinstance(item, Decimal):
            return number(item)
        if isinstance(item, dict):
            pairs = sorted(item.items()) if sort_keys else item.items()
            parts = [f"{key_text(key)}{key_separator}{write(inner, level + 1)}" for key, inner in pairs]
            return joined(parts, level, "{", "}")
        if isinstance(item, list | tuple):
            return joined([write(inner, level + 1) for inner in item], level, "[", "]")
        if item is None or isinstance(item, str | int | float | bool):
            return scalar(item)
        if default is None:
            raise TypeError(f"Object of type {type(item).__name__} is not JSON serializable")
        return write(default(item), level)

    def key_text(key: Any) -> str:
        if not isinstance(key, str):
            raise TypeError(f"keys must be str, not {type(key).__name__} ({key!r})")
        return scalar(key)

    return write(value, 0)
