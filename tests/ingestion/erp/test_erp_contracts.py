"""The ERP contracts: valid rows land typed, each kind of bad row is quarantined with a reason naming the
entity, the key and the rule."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from ingestion.erp.contracts import ENTITIES, ENTITY_NAMES, schema, validate

STAMP = "2024-03-05T14:07:09.123Z"
SUPPLIER = {
    "supplier_id": "SUP-0001",
    "name": "Delta Tools GmbH",
    "country": "DEU",
    "tax_id": "DE123456789",
    "tax_id_type": "FOREIGN",
    "currency": "EUR",
    "payment_terms_days": "60",
    "updated_at": STAMP,
    "deleted_at": "",
}
CUSTOMER = {
    "customer_id": "CUS-00001",
    "name": "Souza Peças Ltda",
    "cnpj": "11.222.333/0001-81",
    "state": "SP",
    "city": "Campinas",
    "payment_terms_days": "30",
    "updated_at": STAMP,
    "deleted_at": "",
}
LINE = {
    "po_id": "PO-2024-000001",
    "line_number": "1",
    "sku": "SKU-8481-00001",
    "quantity": "10",
    "unit_price": "12.5000",
    "line_amount": "125.0000",
    "updated_at": STAMP,
    "deleted_at": "",
}
SHIPMENT = {
    "shipment_id": "SHP-000001",
    "po_id": "PO-2024-000001",
    "transport_mode": "SEA",
    "origin_country": "CHN",
    "customs_unit": "0817800",
    "bill_of_lading": "MSCU1234567",
    "etd": "2024-02-01",
    "eta": "2024-03-08",
    "actual_arrival": "2024-03-12",
    "gross_weight_kg": "540.5400",
    "currency": "USD",
    "freight_amount": "368.32",
    "insurance_amount": "0",
    "status": "ARRIVED",
    "updated_at": STAMP,
    "deleted_at": "",
}
SETTLEMENT = {
    "settlement_id": "PS-000001",
    "payable_id": "AP-000001",
    "fx_contract_id": "363111268312",
    "settled_date": "2024-01-08",
    "currency": "USD",
    "amount": "3139.12",
    "exchange_rate": "4.946937000000000",
    "brl_amount": "15529.03",
    "updated_at": STAMP,
    "deleted_at": "",
}


def _one_reason(entity: str, row: dict) -> str:
    valid, quarantine = validate(entity, [row])
    assert valid.num_rows == 0 and len(quarantine) == 1, quarantine
    record = quarantine[0]
    assert record.source == "erp" and record.entity == entity
    assert record.reason.startswith(f"{entity} {record.record_key}: ")
    return record.reason


@pytest.mark.parametrize(
    "entity,row",
    [
        ("suppliers", SUPPLIER),
        ("customers", CUSTOMER),
        ("purchase_order_lines", LINE),
        ("shipments", SHIPMENT),
        ("payable_settlements", SETTLEMENT),
    ],
)
def test_valid_text_rows_land_typed(entity, row):
    valid, quarantine = validate(entity, [row])
    assert quarantine == []
    assert valid.schema == schema(entity)
    typed = valid.to_pylist()[0]
    assert typed["updated_at"] == datetime(2024, 3, 5, 14, 7, 9, 123000, tzinfo=UTC)
    assert typed["deleted_at"] is None


def test_types_follow_the_conventions():
    settlement = schema("payable_settlements")
    assert settlement.field("amount").type == pa.decimal128(18, 4)
    assert settlement.field("exchange_rate").type == pa.decimal128(38, 15)
    assert settlement.field("settled_date").type == pa.date32()
    assert settlement.field("updated_at").type == pa.timestamp("ms", tz="UTC")
    assert not settlement.field("updated_at").nullable and settlement.field("deleted_at").nullable
    for name in ENTITY_NAMES:
        assert ENTITIES[name].schema.names[-2:] == ["updated_at", "deleted_at"]
        assert set(ENTITIES[name].primary_key) <= set(ENTITIES[name].required)


def test_typed_values_and_tables_are_accepted():
    row = {
        **LINE,
        "quantity": Decimal("10"),
        "unit_price": Decimal("12.5"),
        "line_amount": Decimal("125"),
        "line_number": 1,
        "updated_at": datetime(2024, 3, 5, 11, 7, 9, tzinfo=UTC),
        "deleted_at": None,
    }
    table = pa.Table.from_pylist([row], schema=schema("purchase_order_lines"))
    valid, quarantine = validate("purchase_order_lines", table)
    assert quarantine == [] and valid.equals(table)


def test_bad_date():
    reason = _one_reason("shipments", {**SHIPMENT, "etd": "2024-02-30"})
    assert "shipment_id=SHP-000001" in reason and "bad date in etd" in reason


def test_implausible_year_is_a_bad_date():
    assert "outside" in _one_reason("payable_settlements", {**SETTLEMENT, "settled_date": "0024-01-08"})


def test_negative_quantity():
    reason = _one_reason("purchase_order_lines", {**LINE, "quantity": "-10", "line_amount": "-125"})
    assert "po_id=PO-2024-000001 line_number=1" in reason and "negative value -10 in quantity" in reason


def test_unknown_currency():
    assert "unknown value 'XYZ' in currency" in _one_reason("suppliers", {**SUPPLIER, "currency": "XYZ"})


def test_wrong_cnpj_check_digit():
    reason = _one_reason("customers", {**CUSTOMER, "cnpj": "11.222.333/0001-82"})
    assert "customer_id=CUS-00001" in reason and "wrong check digits" in reason


def test_brazilian_supplier_needs_a_valid_cnpj():
    reason = _one_reason(
        "suppliers",
        {**SUPPLIER, "country": "BRA", "tax_id": "11222333000182", "tax_id_type": "CNPJ", "currency": "BRL"},
    )
    assert "supplier tax id" in reason and "wrong check digits" in reason
    assert "must be identified by its CNPJ" in _one_reason("suppliers", {**SUPPLIER, "country": "BRA"})


def test_missing_required():
    reason = _one_reason("suppliers", {**SUPPLIER, "name": "  "})
    assert "missing required name" in reason
    row = dict(SUPPLIER)
    del row["updated_at"]
    assert "missing required updated_at" in _one_reason("suppliers", row)


def test_duplicated_keys_quarantine_every_copy():
    other = {**SUPPLIER, "supplier_id": "SUP-0002"}
    valid, quarantine = validate("suppliers", [SUPPLIER, other, {**SUPPLIER, "name": "Delta Tools AG"}])
    assert valid.column("supplier_id").to_pylist() == ["SUP-0002"]
    assert [q.record_key for q in quarantine] == ["supplier_id=SUP-0001"] * 2
    assert all("duplicated key (2 rows share it)" in q.reason for q in quarantine)


def test_eta_before_etd():
    assert "eta before etd" in _one_reason("shipments", {**SHIPMENT, "eta": "2024-01-20"})


def test_float_money_is_refused():
    assert "float is not accepted" in _one_reason("payable_settlements", {**SETTLEMENT, "amount": 3139.12})


def test_too_many_decimals_and_comma_decimals():
    assert "more than 4 decimal places" in _one_reason("payable_settlements", {**SETTLEMENT, "amount": "1.23456"})
    assert "not a decimal number" in _one_reason("payable_settlements", {**SETTLEMENT, "amount": "3139,12"})


def test_foreign_settlement_needs_its_fx_contract():
    assert "fx settlement" in _one_reason("payable_settlements", {**SETTLEMENT, "fx_contract_id": ""})


def test_line_amount_must_match_quantity_times_price():
    assert "line amount" in _one_reason("purchase_order_lines", {**LINE, "line_amount": "130"})


def test_unexpected_column_and_unknown_entity():
    assert "unexpected columns colour" in _one_reason("customers", {**CUSTOMER, "colour": "blue"})
    with pytest.raises(KeyError, match="unknown ERP entity 'orders'"):
        validate("orders", [])


def test_every_rule_is_named_and_the_payload_kept():
    row = {**CUSTOMER, "state": "XX", "updated_at": "yesterday"}
    _, [record] = validate("customers", [row])
    assert "unknown value 'XX' in state" in record.reason and "bad date in updated_at" in record.reason
    assert '"state": "XX"' in record.payload


def test_good_rows_land_beside_bad_ones():
    valid, quarantine = validate(
        "shipments", [SHIPMENT, {**SHIPMENT, "shipment_id": "SHP-2", "transport_mode": "RAIL"}]
    )
    assert valid.column("shipment_id").to_pylist() == ["SHP-000001"] and len(quarantine) == 1
    assert valid.column("etd").to_pylist() == [date(2024, 2, 1)]


def test_every_generated_row_keeps_its_contract(company):
    for name, table in company.erp.items():
        valid, quarantine = validate(name, table)
        assert quarantine == [], f"{name}: {quarantine[:2]}"
        assert valid.equals(table), name
