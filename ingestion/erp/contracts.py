"""The contract of every ERP entity: columns and Arrow types, primary key, required columns, allowed values
and row rules, plus `validate`, which splits incoming rows into a typed table and quarantine records.

Types: money and quantities `decimal128(18, 4)`, tax rates in percent `decimal128(9, 4)`, FX rates
`decimal128(38, 15)`, business dates `date32` (Brazilian calendar dates), `updated_at`/`deleted_at`
`timestamp(ms, UTC)`, ids and codes strings. Every entity ends with `updated_at` (required) and `deleted_at`
(null unless the row was soft-deleted). `ENTITIES` is the single definition; `ENTITY_NAMES` keeps the order
in which rows can be loaded (parents first). `lake_schema(entity)` is the lake dataset `erp/<entity>` and the
raw table's columns: the contract plus `_arrived_at`, when the rows reached the platform (`with_arrival`).
"""

import json
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import pyarrow as pa

from ingestion.common.quarantine import QuarantineRecord
from ingestion.erp import contract_model
from ingestion.erp.cnpj import is_valid_cnpj
from ingestion.erp.contract_model import Column, Entity, split_rows

SOURCE = "erp"
ZERO = Decimal(0)

CURRENCIES = frozenset({"USD", "EUR", "CNY", "BRL"})
FOREIGN_CURRENCIES = frozenset({"USD", "EUR", "CNY"})
UF = frozenset("AC AL AM AP BA CE DF ES GO MA MG MS MT PA PB PE PI PR RJ RN RO RR RS SC SE SP TO".split())
TRANSPORT_MODES = frozenset({"SEA", "AIR", "ROAD"})
INCOTERMS = frozenset("EXW FCA FAS FOB CFR CIF CPT CIP DAP DPU DDP".split())  # Incoterms 2020
UNITS = frozenset({"UN", "KG", "PAR", "L", "T", "M2", "M3"})
TAX_ID_TYPES = frozenset({"CNPJ", "FOREIGN"})
PO_STATUSES = frozenset({"OPEN", "CONFIRMED", "SHIPPED", "RECEIVED", "CLOSED", "CANCELLED"})
SHIPMENT_STATUSES = frozenset({"BOOKED", "IN_TRANSIT", "ARRIVED", "CLEARED", "CANCELLED"})
DECLARATION_TYPES = frozenset({"DI", "DUIMP"})
DECLARATION_STATUSES = frozenset({"REGISTERED", "CLEARED", "CANCELLED"})
PAYABLE_TYPES = frozenset({"SUPPLIER_INVOICE", "FREIGHT_INVOICE", "SERVICE_INVOICE"})
PAYABLE_STATUSES = frozenset({"OPEN", "PARTIALLY_PAID", "PAID", "CANCELLED"})
MOVEMENT_TYPES = frozenset({"RECEIPT", "ISSUE", "ADJUSTMENT_IN", "ADJUSTMENT_OUT", "RETURN"})
MOVEMENT_REFERENCES = frozenset({"IMPORT_DECLARATION", "SALES_INVOICE", "INVENTORY_COUNT"})
INVOICE_STATUSES = frozenset({"ISSUED", "CANCELLED"})
RECEIVABLE_STATUSES = frozenset({"OPEN", "PAID", "CANCELLED"})

ISO3 = r"[A-Z]{3}"
NCM = r"\d{8}"
URF = r"\d{7}"


def _id(name: str) -> Column:
    return Column(name, "string")


def _opt(name: str, kind: str, **rules) -> Column:
    return Column(name, kind, required=False, **rules)


def _amount(name: str, required: bool = True) -> Column:
    return Column(name, "money", required=required, minimum=ZERO)


def _qty(name: str) -> Column:
    return Column(name, "quantity", minimum=ZERO)


def _pct(name: str) -> Column:
    return Column(name, "percent", minimum=ZERO)


def _code(name: str, allowed: frozenset[str], required: bool = True) -> Column:
    return Column(name, "string", required=required, allowed=allowed)


