"""Pluggy's data API over httpx: API key from `POST /auth`, renewed before it expires and once after a 401; paging;
bounded retries on 429 (honouring `Retry-After` up to a bound), 5xx, timeouts and cut-off bodies, by the shared loop
of ingestion/common/retry.py.

Why not the official `pluggy-sdk` (PyPI, generated from Pluggy's OpenAPI file): README.md, "Why httpx". The
endpoints and shapes used here are the ones that SDK's models and Pluggy's docs describe:
- `POST /auth` `{clientId, clientSecret}` -> `{apiKey}`; the key goes in `X-API-KEY` and lasts 2 hours;
- `GET /items/{id}`;
- `GET /accounts?itemId=&page=&pageSize=` -> `{page, total, totalPages, results: [Account]}`;
- `GET /v2/transactions?accountId=&dateFrom=&dateTo=` -> `{results: [Transaction], next}`, where `next` is the
  query string of the next page (`?...&after=<cursor>`) or null. The page-numbered `GET /transactions` is
  deprecated by Pluggy until 2026-12-31 and not used.
- errors `{"code": <status>, "message": "..."}`; 429 with `Retry-After` (seconds).
Amounts are read as `Decimal` straight from the JSON text (`parse_float=Decimal`), never through a float.
"""

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qsl

import httpx

from ingestion.common.retry import RetryCounter, RetrySettings, TransientError, call_with_retry, retry_after_seconds
from ingestion.pluggy.errors import PluggyAuthError, PluggyHTTPError, PluggyPayloadError

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.pluggy.ai"
MAX_PAGES = 10_000  # a loop guard: a cursor that never ends fails instead of running forever


@dataclass(frozen=True)
class ClientSettings:
    """Bounds of every call. Tests use tiny waits."""

    timeout_seconds: float = 30.0
    connect_timeout_seconds: float = 10.0
    max_attempts: int = 5  # per request, first try included
    wait_initial: float = 1.0  # backoff: wait_initial * 2^n plus up to wait_initial of jitter, capped at wait_max
    wait_max: float = 30.0
    max_retry_after: float = 60.0  # a 429 asking to wait longer than this fails at once, saying so
    key_lifetime_seconds: float = 2 * 3600.0  # Pluggy's documented API key lifetime
    key_refresh_margin_seconds: float = 600.0  # renew this long before the documented expiry
    accounts_page_size: int = 500
    bills_page_size: int = 500  # pluggy-sdk: 1..500, default 500


def _json(text: str):
    return json.loads(text, parse_float=Decimal)


def _message(response: httpx.Response) -> str:
    """Pluggy's `{"code", "message"}` error body, or the start of whatever came back."""
    try:
        body = _json(response.text)
        if isinstance(body, dict) and body.get("message"):
            return str(body["message"])[:300]
    except ValueError:
        pass
    return response.text[:300].replace("\n", " ") or response.reason_phrase


