"""The DUIMP (Declaração Única de Importação, Portal Único Siscomex) as JSON: `parse` reads it, `render` writes it.

No public sample of a registered DUIMP's JSON could be found (see ingestion/customs/README.md), so the shape is
the platform's reading of the Portal Único's DUIMP consultation (`identificacao`, `carga`, `itens`,
`tributos`), kept to the fields the platform uses:

    {"identificacao": {"numero": "24BR12345678901", "versao": 1, "dataRegistro": "2024-10-03",
                       "importador": {"ni": "<CNPJ>"}, "unidadeDespacho": {"codigo": "0817600"}},
     "carga": {"frete": {"valorBRL": 1234.56}, "seguro": {"valorBRL": 12.34}},
     "cambio": {"moeda": "USD", "taxa": 5.4321},
     "itens": [{"numeroItem": 1, "ncm": "85171231", "valorAduaneiroBRL": 10000.00,
                "tributos": [{"tributo": "II", "aliquota": 16.00, "valorARecolher": 1600.00}, ...]}],
     "tributos": {"pagamentos": [{"tributo": "II", "codigoReceita": "0086", "valor": 1600.00,
                                  "dataPagamento": "2024-10-03"}, ...]}}

`numero` is 15 characters (`24BR` + 10 digits + the check digit), written `24BR1234567890-1` on the platform,
as the ERP does. Numbers are read as Decimal (never float); a number written as a string is accepted too.
"""

import json
import re
from decimal import Decimal

from ingestion.common import decimal_json
from ingestion.customs.di_xml import CODE_OF_TAX, DeclarationFormatError

ITEM_TAXES = ("II", "IPI", "PIS", "COFINS")


def declaration_id(number: object) -> object:
    """`24BR12345678901` -> `24BR1234567890-1`; other values are returned as they are, for the contract."""
    if isinstance(number, str) and re.fullmatch(r"\d{2}BR\d{11}", number.strip()):
        text = number.strip()
        return f"{text[:14]}-{text[14]}"
    return number.strip() if isinstance(number, str) else number


def _get(node: object, *path: str) -> object:
    for name in path:
        if not isinstance(node, dict):
            return None
        node = node.get(name)
    return node


def _one(document: dict, source_file: str) -> dict:
    ident = document.get("identificacao") or {}
    key = {"declaration_id": declaration_id(ident.get("numero")), "version": ident.get("versao")}
    header = {
        **key,
        "declaration_type": "DUIMP",
        "source_format": "DUIMP_JSON",
        "importer_cnpj": _get(ident, "importador", "ni"),
        "registration_date": ident.get("dataRegistro"),
        "customs_unit": _get(ident, "unidadeDespacho", "codigo"),
        "currency": _get(document, "cambio", "moeda"),
        "exchange_rate": _get(document, "cambio", "taxa"),
        "freight_brl": _get(document, "carga", "frete", "valorBRL"),
        "insurance_brl": _get(document, "carga", "seguro", "valorBRL"),
        "source_file": source_file,
    }
    items = []
    for item in document.get("itens") or []:
        taxes = {t.get("tributo"): t for t in (item.get("tributos") or []) if isinstance(t, dict)}
        row = {
            **key,
            "item_number": item.get("numeroItem"),
            "ncm": item.get("ncm"),
            "customs_value_brl": item.get("valorAduaneiroBRL"),
        }
        for tax in ITEM_TAXES:
            row[f"{tax.lower()}_rate_pct"] = _get(taxes, tax, "aliquota")
            row[f"{tax.lower()}_brl"] = _get(taxes, tax, "valorARecolher")
        items.append(row)
    payments = [
        {
            **key,
            "tax": payment.get("tributo"),
            "revenue_code": payment.get("codigoReceita"),
            "amount_brl": payment.get("valor"),
            "payment_date": payment.get("dataPagamento"),
        }
        for payment in (_get(document, "tributos", "pagamentos") or [])
        if isinstance(payment, dict)
    ]
    return {"declaration": header, "items": items, "taxes": payments}


def parse(data: bytes, source_file: str) -> list[dict]:
    """The declaration(s) in the file (one object, or a list of them) as `{"declaration", "items", "taxes"}`."""
    try:
        document = json.loads(data.decode("utf-8-sig"), parse_float=Decimal)
    except UnicodeDecodeError as error:
        raise DeclarationFormatError(f"not UTF-8 text ({error})") from None
    except json.JSONDecodeError as error:
        raise DeclarationFormatError(f"not valid JSON ({error})") from None
    documents = document if isinstance(document, list) else [document]
    if not documents or not all(isinstance(d, dict) and isinstance(d.get("identificacao"), dict) for d in documents):
        raise DeclarationFormatError(
            "no DUIMP in the file: a DUIMP export is a JSON object (or a list of them) with an 'identificacao' object"
        )
    return [_one(d, source_file) for d in documents]


# --- writing (the demo generator's exports) ---------------------------------------------------------------------


def _number(value: Decimal) -> Decimal:
    """The amount in plain notation (`1234.50`, never `1.2345E+3`), still a Decimal: written as a JSON number."""
    return Decimal(f"{value:f}")


def render(declaration: dict, items: list[dict], taxes: list[dict]) -> bytes:
    """One DUIMP as JSON in the shape `parse` reads (amounts as JSON numbers, exact)."""
    number = declaration["declaration_id"].replace("-", "")
    document = {
        "identificacao": {
            "numero": number,
            "versao": declaration["version"],
            "dataRegistro": declaration["registration_date"].isoformat(),
            "importador": {"ni": declaration["importer_cnpj"]},
            "unidadeDespacho": {"codigo": declaration["customs_unit"]},
        },
        "carga": {
            "frete": {"valorBRL": _number(declaration["freight_brl"])},
            "seguro": {"valorBRL": _number(declaration["insurance_brl"])},
        },
        "cambio": {"moeda": declaration["currency"], "taxa": _number(declaration["exchange_rate"])},
        "itens": [
            {
                "numeroItem": item["item_number"],
                "ncm": item["ncm"],
                "valorAduaneiroBRL": _number(item["customs_value_brl"]),
                "tributos": [
                    {
                        "tributo": tax,
                        "aliquota": _number(item[f"{tax.lower()}_rate_pct"]),
                        "valorARecolher": _number(item[f"{tax.lower()}_brl"]),
                    }
                    for tax in ITEM_TAXES
                ],
            }
            for item in items
        ],
        "tributos": {
            "pagamentos": [
                {
                    "tributo": tax["tax"],
                    "codigoReceita": CODE_OF_TAX[tax["tax"]],
                    "valor": _number(tax["amount_brl"]),
                    "dataPagamento": tax["payment_date"].isoformat(),
                }
                for tax in taxes
            ]
        },
    }
    return (decimal_json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
