"""The legacy DI (Declaração de Importação) as Siscomex exports it to XML: `parse` reads it, `render` writes it.

The shape is the Siscomex DI export that brokers deliver (`<ListaDeclaracoes><declaracaoImportacao>`, one
`<adicao>` per addition, one `<pagamento>` per tax debited). Numbers are zero-padded digits with implied decimal
places: amounts in centavos (15 digits: `000000005428234` is 54,282.34), rates in hundredths of a percent
(5 digits: `01080` is 10.80 %); dates are `YYYYMMDD`; `numeroDI` is the 10 digits of `24/1234567-8`. Tag names
follow public DI XML samples (see ingestion/customs/README.md for the sources). Only the tags the platform
uses are read; the many others (importer address, transport, packaging) are left alone.

A file that is not XML, or has no declaration, raises `DeclarationFormatError` (the whole file is quarantined);
a malformed value is passed on as its text, so the contract quarantines that one record naming the column.
"""

from datetime import date
from decimal import Decimal
from xml.etree import ElementTree

from ingestion.customs.contracts import REVENUE_CODES

CURRENCY_CODES = {"220": "USD", "978": "EUR", "795": "CNY"}  # Banco Central currency codes used by Siscomex
CODE_OF_CURRENCY = {iso: code for code, iso in CURRENCY_CODES.items()}
CODE_OF_TAX = {tax: code for code, tax in REVENUE_CODES.items()}
# (the item field, the <adicao> tag of its rate, the tag of the amount paid)
ITEM_TAXES = (
    ("ii", "iiAliquotaAdValorem", "iiAliquotaValorRecolher"),
    ("ipi", "ipiAliquotaAdValorem", "ipiAliquotaValorRecolher"),
    ("pis", "pisPasepAliquotaAdValorem", "pisPasepAliquotaValorRecolher"),
    ("cofins", "cofinsAliquotaAdValorem", "cofinsAliquotaValorRecolher"),
)


class DeclarationFormatError(ValueError):
    """The file cannot be read as a declaration at all; the message is the reason."""


