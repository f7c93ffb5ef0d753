"""`PluggyStandIn`: Pluggy's data API on 127.0.0.1 (the shared `LocalServer`), with its error shapes.

Endpoints: `POST /auth` (`{clientId, clientSecret}` -> `{apiKey}`), `GET /items/{id}`,
`GET /accounts?itemId=&page=&pageSize=` (`{total, totalPages, page, results}`),
`GET /v2/transactions?accountId=&dateFrom=&dateTo=[&after=]` (`{results, next}`, `next` the query string of the
next page), `GET /bills?accountId=&page=&pageSize=` (`{total, totalPages, page, results}`, a card's closed
bills). Every data call needs `X-API-KEY`. Errors are `{"code": <status>, "message": "..."}`: 401 for a missing,
unknown or expired key (keys last `key_lifetime_seconds`, 2 h like Pluggy's, or until `expire_keys()`), 404 for an
unknown item/account, and the faults `fail()` plants through the shared `FaultPlan` (`401`, `404`, `429` with
`Retry-After`, `500`, `503`, `cut`: a 200 whose body is cut off). `corrupt()` alters one transaction as served (a
malformed record for quarantine tests). `send_webhook(url, ...)` POSTs a webhook body like Pluggy's.
"""

import base64
import json
import secrets
import threading
import time
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import urlencode

import httpx

from ingestion.common import decimal_json
from sandboxes.common.faults import Fault, FaultPlan
from sandboxes.common.http_server import LocalServer, Request, Response
from sandboxes.pluggy.data import PluggyWorld, pluggy_id, world_from_truth

FAULT_KINDS = ("401", "404", "429", "500", "503", "cut")
TOO_MANY = "Too many requests. Please try again later (see Retry-After header in seconds)"


def _plain(value: Decimal) -> str:
    """`89.90` -> `89.9`, `100.00` -> `100`: how Pluggy writes its numbers."""
    return format(value.normalize(), "f")


def _encode(body) -> bytes:
    """JSON with Decimals as JSON numbers, written exactly (Pluggy sends numbers, e.g. 89.9)."""
    return decimal_json.dumps(body, decimal_text=_plain).encode()


def _error(status: int, message: str, headers: dict | None = None) -> Response:
    return Response(status, _encode({"code": status, "message": message}), headers=headers or {})