AUDIT = (Column("updated_at", "timestamp"), _opt("deleted_at", "timestamp"))


def _not_before(later: str, earlier: str):
    def rule(row: dict) -> str | None:
        if row.get(later) is not None and row.get(earlier) is not None and row[later] < row[earlier]:
            return f"{later} {row[later]} is before {earlier} {row[earlier]}"
        return None

    return (f"{later} before {earlier}", rule)


def _supplier_tax_id(row: dict) -> str | None:
    if row["country"] == "BRA" and row["tax_id_type"] != "CNPJ":
        return "a Brazilian supplier must be identified by its CNPJ"
    if row["tax_id_type"] == "CNPJ" and not is_valid_cnpj(row["tax_id"]):
        return f"CNPJ {row['tax_id']!r} has wrong check digits"
    return None


def _line_amount(row: dict) -> str | None:
    expected = row["quantity"] * row["unit_price"]
    if abs(row["line_amount"] - expected) > Decimal("0.01"):
        return f"line_amount {row['line_amount']} differs from quantity x unit_price = {expected}"
    return None


def _positive(name: str):
    def rule(row: dict) -> str | None:
        return None if row.get(name) is None or row[name] > 0 else f"{name} must be greater than zero"

    return (f"non-positive {name}", rule)


def _fx_settlement(row: dict) -> str | None:
    if row["currency"] != "BRL" and (row["fx_contract_id"] is None or row["exchange_rate"] is None):
        return "a foreign-currency settlement needs fx_contract_id and exchange_rate"
    return None


def _paid_receivable(row: dict) -> str | None:
    if row["status"] == "PAID" and (row["paid_date"] is None or row["paid_amount_brl"] is None):
        return "a PAID receivable needs paid_date and paid_amount_brl"
    return None


