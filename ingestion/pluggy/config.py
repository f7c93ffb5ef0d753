"""Which Pluggy items to pull, and how to reach Pluggy, from the environment (read at call time, never at import).

`PLUGGY_ITEM_IDS` lists the company's items (one item = one connection to one bank, created by the company in
Pluggy Connect), separated by commas or spaces, each as
`<item id>`, `<institution>=<item id>` or `<institution>:<COMPE code>=<item id>`. The institution names the
bank in the warehouse (default `pluggy_<first 8 characters of the id>`); the COMPE code, which Pluggy's accounts
do not carry, fills `compe_code` (the unified bank staging matches accounts across sources on it).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ingestion.pluggy.client import DEFAULT_BASE_URL
from ingestion.pluggy.errors import PluggyConfigError

_ENTRY = re.compile(r"^(?:(?P<institution>[a-z][a-z0-9_]*)(?::(?P<compe>\d{3}))?=)?(?P<item>[A-Za-z0-9-]{8,64})$")


@dataclass(frozen=True)
class PluggyItem:
    item_id: str
    institution: str
    compe_code: str | None = None


@dataclass(frozen=True)
class PluggySettings:
    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    items: tuple[PluggyItem, ...]


def parse_items(text: str) -> tuple[PluggyItem, ...]:
    items, seen = [], set()
    for entry in re.split(r"[,\s]+", text.strip()):
        if not entry:
            continue
        match = _ENTRY.match(entry)
        if not match:
            raise PluggyConfigError(
                f"PLUGGY_ITEM_IDS: {entry!r} is not `<item id>`, `<institution>=<item id>` or "
                "`<institution>:<COMPE code>=<item id>` (institution: lower case, digits, `_`)"
            )
        item_id = match["item"]
        if item_id in seen:
            raise PluggyConfigError(f"PLUGGY_ITEM_IDS: item {item_id} is listed twice")
        seen.add(item_id)
        items.append(PluggyItem(item_id, match["institution"] or f"pluggy_{item_id[:8].lower()}", match["compe"]))
    return tuple(items)


def load_settings(environ: Mapping[str, str]) -> PluggySettings | None:
    """None when no item is configured (the source is off); an error when items are set without credentials."""
    items = parse_items(environ.get("PLUGGY_ITEM_IDS", "") or "")
    if not items:
        return None
    client_id = (environ.get("PLUGGY_CLIENT_ID") or "").strip()
    secret = environ.get("PLUGGY_CLIENT_SECRET") or ""
    if not client_id or not secret:
        raise PluggyConfigError("PLUGGY_ITEM_IDS is set but PLUGGY_CLIENT_ID or PLUGGY_CLIENT_SECRET is not")
    return PluggySettings((environ.get("PLUGGY_BASE_URL") or DEFAULT_BASE_URL).strip(), client_id, secret, items)