class PluggyStandIn(LocalServer):
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
        bills_page_size: int = 500,
        verbose: bool = False,
    ):
        super().__init__(port=port, name="pluggy-stand-in", verbose=verbose)
        self.world: PluggyWorld = world_from_truth(truth, today)
        self.today = today
        self.client_id = pluggy_id("client", secrets.token_hex(8))
        self.client_secret = secrets.token_urlsafe(24)
        self.key_lifetime_seconds = key_lifetime_seconds
        self.accounts_page_size, self.transactions_page_size = accounts_page_size, transactions_page_size
        self.bills_page_size = bills_page_size
        self.auth_calls = 0
        self.requests: list[tuple[str, str, dict]] = []
        self.faults = FaultPlan(FAULT_KINDS)
        self._keys: dict[str, float] = {}
        self._corrupt: dict[str, dict] = {}
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.base_url

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
    def fail(self, match: str, kind: int | str, times: int = 1, *, retry_after: int | None = None) -> None:
        """The next `times` requests whose target contains `match` get `kind` (a status, or `cut`)."""
        self.faults.add(Fault(str(kind), times, match, retry_after=retry_after))

    def expire_keys(self) -> None:
        """Every API key issued so far expires now (the next call with one gets 401)."""
        with self._lock:
            self._keys = {key: float("-inf") for key in self._keys}

    def corrupt(self, record_id: str, **fields) -> None:
        """Serve the transaction or bill (stand-in id) with `fields` replaced (None removes the field)."""
        self._corrupt[record_id] = fields

    def _fault_answer(self, fault: Fault) -> Response:
        if fault.kind == "cut":
            return Response(200, b'{"total": 2, "results": [{"id"')
        status = int(fault.kind)
        if status == 429:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
            return _error(429, TOO_MANY, headers)
        return _error(status, "Internal server error" if status >= 500 else "Fault")

    # ---- requests ----
    def handle(self, request: Request) -> Response:
        query = request.query_params()
        self.requests.append((request.method, request.path, query))
        fault = self.faults.take(request.target)
        if fault is not None:
            return self._fault_answer(fault)
        if request.method == "POST" and request.path == "/auth":
            return self._auth(request.body)
        if request.method != "GET":
            return _error(404, f"Cannot {request.method} {request.path}")
        problem = self._check_key(request.headers.get("x-api-key"))
        if problem:
            return _error(401, problem)
        if request.path.startswith("/items/"):
            item = self.world.items.get(request.path.removeprefix("/items/"))
            return Response(200, _encode(item)) if item else _error(404, "Item not found")
        if request.path == "/accounts":
            return self._accounts(query)
        if request.path == "/v2/transactions":
            return self._transactions(query)
        if request.path == "/bills":
            return self._bills(query)
        return _error(404, f"Cannot GET {request.path}")

    def _auth(self, body: bytes) -> Response:
        try:
            credentials = json.loads(body)
        except ValueError:
            return _error(400, "Invalid body")
        if not isinstance(credentials, dict) or (credentials.get("clientId"), credentials.get("clientSecret")) != (
            self.client_id,
            self.client_secret,
        ):
            return _error(401, "Invalid credentials")
        key = secrets.token_urlsafe(24)
        with self._lock:
            self.auth_calls += 1
            self._keys[key] = time.monotonic()
        return Response(200, _encode({"apiKey": key}))

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

    def _accounts(self, query: dict) -> Response:
        item_id = query.get("itemId", "")
        if item_id not in self.world.items:
            return _error(404, "Item not found")
        return self._page(self.world.accounts[item_id], query, self.accounts_page_size)

    def _bills(self, query: dict) -> Response:
        account_id = query.get("accountId", "")
        if account_id not in self.world.bills:
            return _error(404, "Account not found")
        return self._page([self._served(bill) for bill in self.world.bills[account_id]], query, self.bills_page_size)

    @staticmethod
    def _page(records: list[dict], query: dict, page_size: int) -> Response:
        """One page of a page-numbered list: `{total, totalPages, page, results}`."""
        try:
            page = max(1, int(query.get("page", "1")))
            size = min(page_size, max(1, int(query.get("pageSize", "20"))))
        except ValueError:
            return _error(400, "page and pageSize must be numbers")
        pages = max(1, -(-len(records) // size))
        results = records[(page - 1) * size : page * size]
        return Response(200, _encode({"total": len(records), "totalPages": pages, "page": page, "results": results}))

    def _served(self, record: dict) -> dict:
        change = self._corrupt.get(record["id"])
        if not change:
            return record
        served = {**record, **change}
        return {k: v for k, v in served.items() if v is not None or k not in change}

    def _transactions(self, query: dict) -> Response:
        account_id = query.get("accountId", "")
        if account_id not in self.world.transactions:
            return _error(404, "Account not found")
        try:
            start = date.fromisoformat(query["dateFrom"]) if query.get("dateFrom") else date.min
            end = date.fromisoformat(query["dateTo"]) if query.get("dateTo") else date.max
            offset = int(base64.urlsafe_b64decode(query["after"]).decode()) if query.get("after") else 0
        except (ValueError, KeyError):
            return _error(400, "Invalid dateFrom, dateTo or after")
        chosen = [
            self._served(record)
            for record in self.world.transactions[account_id]
            if start <= datetime.fromisoformat(record["date"].replace("Z", "+00:00")).date() <= end
        ]
        size = self.transactions_page_size
        following = None
        if offset + size < len(chosen):
            cursor = base64.urlsafe_b64encode(str(offset + size).encode()).decode()
            following = "?" + urlencode({**{k: v for k, v in query.items() if k != "after"}, "after": cursor})
        return Response(200, _encode({"results": chosen[offset : offset + size], "next": following}))

    # ---- webhooks ----
    def send_webhook(self, url: str, event: str, item_id: str, *, headers: dict | None = None, **fields) -> int:
        """POST a Pluggy-like webhook body (`event`, `eventId`, `itemId`, plus `fields`); returns the status."""
        body = {"event": event, "eventId": fields.pop("event_id", secrets.token_hex(16)), "itemId": item_id, **fields}
        sent = {"Content-Type": "application/json", **(headers or {})}
        return httpx.post(url, content=_encode(body), headers=sent, timeout=10).status_code