def _entity(name: str, key: tuple[str, ...], columns: list[Column], rules: tuple = ()) -> Entity:
    return Entity(name, tuple(columns) + AUDIT, key, tuple(rules))


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in [
        _entity(
            "suppliers",
            ("supplier_id",),
            [
                _id("supplier_id"),
                Column("name", "string"),
                Column("country", "string", pattern=ISO3),
                Column("tax_id", "string"),
                _code("tax_id_type", TAX_ID_TYPES),
                _code("currency", CURRENCIES),
                Column("payment_terms_days", "int", minimum=ZERO),
            ],
            [("supplier tax id", _supplier_tax_id)],
        ),
        _entity(
            "products",
            ("sku",),
            [
                _id("sku"),
                Column("description", "string"),
                Column("ncm", "string", pattern=NCM),
                _code("unit", UNITS),
                _qty("net_weight_kg"),
            ],
        ),
        _entity(
            "customers",
            ("customer_id",),
            [
                _id("customer_id"),
                Column("name", "string"),
                Column("cnpj", "string", check="cnpj"),
                _code("state", UF),
                Column("city", "string"),
                Column("payment_terms_days", "int", minimum=ZERO),
            ],
        ),
        _entity(
            "purchase_orders",
            ("po_id",),
            [
                _id("po_id"),
                _id("supplier_id"),
                Column("order_date", "date"),
                _code("currency", CURRENCIES),
                _code("incoterm", INCOTERMS),
                _code("transport_mode", TRANSPORT_MODES),
                _code("status", PO_STATUSES),
                _amount("total_amount"),
                _opt("expected_arrival_date", "date"),
            ],
            [_not_before("expected_arrival_date", "order_date")],
        ),
        _entity(
            "purchase_order_lines",
            ("po_id", "line_number"),
            [
                _id("po_id"),
                Column("line_number", "int", minimum=Decimal(1)),
                _id("sku"),
                _qty("quantity"),
                _amount("unit_price"),
                _amount("line_amount"),
            ],
            [("line amount", _line_amount)],
        ),
        _entity(
            "shipments",
            ("shipment_id",),
            [
                _id("shipment_id"),
                _id("po_id"),
                _code("transport_mode", TRANSPORT_MODES),
                Column("origin_country", "string", pattern=ISO3),
                Column("customs_unit", "string", pattern=URF),
                Column("bill_of_lading", "string"),
                Column("etd", "date"),
                Column("eta", "date"),
                _opt("actual_arrival", "date"),
                _qty("gross_weight_kg"),
                _code("currency", CURRENCIES),
                _amount("freight_amount"),
                _amount("insurance_amount"),
                _code("status", SHIPMENT_STATUSES),
            ],
            [_not_before("eta", "etd"), _not_before("actual_arrival", "etd")],
        ),
        _entity(
            "import_declarations",
            ("declaration_id",),
            [
                _id("declaration_id"),
                _code("declaration_type", DECLARATION_TYPES),
                _id("shipment_id"),
                Column("registration_date", "date"),
                _opt("clearance_date", "date"),
                Column("customs_unit", "string", pattern=URF),
                _code("destination_state", UF),
                _code("currency", FOREIGN_CURRENCIES),
                Column("exchange_rate", "fx_rate"),
                _amount("fob_amount"),
                _amount("freight_amount"),
                _amount("insurance_amount"),
                _amount("customs_value_brl"),
                _amount("ii_brl"),
                _amount("ipi_brl"),
                _amount("pis_brl"),
                _amount("cofins_brl"),
                _amount("icms_brl"),
                _amount("siscomex_fee_brl"),
                _amount("afrmm_brl"),
                _amount("customs_expenses_brl"),
                _code("status", DECLARATION_STATUSES),
            ],
            [_positive("exchange_rate"), _not_before("clearance_date", "registration_date")],
        ),
        _entity(
            "import_declaration_items",
            ("declaration_id", "item_number"),
            [
                _id("declaration_id"),
                Column("item_number", "int", minimum=Decimal(1)),
                _id("po_id"),
                Column("po_line_number", "int", minimum=Decimal(1)),
                _id("sku"),
                Column("ncm", "string", pattern=NCM),
                _qty("quantity"),
                _qty("net_weight_kg"),
                _amount("fob_amount"),
                _amount("freight_amount"),
                _amount("insurance_amount"),
                _amount("customs_value_brl"),
                _pct("ii_rate_pct"),
                _pct("ipi_rate_pct"),
                _pct("pis_rate_pct"),
                _pct("cofins_rate_pct"),
                _pct("icms_rate_pct"),
                _amount("ii_brl"),
                _amount("ipi_brl"),
                _amount("pis_brl"),
                _amount("cofins_brl"),
                _amount("icms_brl"),
            ],
        ),
        _entity(
            "payables",
            ("payable_id",),
            [
                _id("payable_id"),
                _id("supplier_id"),
                _id("po_id"),
                _code("document_type", PAYABLE_TYPES),
                Column("invoice_number", "string"),
                Column("invoice_date", "date"),
                Column("due_date", "date"),
                _code("currency", CURRENCIES),
                _amount("amount"),
                _code("status", PAYABLE_STATUSES),
            ],
            [_positive("amount"), _not_before("due_date", "invoice_date")],
        ),
        _entity(
            "payable_settlements",
            ("settlement_id",),
            [
                _id("settlement_id"),
                _id("payable_id"),
                _opt("fx_contract_id", "string"),
                Column("settled_date", "date"),
                _code("currency", CURRENCIES),
                _amount("amount"),
                _opt("exchange_rate", "fx_rate"),
                _amount("brl_amount"),
            ],
            [_positive("amount"), ("fx settlement", _fx_settlement)],
        ),
        _entity(
            "inventory_movements",
            ("movement_id",),
            [
                _id("movement_id"),
                _id("sku"),
                Column("movement_date", "date"),
                _code("movement_type", MOVEMENT_TYPES),
                _qty("quantity"),
                _amount("unit_cost_brl"),
                _code("reference_type", MOVEMENT_REFERENCES),
                _opt("reference_id", "string"),
                Column("warehouse", "string"),
            ],
        ),
        _entity(
            "sales_invoices",
            ("invoice_id",),
            [
                _id("invoice_id"),
                _id("customer_id"),
                Column("issue_date", "date"),
                Column("cfop", "string", pattern=r"\d{4}"),
                _id("sku"),
                _qty("quantity"),
                _amount("unit_price_brl"),
                _amount("gross_amount_brl"),
                _amount("icms_brl"),
                _amount("ipi_brl"),
                _amount("pis_brl"),
                _amount("cofins_brl"),
                _amount("net_amount_brl"),
                _code("status", INVOICE_STATUSES),
            ],
        ),
        _entity(
            "receivables",
            ("receivable_id",),
            [
                _id("receivable_id"),
                _id("invoice_id"),
                _id("customer_id"),
                Column("installment", "int", minimum=Decimal(1)),
                Column("issue_date", "date"),
                Column("due_date", "date"),
                _amount("amount_brl"),
                _code("status", RECEIVABLE_STATUSES),
                _opt("paid_date", "date"),
                _opt("paid_amount_brl", "money", minimum=ZERO),
            ],
            [
                _positive("amount_brl"),
                _not_before("due_date", "issue_date"),
                ("paid receivable", _paid_receivable),
            ],
        ),
    ]
}
ENTITY_NAMES: tuple[str, ...] = tuple(ENTITIES)


