"""The contract of the official customs declarations (DI XML and DUIMP JSON, read by `di_xml` and `duimp_json`).

Three entities, one per staging model: `declarations` (one row per declaration version), `declaration_items`
(the DI's additions, the DUIMP's items) and `taxes_paid` (what the Receita debited, per tax). Every row carries
`declaration_id` in the ERP's spelling (`24/1234567-8` for a DI, `24BR1234567890-1` for a DUIMP) and
`version` (the DI's rectification sequence + 1, the DUIMP's version), so the three-way reconciliation joins the
ERP's copy without guessing. The column building blocks and the row checker are the ERP's
(`ingestion/erp/contract_model.py`): money `decimal128(18, 4)`, rates in percent `decimal128(9, 4)`, dates
`date32`. `lake_schema(entity)` adds `_arrived_at` (the file's arrival, as for the ERP file drops).
"""

import json
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import pyarrow as pa

from ingestion.common.quarantine import QuarantineRecord
from ingestion.erp import contract_model
from ingestion.erp.contract_model import Column, Entity, split_rows

SOURCE = "customs"
ZERO = Decimal(0)
ARRIVED_AT = contract_model.ARRIVED_AT
ARRIVAL_TYPE = contract_model.ARRIVAL_TYPE

DECLARATION_ID = r"\d{2}/\d{7}-\d|\d{2}BR\d{10}-\d"
DECLARATION_TYPES = frozenset({"DI", "DUIMP"})
SOURCE_FORMATS = frozenset({"DI_XML", "DUIMP_JSON"})
CURRENCIES = frozenset({"USD", "EUR", "CNY"})
# The Receita's revenue codes (códigos de receita) of the taxes paid on registration, and the tax each is.
REVENUE_CODES = {"0086": "II", "1038": "IPI", "5602": "PIS", "5629": "COFINS", "7811": "SISCOMEX_FEE"}
TAXES = frozenset(REVENUE_CODES.values())


def _money(name: str, required: bool = True) -> Column:
    return Column(name, "money", required=required, minimum=ZERO)


def _pct(name: str) -> Column:
    return Column(name, "percent", minimum=ZERO)


_KEY = (
    Column("declaration_id", "string", pattern=DECLARATION_ID),
    Column("version", "int", minimum=Decimal(1)),
)


def _revenue_code_matches(row: dict) -> str | None:
    expected = REVENUE_CODES.get(row["revenue_code"])
    if expected != row["tax"]:
        return f"revenue code {row['revenue_code']} is {expected or 'not an import tax code'}, not {row['tax']}"
    return None


ENTITIES: dict[str, Entity] = {
    "declarations": Entity(
        "declarations",
        (
            *_KEY,
            Column("declaration_type", "string", allowed=DECLARATION_TYPES),
            Column("source_format", "string", allowed=SOURCE_FORMATS),
            Column("importer_cnpj", "string", check="cnpj"),
            Column("registration_date", "date"),
            Column("customs_unit", "string", pattern=r"\d{7}"),
            Column("currency", "string", allowed=CURRENCIES),
            Column("exchange_rate", "fx_rate", required=False, minimum=ZERO),
            _money("freight_brl", required=False),
            _money("insurance_brl", required=False),
            Column("source_file", "string"),
        ),
        ("declaration_id", "version"),
    ),
    "declaration_items": Entity(
        "declaration_items",
        (
            *_KEY,
            Column("item_number", "int", minimum=Decimal(1)),
            Column("ncm", "string", pattern=r"\d{8}"),
            _money("customs_value_brl"),
            _pct("ii_rate_pct"),
            _pct("ipi_rate_pct"),
            _pct("pis_rate_pct"),
            _pct("cofins_rate_pct"),
            _money("ii_brl"),
            _money("ipi_brl"),
            _money("pis_brl"),
            _money("cofins_brl"),
        ),
        ("declaration_id", "version", "item_number"),
    ),
    "taxes_paid": Entity(
        "taxes_paid",
        (
            *_KEY,
            Column("tax", "string", allowed=TAXES),
            Column("revenue_code", "string", pattern=r"\d{4}"),
            _money("amount_brl"),
            Column("payment_date", "date", required=False),
        ),
        ("declaration_id", "version", "tax"),
        (("revenue code", _revenue_code_matches),),
    ),
}
ENTITY_NAMES: tuple[str, ...] = tuple(ENTITIES)


def schema(entity: str) -> pa.Schema:
    return ENTITIES[entity].schema


def lake_schema(entity: str) -> pa.Schema:
    """The lake dataset `customs/<entity>` and `raw.customs__<entity>`: the contract columns, then `_arrived_at`."""
    return contract_model.arrival_schema(schema(entity))


def with_arrival(entity: str, table: pa.Table, arrived_at: datetime) -> pa.Table:
    return contract_model.stamp_arrival(schema(entity), table, arrived_at)


def payload(row: dict) -> str:
    return json.dumps(row, default=str, ensure_ascii=False, sort_keys=True)


def check(entity: str, rows: Iterable[dict]) -> tuple[list[dict], list[QuarantineRecord]]:
    """The rows that keep the entity's contract (typed) and a quarantine record for each that does not, its reason
    prefixed by entity and key. Rows sharing a key are all quarantined: nothing tells which is right."""
    contract = ENTITIES[entity]

    def refuse(raw: dict, typed: dict | None, reasons: str) -> QuarantineRecord:
        key = contract.key_of(typed if typed is not None else raw)
        return QuarantineRecord(SOURCE, entity, key, f"{entity} {key}: {reasons}", payload(raw))

    return split_rows(contract, rows, refuse)