class PluggyClient:
    """One connection to Pluggy. `calls` counts requests per endpoint, `retries` the retried ones by reason,
    `auth_calls` the API keys asked for. Use as a context manager (or `close()`)."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        settings: ClientSettings = ClientSettings(),
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not client_id or not client_secret:
            raise PluggyAuthError("Pluggy client id and secret are required (PLUGGY_CLIENT_ID, PLUGGY_CLIENT_SECRET)")
        self.base_url = base_url.rstrip("/")
        self._client_id, self._client_secret = client_id, client_secret
        self.settings, self._clock, self._sleep = settings, clock, sleep
        self._retry = RetrySettings(
            max_attempts=settings.max_attempts,
            wait_initial=settings.wait_initial,
            wait_max=settings.wait_max,
            max_retry_after=settings.max_retry_after,
        )
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(settings.timeout_seconds, connect=settings.connect_timeout_seconds),
            headers={"Accept": "application/json"},
        )
        self._key: str | None = None
        self._key_expires = 0.0
        self.calls: Counter[str] = Counter()
        self.retries = RetryCounter()
        self.auth_calls = 0

    def __enter__(self) -> "PluggyClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # ---- requests ----------------------------------------------------------------------------------------------

    def _send(self, method: str, endpoint: str, path: str, *, item_id: str | None, **kwargs) -> httpx.Response:
        """One logical request with its bounded retries (ingestion/common/retry.py); returns a 2xx (its JSON in
        `.body`) or 4xx response, raises `PluggyHTTPError` after the last attempt. 401/403 are returned to the
        caller, which decides about the key."""

        def attempt(number: int) -> httpx.Response:
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TimeoutException as error:
                raise TransientError("timeout", f"timed out ({type(error).__name__})") from error
            except httpx.TransportError as error:
                raise TransientError("connection", f"connection failed ({type(error).__name__}: {error})") from error
            self.calls[endpoint] += 1
            return self._judge(response, endpoint, item_id, number)

        try:
            return call_with_retry(
                attempt,
                source="Pluggy",
                request=endpoint + (f" (item {item_id})" if item_id else ""),
                settings=self._retry,
                sleep=self._sleep,
                retries=self.retries,
            )
        except TransientError as error:
            detail = error.detail or error.kind
            raise PluggyHTTPError(endpoint, error.status, detail, item_id=item_id, attempts=error.attempts) from None

    def _judge(self, response: httpx.Response, endpoint: str, item_id: str | None, attempt: int) -> httpx.Response:
        """Pluggy's retry rules for one answer: 429 (after its Retry-After, unless that is over the bound), 5xx and
        a body that is not JSON are transient; a 2xx gets its parsed body in `.body`; other 4xx are returned."""
        status = response.status_code
        if status == 429:
            asked = retry_after_seconds(response)
            if asked is not None and asked > self.settings.max_retry_after:
                raise PluggyHTTPError(
                    endpoint,
                    429,
                    f"rate limited and asked to wait {asked:g} s, over the bound of "
                    f"{self.settings.max_retry_after:g} s: {_message(response)}",
                    item_id=item_id,
                    attempts=attempt,
                )
            raise TransientError("429", _message(response), status=429, retry_after=asked)
        if status >= 500:
            raise TransientError(
                str(status), _message(response), status=status, retry_after=retry_after_seconds(response)
            )
        if status >= 400:
            return response
        try:
            response.body = _json(response.text)  # parsed once, here: a cut-off body is retried
        except ValueError:
            raise TransientError("unreadable body", "a body that is not JSON (cut off?)", status=status) from None
        return response

    def _authenticate(self) -> None:
        self.auth_calls += 1
        response = self._send(
            "POST",
            "POST /auth",
            "/auth",
            item_id=None,
            json={"clientId": self._client_id, "clientSecret": self._client_secret},
        )
        if response.status_code >= 400:
            raise PluggyAuthError(
                f"Pluggy POST /auth refused the client credentials (HTTP {response.status_code}: "
                f"{_message(response)}); check PLUGGY_CLIENT_ID and PLUGGY_CLIENT_SECRET"
            )
        key = response.body.get("apiKey") if isinstance(response.body, dict) else None
        if not isinstance(key, str) or not key:
            raise PluggyPayloadError("Pluggy POST /auth answered without an apiKey")
        self._key = key
        self._key_expires = (
            self._clock() + self.settings.key_lifetime_seconds - self.settings.key_refresh_margin_seconds
        )

    def _api_key(self) -> str:
        if self._key is None or self._clock() >= self._key_expires:
            self._authenticate()
        return self._key

    def get(self, endpoint: str, path: str, params: dict | None = None, *, item_id: str | None = None):
        """GET with the API key: a 401/403 drops the key and tries once more with a fresh one."""
        for fresh_key in (False, True):
            response = self._send(
                "GET", endpoint, path, item_id=item_id, params=params, headers={"X-API-KEY": self._api_key()}
            )
            if response.status_code in (401, 403) and not fresh_key:
                log.warning(
                    "Pluggy %s: HTTP %d (%s); asking for a new API key",
                    endpoint,
                    response.status_code,
                    _message(response),
                )
                self._key = None
                continue
            if response.status_code in (401, 403):
                raise PluggyAuthError(
                    f"Pluggy {endpoint}"
                    + (f" (item {item_id})" if item_id else "")
                    + f" refused a fresh API key (HTTP {response.status_code}: {_message(response)})"
                )
            if response.status_code >= 400:
                raise PluggyHTTPError(endpoint, response.status_code, _message(response), item_id=item_id)
            return response.body
        raise AssertionError("unreachable")

    # ---- resources ---------------------------------------------------------------------------------------------

    def item(self, item_id: str) -> dict:
        body = self.get("GET /items/{id}", f"/items/{item_id}", item_id=item_id)
        if not isinstance(body, dict) or "id" not in body:
            raise PluggyPayloadError(f"Pluggy GET /items/{{id}} (item {item_id}): the body is not an Item")
        return body

    def _pages(self, endpoint: str, path: str, params: dict, what: str, item_id: str | None) -> list[dict]:
        """Every `results` of a page-numbered list (`page`, `pageSize`, `totalPages`), page by page."""
        results, page = [], 1
        while page <= MAX_PAGES:
            body = self.get(endpoint, path, {**params, "page": page}, item_id=item_id)
            if not isinstance(body, dict) or not isinstance(body.get("results"), list):
                raise PluggyPayloadError(f"Pluggy {endpoint} ({what}, page {page}): no `results` list")
            results.extend(body["results"])
            total_pages = body.get("totalPages") or 1
            if page >= int(total_pages) or not body["results"]:
                return results
            page += 1
        raise PluggyPayloadError(f"Pluggy {endpoint} ({what}): more than {MAX_PAGES} pages")

    def accounts(self, item_id: str) -> list[dict]:
        """Every account of the item (BANK and CREDIT), page by page (`page`, `totalPages`)."""
        params = {"itemId": item_id, "pageSize": self.settings.accounts_page_size}
        return self._pages("GET /accounts", "/accounts", params, f"item {item_id}", item_id)

    def bills(self, account_id: str, *, item_id: str | None = None) -> list[dict]:
        """Every bill (fatura) Pluggy lists for a credit card account, page by page: `GET /bills?accountId=`
        answers `{page, total, totalPages, results: [Bill]}` (pluggy-sdk `BillApi.bills_list`,
        `BillsList200Response`); Pluggy lists closed bills only."""
        params = {"accountId": account_id, "pageSize": self.settings.bills_page_size}
        return self._pages("GET /bills", "/bills", params, f"item {item_id}, account {account_id}", item_id)

    def transactions(
        self, account_id: str, date_from: date, date_to: date, *, item_id: str | None = None
    ) -> Iterator[dict]:
        """The account's transactions dated `date_from`..`date_to` (inclusive), following the `next` cursor."""
        params = {"accountId": account_id, "dateFrom": date_from.isoformat(), "dateTo": date_to.isoformat()}
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            body = self.get("GET /v2/transactions", "/v2/transactions", params, item_id=item_id)
            if not isinstance(body, dict) or not isinstance(body.get("results"), list):
                raise PluggyPayloadError(
                    f"Pluggy GET /v2/transactions (item {item_id}, account {account_id}): no `results` list"
                )
            yield from body["results"]
            following = body.get("next")
            if not following:
                return
            if not isinstance(following, str) or following in seen:
                raise PluggyPayloadError(
                    f"Pluggy GET /v2/transactions (item {item_id}, account {account_id}): the `next` cursor "
                    f"{following!r} repeats or is not a query string"
                )
            seen.add(following)
            params = dict(parse_qsl(following.lstrip("?"), keep_blank_values=True))
        raise PluggyPayloadError(f"Pluggy GET /v2/transactions (account {account_id}): more than {MAX_PAGES} pages")