def schema(entity: str) -> pa.Schema:
    """The Arrow schema of an ERP entity (raises KeyError naming the known entities)."""
    return _get(entity).schema


# When the rows' file was taken from the inbox (filedrop.process): at an equal `updated_at`, the later arrival is
# the newer version (staging's tie-break). Strictly increasing per file (state.FileRegistry.next_arrival).
ARRIVED_AT = contract_model.ARRIVED_AT
ARRIVAL_TYPE = contract_model.ARRIVAL_TYPE


def lake_schema(entity: str) -> pa.Schema:
    """The lake dataset `erp/<entity>` and `raw.erp__<entity>`: the contract columns, then `_arrived_at`."""
    return contract_model.arrival_schema(schema(entity))


def with_arrival(entity: str, table: pa.Table, arrived_at: datetime) -> pa.Table:
    """Contract rows of one arrival as a lake table: every row stamped with `arrived_at` (timezone-aware)."""
    return contract_model.stamp_arrival(schema(entity), table, arrived_at)


def _get(entity: str) -> Entity:
    if entity not in ENTITIES:
        raise KeyError(f"unknown ERP entity {entity!r}; known: {', '.join(ENTITY_NAMES)}")
    return ENTITIES[entity]


def _payload(row: dict) -> str:
    return json.dumps(row, default=str, ensure_ascii=False, sort_keys=True)


def validate(
    entity: str, data: pa.Table | Iterable[dict], source: str = SOURCE
) -> tuple[pa.Table, list[QuarantineRecord]]:
    """Split rows into the valid ones (a table in the entity's schema) and quarantine records with reasons.

    `data` is an Arrow table or dicts; values may be native (Decimal, date, datetime) or the text of an export
    (`.` decimals, ISO dates and timestamps; a timestamp without an offset is UTC). Every rule a row breaks is
    named in its reason, prefixed by entity and key. All rows sharing a primary key are quarantined: nothing
    tells which of them is right. Floats are refused for decimal columns.
    """
    contract = _get(entity)
    rows = data.to_pylist() if isinstance(data, pa.Table) else list(data)

    def refuse(raw: dict, typed: dict | None, reasons: str) -> QuarantineRecord:
        key = contract.key_of(typed if typed is not None else raw)
        return QuarantineRecord(source, entity, key, f"{entity} {key}: {reasons}", _payload(raw))

    valid, quarantine = split_rows(contract, rows, refuse, unit="rows")
    return pa.Table.from_pylist(valid, schema=contract.schema), quarantine
