"""`PluggyStandIn`: Pluggy's data API on 127.0.0.1 (stdlib `ThreadingHTTPServer`), with its error shapes.

Endpoints: `POST /auth` (`{clientId, clientSecret}` -> `{apiKey}`), `GET /items/{id}`,
`GET /accounts?itemId=&page=&pageSize=` (`{total, totalPages, page, results}`),
`GET /v2/transactions?accountId=&dateFrom=&dateTo=[&after=]` (`{results, next}`, `next` the query string of the
next page). Every data call needs `X-API-KEY`. Errors are `{"code": <status>, "message": "..."}`:
401 for a missing, unknown or expired key (keys last `key_lifetime_seconds`, 2 h like Pluggy's, or until
`expire_keys()`), 404 for an unknown item/account, and whatever `fail()` plants (429 with `Retry-After`, 500, a
cut-off body). `corrupt()` alters one transaction as served (a malformed record for quarantine tests).
`send_webhook(url, ...)` POSTs a webhook body like Pluggy's.
"""

import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from sandboxes.pluggy.data import PluggyWorld, pluggy_id, world_from_truth

_DECIMAL = re.compile(r'"__decimal__(-?[0-9.]+)__"')


def _encode(body) -> bytes:
    """JSON with Decimals as JSON numbers, written exactly (Pluggy sends numbers, e.g. 89.9)."""

    def default(value):
        if isinstance(value, Decimal):
            text = format(value.normalize(), "f")
            return f"__decimal__{text}__"
        raise TypeError(f"not JSON: {type(value).__name__}")

    return _DECIMAL.sub(r"\1", json.dumps(body, default=default)).encode()


