"""Olinda OData (PTAX and Expectativas): literal query strings, the response envelope and the error body.

Parameters go out literally (`@moeda='EUR'`, `$format=json`): a client report says the percent-encoded form
failed with HTTP 500. Only what a URL cannot carry raw (spaces, non-ASCII, `&`, `#`, `%`, `+`) is
percent-encoded.
"""

import json
from typing import Any
from urllib.parse import quote

from ingestion.bcb.values import UnparseableBody, load_json

# Characters sent as they are in query values; everything else is percent-encoded (UTF-8).
_LITERAL = "'@$:,()/=-.*!;"


def literal_query(params: list[tuple[str, str]]) -> str:
    """`k=v&k=v` with keys as they are and values encoded only where a URL cannot carry them raw."""
    return "&".join(f"{key}={quote(value, safe=_LITERAL)}" for key, value in params)


def parse_envelope(body: str) -> list[Any]:
    """The `value` array of an OData JSON answer (numbers decoded exactly, as Decimal)."""
    payload = load_json(body)
    if not isinstance(payload, dict) or "value" not in payload:
        raise UnparseableBody("expected an OData object with a `value` array")
    rows = payload["value"]
    if not isinstance(rows, list):
        raise UnparseableBody(f"`value` is a {type(rows).__name__}, not an array")
    return rows


def error_message(body: str) -> str | None:
    """Olinda errors come wrapped in a JS comment: `/*{"codigo" : 500,"mensagem" : "Erro desconhecido"}*/`."""
    text = body.strip()
    if text.startswith("/*") and text.endswith("*/"):
        text = text[2:-2]
    try:
        payload = json.loads(text)
    except json.JSONDecodeError:
        return None
    if isinstance(payload, dict) and "mensagem" in payload:
        return f"Olinda says {payload['mensagem']!r} (codigo {payload.get('codigo')})"
    return None
