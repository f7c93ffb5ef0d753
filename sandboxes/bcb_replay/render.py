"""Response bodies in the live APIs' exact formats (status codes and error texts as recorded or quoted).

Sources for each shape are in reference README §1-§4 (copied to data/bcb_replay/sources/REFERENCE_README.md):
SGS JSON/CSV and its 404 "Value(s) not found" / 406 10-year-window / 400 `ultimos` errors; the Olinda envelope
and its `/*{...}*/` error; the closing file's `;` lines with comma decimals and 8 decimals.
"""

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ingestion.common import decimal_json

JSON = "application/json; charset=utf-8"
OLINDA_JSON = "application/json;odata.metadata=minimal;charset=utf-8"
CSV = "text/csv; charset=utf-8"
HTML = "text/html; charset=utf-8"
OLINDA_CONTEXT = "https://was-p.bcnet.bcb.gov.br/olinda/servico/{service}/versao/v1/odata$metadata#{resource}"
SGS_EXCEPTION = "br.gov.bcb.pec.sgs.comum.excecoes.SGSNegocioException"

# The window-rule body as quoted by the reference (its "..." elisions are kept: the full text is not public).
SGS_WINDOW_ERROR = {
    "error": "O sistema aceita uma janela de consulta de, no máximo, 10 anos em séries de periodicidade diária",
    "message": "Para acessar uma série de periodicidade diária, é necessário informar a dataInicial - "
    "parâmetro textual ... no formato dd/mm/aaaa. Pode-se também especificar a dataFinal (opcional) ...",
    "syntax": "Para ler os últimos 10 anos, a partir da data de hoje, ... dataInicial=29/03/2015&dataFinal=29/03/2025",
}


@dataclass
class Reply:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def dumps(value: Any) -> str:
    """Compact JSON that writes Decimal as the number it is (`4.89100` stays `4.89100`), as the BCB's APIs do."""
    return decimal_json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def json_reply(status: int, payload: Any, content_type: str = JSON) -> Reply:
    return Reply(status, content_type, dumps(payload).encode("utf-8"))


def sgs_json(rows: list[tuple[date, str]]) -> Reply:
    return json_reply(200, [{"data": f"{day:%d/%m/%Y}", "valor": value} for day, value in rows])


def sgs_csv(rows: list[tuple[date, str]]) -> Reply:
    lines = ['"data";"valor"'] + [f'"{day:%d/%m/%Y}";"{value.replace(".", ",")}"' for day, value in rows]
    return Reply(200, CSV, ("\r\n".join(lines) + "\r\n").encode("utf-8"))


def sgs_business_error(status: int, detail: str) -> Reply:
    return json_reply(status, {"erro": {"statusCode": status, "detail": f"{SGS_EXCEPTION}: {detail}"}})


def sgs_not_found() -> Reply:
    return sgs_business_error(404, "Value(s) not found")


def sgs_window_error() -> Reply:
    return json_reply(406, SGS_WINDOW_ERROR)


def olinda_rows(service: str, resource: str, rows: list[dict], selected: list[str] | None = None) -> Reply:
    context_resource = f"{resource}({','.join(selected)})" if selected else resource
    context = OLINDA_CONTEXT.format(service=service, resource=context_resource)
    return json_reply(200, {"@odata.context": context, "value": rows}, OLINDA_JSON)


def olinda_error(status: int, message: str) -> Reply:
    body = f'/*{{"codigo" : {status},"mensagem" : {json.dumps(message, ensure_ascii=False)}}}*/'
    return Reply(status, JSON, body.encode("utf-8"))


def eight(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.00000001")), "f").replace(".", ",")


def closing_file(day: date, rows: list[tuple[str, str, str, Any]]) -> Reply:
    lines = [
        f"{day:%d/%m/%Y};{code};{kind};{symbol};{eight(r.buy)};{eight(r.sell)};"
        f"{eight(r.parity_buy)};{eight(r.parity_sell)}"
        for code, kind, symbol, r in rows
    ]
    return Reply(200, CSV, ("\n".join(lines) + "\n").encode("utf-8"))


def html_page(status: int, title: str) -> Reply:
    page = (
        f"<!DOCTYPE html>\n<html><head><title>{title}</title></head>"
        f"<body><h1>{title}</h1><p>Banco Central do Brasil</p></body></html>\n"
    )
    return Reply(status, HTML, page.encode("utf-8"))


def not_found_page() -> Reply:
    return html_page(404, "404 - Not Found")
