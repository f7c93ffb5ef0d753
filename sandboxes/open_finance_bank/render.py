"""Answers in the official shape: `{"data", "links", "meta"}` envelopes, pagination links, error bodies.

Pagination follows the specs: `page` (1-based), `page-size` (default 25, at most 1000; the exchanges and
resources files treat values under 25 as 25) and an opaque `pagination-key` the sandbox puts in every link
after the first page. `links.self` is always there, `first`/`prev` when not on the first page, `next` when
not on the last, `last` too except on transaction lists (`TransactionsLinks` has no `last`).
"""

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

JSON = "application/json"
JSON_ERROR = "application/json; charset=utf-8"
MAX_PAGE_SIZE = 1000


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """Raised by a route: becomes the official error envelope."""

    def __init__(self, status: int, code: str, title: str, detail: str):
        super().__init__(detail)
        self.status, self.code, self.title, self.detail = status, code, title, detail


def request_time() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def json_reply(status: int, payload: object, content_type: str = JSON) -> Reply:
    return Reply(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), content_type)


def error_reply(status: int, code: str, title: str, detail: str) -> Reply:
    meta = {"totalRecords": 1, "totalPages": 1, "requestDateTime": request_time()}
    return json_reply(status, {"errors": [{"code": code, "title": title, "detail": detail}], "meta": meta}, JSON_ERROR)


ERROR_TITLES = {
    400: ("BAD_REQUEST", "Requisição malformada"),
    401: ("UNAUTHORIZED", "Não autorizado"),
    403: ("FORBIDDEN", "Acesso proibido"),
    404: ("NOT_FOUND", "Recurso não encontrado"),
    405: ("METHOD_NOT_ALLOWED", "Método não permitido"),
    422: ("UNPROCESSABLE_ENTITY", "Requisição não processável"),
    429: ("TOO_MANY_REQUESTS", "Muitas requisições"),
    500: ("INTERNAL_SERVER_ERROR", "Erro interno"),
    503: ("SERVICE_UNAVAILABLE", "Serviço indisponível"),
    504: ("GATEWAY_TIMEOUT", "Tempo de resposta esgotado"),
    529: ("SITE_IS_OVERLOADED", "Site sobrecarregado"),
}


def standard_error(status: int, detail: str) -> Reply:
    code, title = ERROR_TITLES[status]
    return error_reply(status, code, title, detail)


def single(data: dict, self_url: str, meta_totals: bool = False) -> dict:
    meta: dict = {"requestDateTime": request_time()}
    if meta_totals:
        meta = {"totalRecords": 1, "totalPages": 1, **meta}
    return {"data": data, "links": {"self": self_url}, "meta": meta}


def _int(query: dict[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, "PARAMETRO_INVALIDO", "Parâmetro inválido", f"{name} must be an integer") from None


def pagination_key(path: str, filters: dict[str, str]) -> str:
    return hashlib.sha256(f"{path}?{sorted(filters.items())}".encode()).hexdigest()[:24]


def paged(
    items: list[dict],
    base_url: str,
    path: str,
    query: dict[str, str],
    filters: dict[str, str],
    min_page_size: int = 1,
    totals: bool = True,
) -> dict:
    """One page of `items` with links and meta. `filters` are the query parameters every link carries."""
    size = _int(query, "page-size", 25)
    if size > MAX_PAGE_SIZE:
        raise ApiError(422, "PAGE_SIZE_INVALIDO", "Tamanho de página inválido", "page-size must be at most 1000")
    if size < 1:
        raise ApiError(422, "PAGE_SIZE_INVALIDO", "Tamanho de página inválido", "page-size must be at least 1")
    size = max(size, min_page_size)
    page = _int(query, "page", 1)
    pages = max(1, math.ceil(len(items) / size))
    if page < 1 or page > pages:
        raise ApiError(422, "PAGINA_INVALIDA", "Página inválida", f"page must be between 1 and {pages}")
    key = pagination_key(path, filters)

    def link(number: int) -> str:
        params = {**filters, "page": str(number), "page-size": str(size)}
        if number > 1:
            params["pagination-key"] = key
        return f"{base_url}{path}?{urlencode(params)}"

    links = {"self": link(page)}
    if page > 1:
        links.update(first=link(1), prev=link(page - 1))
    if page < pages:
        links["next"] = link(page + 1)
        if totals:
            links["last"] = link(pages)
    meta: dict = {"requestDateTime": request_time()}
    if totals:
        meta = {"totalRecords": len(items), "totalPages": pages, **meta}
    return {"data": items[(page - 1) * size : page * size], "links": links, "meta": meta}