@dataclass
class Fault:
    path_prefix: str
    status: int
    times: int
    retry_after: str | None = None
    body: bytes | None = None  # None: the standard error body


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:  # noqa: A002
        pass

    def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str, headers: dict | None = None) -> None:
        self._send(status, _encode({"code": status, "message": message}), headers)

    def _route(self, method: str) -> None:
        stand_in = self.server.stand_in
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        stand_in.requests.append((method, url.path, query))
        fault = stand_in._take_fault(url.path)
        if fault is not None:
            if fault.body is not None:
                self._send(fault.status, fault.body)
            elif fault.status == 429:
                message = "Too many requests. Please try again later (see Retry-After header in seconds)"
                self._error(429, message, {"Retry-After": fault.retry_after} if fault.retry_after else None)
            else:
                self._error(fault.status, "Internal server error" if fault.status >= 500 else "Fault")
            return
        if method == "POST" and url.path == "/auth":
            self._auth(body)
            return
        if method != "GET":
            self._error(404, f"Cannot {method} {url.path}")
            return
        problem = stand_in._check_key(self.headers.get("X-API-KEY"))
        if problem:
            self._error(401, problem)
            return
        if url.path.startswith("/items/"):
            item = stand_in.world.items.get(url.path.removeprefix("/items/"))
            self._send(200, _encode(item)) if item else self._error(404, "Item not found")
        elif url.path == "/accounts":
            self._accounts(query)
        elif url.path == "/v2/transactions":
            self._transactions(query)
        else:
            self._error(404, f"Cannot GET {url.path}")

    def do_POST(self) -> None:  # noqa: N802
        self._route("POST")

    def do_GET(self) -> None:  # noqa: N802
        self._route("GET")

    def _auth(self, body: bytes) -> None:
        stand_in = self.server.stand_in
        try:
            credentials = json.loads(body)
        except ValueError:
            self._error(400, "Invalid body")
            return
        if not isinstance(credentials, dict) or (credentials.get("clientId"), credentials.get("clientSecret")) != (
            stand_in.client_id,
            stand_in.client_secret,
        ):
            self._error(401, "Invalid credentials")
            return
        stand_in.auth_calls += 1
        key = secrets.token_urlsafe(24)
        with stand_in._lock:
            stand_in._keys[key] = time.monotonic()
        self._send(200, _encode({"apiKey": key}))

    def _accounts(self, query: dict) -> None:
        stand_in = self.server.stand_in
        item_id = query.get("itemId", "")
        if item_id not in stand_in.world.items:
            self._error(404, "Item not found")
            return
        try:
            page = max(1, int(query.get("page", "1")))
            size = min(stand_in.accounts_page_size, max(1, int(query.get("pageSize", "20"))))
        except ValueError:
            self._error(400, "page and pageSize must be numbers")
            return
        accounts = stand_in.world.accounts[item_id]
        pages = max(1, -(-len(accounts) // size))
        results = accounts[(page - 1) * size : page * size]
        self._send(200, _encode({"total": len(accounts), "totalPages": pages, "page": page, "results": results}))

    def _transactions(self, query: dict) -> None:
        stand_in = self.server.stand_in
        account_id = query.get("accountId", "")
        if account_id not in stand_in.world.transactions:
            self._error(404, "Account not found")
            return
        try:
            start = date.fromisoformat(query["dateFrom"]) if query.get("dateFrom") else date.min
            end = date.fromisoformat(query["dateTo"]) if query.get("dateTo") else date.max
            offset = int(base64.urlsafe_b64decode(query["after"]).decode()) if query.get("after") else 0
        except (ValueError, KeyError):
            self._error(400, "Invalid dateFrom, dateTo or after")
            return
        chosen = [
            stand_in._served(record)
            for record in stand_in.world.transactions[account_id]
            if start <= datetime.fromisoformat(record["date"].replace("Z", "+00:00")).date() <= end
        ]
        size = stand_in.transactions_page_size
        page = chosen[offset : offset + size]
        following = None
        if offset + size < len(chosen):
            cursor = base64.urlsafe_b64encode(str(offset + size).encode()).decode()
            rest = {k: v for k, v in query.items() if k != "after"}
            following = "?" + urlencode({**rest, "after": cursor})
        self._send(200, _encode({"results": page, "next": following}))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    stand_in: "PluggyStandIn"


class PluggyStandIn:
    """`with PluggyStandIn(truth, today=date(2024, 12, 31)) as pluggy: pluggy.url, pluggy.env()`."""

    def __init__(
        self,
        truth: dict[str, list[dict]],
        today: date,
        *,
        port: int = 0,
        key_lifetime_seconds: float = 7200.0,
        accounts_page_size: int = 20,
        transactions_page_size: int = 500,
    ):
        self.world: PluggyWorld = world_from_truth(truth, today)
        self.today = today
        self.client_id = pluggy_id("client", secrets.token_hex(8))
        self.client_secret = secrets.token_urlsafe(24)
        self.key_lifetime_seconds = key_lifetime_seconds
        self.accounts_page_size, self.transactions_page_size = accounts_page_size, transactions_page_size
        self.auth_calls = 0
        self.requests: list[tuple[str, str, dict]] = []
        self._keys: dict[str, float] = {}
        self._faults: list[Fault] = []
        self._corrupt: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.stand_in = self
        self._thread: threading.Thread | None = None

    # ---- lifecycle ----
    def __enter__(self) -> "PluggyStandIn":
        self._thread = threading.Thread(target=self._server.serve_forever, name="pluggy-stand-in", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def item_ids(self) -> dict[str, str]:
        """COMPE code -> item id."""
        return {compe: item for item, compe in self.world.compe.items()}

    def env(self) -> dict[str, str]:
        """The PLUGGY_* variables pointing here, one item per bank named `bank_<COMPE>` like the Open Finance demo."""
        items = ",".join(f"bank_{compe}:{compe}={item}" for compe, item in sorted(self.item_ids().items()))
        return {
            "PLUGGY_BASE_URL": self.url,
            "PLUGGY_CLIENT_ID": self.client_id,
            "PLUGGY_CLIENT_SECRET": self.client_secret,
            "PLUGGY_ITEM_IDS": items,
        }

    # ---- faults ----
    def fail(self, path_prefix: str, status: int, times: int = 1, *, retry_after: str | None = None, body=None):
        """The next `times` requests whose path starts with `path_prefix` get `status` (429: with `retry_after`)."""
        with self._lock:
            self._faults.append(Fault(path_prefix, status, times, retry_after, body))

    def expire_keys(self) -> None:
        """Every API key issued so far expires now (the next call with one gets 401)."""
        with self._lock:
            self._keys = {key: float("-inf") for key in self._keys}

    def corrupt(self, transaction_id: str, **fields) -> None:
        """Serve the transaction (stand-in id) with `fields` replaced (None removes the field)."""
        self._corrupt[transaction_id] = fields

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.path_prefix) and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def _check_key(self, key: str | None) -> str | None:
        if not key:
            return "Missing API key (X-API-KEY header)"
        with self._lock:
            issued = self._keys.get(key)
        if issued is None:
            return "Invalid API key"
        if time.monotonic() - issued > self.key_lifetime_seconds:
            return "API key expired"
        return None

    def _served(self, record: dict) -> dict:
        change = self._corrupt.get(record["id"])
        if not change:
            return record
        served = {**record, **change}
        return {k: v for k, v in served.items() if v is not None or k not in change}

    # ---- webhooks ----
    def send_webhook(self, url: str, event: str, item_id: str, *, headers: dict | None = None, **fields) -> int:
        """POST a Pluggy-like webhook body (`event`, `eventId`, `itemId`, plus `fields`); returns the status."""
        body = {"event": event, "eventId": fields.pop("event_id", secrets.token_hex(16)), "itemId": item_id, **fields}
        response = httpx.post(
            url, content=_encode(body), headers={"Content-Type": "application/json", **(headers or {})}, timeout=10
        )
        return response.status_code