def _fixed(text: str | None, places: int) -> Decimal | str | None:
    """`000000005428234` with 2 places -> Decimal('54282.34'); blank -> None; anything else stays text."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    return Decimal(int(text)).scaleb(-places) if text.isdigit() else text


def _date(text: str | None) -> date | str | None:
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8])) if len(text) == 8 and text.isdigit() else text
    except ValueError:
        return text


def declaration_id(number: str | None) -> str | None:
    """`2412345678` -> `24/1234567-8` (the ERP's spelling); other text is returned as it is, for the contract."""
    if number is None:
        return None
    digits = number.strip().replace("/", "").replace("-", "")
    return f"{digits[:2]}/{digits[2:9]}-{digits[9]}" if len(digits) == 10 and digits.isdigit() else number.strip()


def _text(element, tag: str) -> str | None:
    found = element.find(tag)
    return found.text if found is not None and found.text is not None else None


def _one(node, source_file: str) -> dict:
    number = declaration_id(_text(node, "numeroDI"))
    rectification = _text(node, "sequencialRetificacao")
    version = int(rectification) + 1 if rectification and rectification.strip().isdigit() else rectification
    key = {"declaration_id": number, "version": version}
    additions = node.findall("adicao")
    currency_code = next((_text(a, "condicaoVendaMoedaCodigo") for a in additions), None)
    header = {
        **key,
        "declaration_type": "DI",
        "source_format": "DI_XML",
        "importer_cnpj": _text(node, "importadorNumero"),
        "registration_date": _date(_text(node, "dataRegistro")),
        "customs_unit": _text(node, "urfDespachoCodigo"),
        "currency": CURRENCY_CODES.get((currency_code or "").strip(), currency_code),
        "exchange_rate": None,  # the DI XML carries no rate field (only free text in informacaoComplementar)
        "freight_brl": _fixed(_text(node, "freteTotalReais"), 2),
        "insurance_brl": _fixed(_text(node, "seguroTotalReais"), 2),
        "source_file": source_file,
    }
    items = []
    for addition in additions:
        item = {
            **key,
            "item_number": _text(addition, "numeroAdicao"),
            "ncm": _text(addition, "dadosMercadoriaCodigoNcm"),
            "customs_value_brl": _fixed(_text(addition, "iiBaseCalculo"), 2),
        }
        for name, rate_tag, amount_tag in ITEM_TAXES:
            item[f"{name}_rate_pct"] = _fixed(_text(addition, rate_tag), 2)
            item[f"{name}_brl"] = _fixed(_text(addition, amount_tag), 2)
        items.append(item)
    taxes = []
    for payment in node.findall("pagamento"):
        code = (_text(payment, "codigoReceita") or "").strip()
        taxes.append(
            {
                **key,
                "tax": REVENUE_CODES.get(code, f"unknown revenue code {code!r}"),
                "revenue_code": code,
                "amount_brl": _fixed(_text(payment, "valorReceita"), 2),
                "payment_date": _date(_text(payment, "dataPagamento")),
            }
        )
    return {"declaration": header, "items": items, "taxes": taxes}


def parse(data: bytes, source_file: str) -> list[dict]:
    """Every declaration in the file as `{"declaration": row, "items": [rows], "taxes": [rows]}` (contract column
    names; values native where they could be read, else their text)."""
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise DeclarationFormatError(f"not well-formed XML ({error})") from None
    nodes = [root] if root.tag == "declaracaoImportacao" else root.findall("declaracaoImportacao")
    if root.tag not in ("ListaDeclaracoes", "declaracaoImportacao") or not nodes:
        raise DeclarationFormatError(
            f"no DI in the file: the root is <{root.tag}>, a DI export is <ListaDeclaracoes> holding "
            "<declaracaoImportacao> elements"
        )
    return [_one(node, source_file) for node in nodes]


# --- writing (the demo generator's exports) ---------------------------------------------------------------------


def _digits(value: Decimal, places: int, width: int) -> str:
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than {places} decimal places: the DI XML field cannot hold it")
    return f"{int(scaled):0{width}d}"


def _add(parent, tag: str, text: str) -> None:
    ElementTree.SubElement(parent, tag).text = text


def render(declaration: dict, items: list[dict], taxes: list[dict]) -> bytes:
    """One DI as Siscomex's XML export (the tags `parse` reads, in the export's alphabetical order)."""
    root = ElementTree.Element("ListaDeclaracoes")
    node = ElementTree.SubElement(root, "declaracaoImportacao")
    number = declaration["declaration_id"].replace("/", "").replace("-", "")
    for item in items:
        addition = ElementTree.SubElement(node, "adicao")
        _add(addition, "cofinsAliquotaAdValorem", _digits(item["cofins_rate_pct"], 2, 5))
        _add(addition, "cofinsAliquotaValorRecolher", _digits(item["cofins_brl"], 2, 15))
        _add(addition, "condicaoVendaMoedaCodigo", CODE_OF_CURRENCY[declaration["currency"]])
        _add(addition, "dadosMercadoriaCodigoNcm", item["ncm"])
        _add(addition, "iiAliquotaAdValorem", _digits(item["ii_rate_pct"], 2, 5))
        _add(addition, "iiAliquotaValorRecolher", _digits(item["ii_brl"], 2, 15))
        _add(addition, "iiBaseCalculo", _digits(item["customs_value_brl"], 2, 15))
        _add(addition, "ipiAliquotaAdValorem", _digits(item["ipi_rate_pct"], 2, 5))
        _add(addition, "ipiAliquotaValorRecolher", _digits(item["ipi_brl"], 2, 15))
        _add(addition, "numeroAdicao", f"{item['item_number']:03d}")
        _add(addition, "numeroDI", number)
        _add(addition, "pisPasepAliquotaAdValorem", _digits(item["pis_rate_pct"], 2, 5))
        _add(addition, "pisPasepAliquotaValorRecolher", _digits(item["pis_brl"], 2, 15))
    _add(node, "dataRegistro", f"{declaration['registration_date']:%Y%m%d}")
    _add(node, "freteTotalReais", _digits(declaration["freight_brl"], 2, 15))
    _add(node, "importadorNumero", declaration["importer_cnpj"])
    _add(node, "numeroDI", number)
    for tax in taxes:
        payment = ElementTree.SubElement(node, "pagamento")
        _add(payment, "codigoReceita", CODE_OF_TAX[tax["tax"]])
        _add(payment, "dataPagamento", f"{tax['payment_date']:%Y%m%d}")
        _add(payment, "valorReceita", _digits(tax["amount_brl"], 2, 15))
    _add(node, "seguroTotalReais", _digits(declaration["insurance_brl"], 2, 15))
    _add(node, "sequencialRetificacao", f"{declaration['version'] - 1:02d}")
    _add(node, "urfDespachoCodigo", declaration["customs_unit"])
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
