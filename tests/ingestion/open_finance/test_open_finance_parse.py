"""Parsing official records into typed rows: Decimal money, direction, UTC instants, string IDs, raw JSON kept,
and bad records quarantined with their reason while the rest lands."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from ingestion.open_finance import entities, schemas
from ingestion.open_finance.parse import BadRecord, parse_date, parse_decimal, parse_instant


def test_a_page_with_bad_records_lands_the_good_ones(fixture_json):
    page = fixture_json("accounts_transactions_bad_records.json")
    parsed = entities.transactions("banco_a", "acc1", page["data"])
    table = schemas.to_table("transactions", parsed.rows)
    assert table.schema == schemas.TRANSACTIONS
    assert sorted(table.column("transaction_id").to_pylist()) == ["987654321", "TXGOOD01"]
    reasons = {q.record_key.removeprefix("institution=banco_a account_id=acc1 "): q.reason for q in parsed.quarantine}
    assert reasons == {
        "transactionId=TXNOAMOUNT": "missing required field transactionAmount.amount",
        "transactionId=TXBADDIR": "invalid creditDebitType: 'ESTORNO' (CREDITO or DEBITO expected)",
        "transactionId=TXTOOPRECISE": "invalid transactionAmount.amount: '0.00125' has more than 4 decimals",
        "transactionId=TXFLOAT": "invalid transactionAmount.amount: not a decimal string: 12.5",
        "record #6": "record is not a JSON object",
    }
    for record in parsed.quarantine:
        assert record.source == "open_finance" and record.entity == "transactions"
        assert json.loads(record.payload) is not None  # the original record, unchanged


def test_amounts_direction_instants_and_raw_json(fixture_json):
    page = fixture_json("accounts_transactions_bad_records.json")
    rows = {r["transaction_id"]: r for r in entities.transactions("banco_a", "acc1", page["data"]).rows}
    good = rows["TXGOOD01"]
    assert good["amount"] == Decimal("1000.0400") and good["signed_amount"] == Decimal("-1000.0400")
    assert good["transaction_datetime"] == datetime(2025, 3, 10, 2, 30, 0, 123000, tzinfo=UTC)
    assert good["booking_date"] == date(2025, 3, 9)  # 23:30 in São Paulo the evening before
    raw = json.loads(good["raw_json"])
    assert raw["bankInternalCategory"] == "FORNECEDORES" and raw["nestedExtra"] == {"channel": "APP"}
    numeric = rows["987654321"]
    assert numeric["signed_amount"] == Decimal("250.5") and numeric["status"] == "LANCAMENTO_FUTURO"
    assert numeric["transaction_datetime"] == datetime(2025, 3, 11, 2, 30, tzinfo=UTC)
    assert numeric["booking_date"] == date(2025, 3, 10)


def test_fx_detail_keeps_15_decimal_rates_and_unknown_fields(fixture_json):
    detail = fixture_json("exchanges_operation_detail.json")["data"]
    listed = {"brandName": "Banco A", "companyCnpj": "11225860000140", "operationId": "OP1"}
    parsed = entities.fx_operation("banco_a", listed, detail)
    assert parsed.quarantine == []
    table = schemas.to_table("fx_operations", parsed.rows)
    row = table.to_pylist()[0]
    assert table.schema.field("fx_rate").type == pa.decimal128(38, 15)
    assert row["fx_rate"] == Decimal("5.123456789012345") and row["vet_amount"] == Decimal("5.2")
    assert row["local_currency_advance_percentage"] == Decimal("0.12") and row["outstanding_balance"] is None
    assert row["operation_type"] == "VENDA" and row["due_date"] == date(2025, 3, 11)
    assert json.loads(row["raw_json"])["foreignPartieName"] == "ACME LTD"  # off-spec field, kept


def test_a_missing_required_fx_field_is_quarantined(fixture_json):
    detail = fixture_json("exchanges_operation_detail.json")["data"]
    del detail["foreignOperationValue"]
    parsed = entities.fx_operation("banco_a", {"brandName": "B", "companyCnpj": "1", "operationId": "OP1"}, detail)
    assert parsed.rows == []
    assert parsed.quarantine[0].reason == "missing required field foreignOperationValue.amount"
    assert parsed.quarantine[0].record_key == "institution=banco_a operationId=OP1"


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("1000.0400", "money", Decimal("1000.04")),
        ("-12.50", "money", Decimal("-12.5")),
        ("99999999999999.9999", "money", Decimal("99999999999999.9999")),
        ("0.000000000000001", "rate", Decimal("1E-15")),
    ],
)
def test_parse_decimal(text, kind, expected):
    assert parse_decimal(text, kind) == expected


@pytest.mark.parametrize("text", ["100000000000000.00", "1e5", "", "1,50", " ", "NaN"])
def test_parse_decimal_refuses(text):
    with pytest.raises(BadRecord):
        parse_decimal(text, "money")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-05-21T08:30:00Z", datetime(2021, 5, 21, 8, 30, tzinfo=UTC)),
        ("2016-01-29T12:29:03.374Z", datetime(2016, 1, 29, 12, 29, 3, 374000, tzinfo=UTC)),
        ("2016-01-29T12:29:03.374999999Z", datetime(2016, 1, 29, 12, 29, 3, 374000, tzinfo=UTC)),
        ("2016-01-29T09:29:03-03:00", datetime(2016, 1, 29, 12, 29, 3, tzinfo=UTC)),
        ("2016-01-29T12:29:03", datetime(2016, 1, 29, 12, 29, 3, tzinfo=UTC)),
    ],
)
def test_parse_instant_is_lenient_and_utc(text, expected):
    assert parse_instant(text) == expected


def test_parse_date_accepts_the_specs_single_digit_forms_and_refuses_nonsense():
    assert parse_date("2021-5-1") == date(2021, 5, 1)
    for bad in ("2021-02-30", "21-05-01", 20210501):
        with pytest.raises(BadRecord):
            parse_date(bad)


def test_ids_stay_strings_up_to_100_characters():
    record = {
        "accountId": "A" * 101,
        "brandName": "B",
        "companyCnpj": "1",
        "type": "CONTA_DEPOSITO_A_VISTA",
        "compeCode": "001",
        "number": "12345678",
        "checkDigit": "1",
    }
    parsed = entities.accounts("banco_a", [record, {**record, "accountId": "0042"}])
    assert [r["account_id"] for r in parsed.rows] == ["0042"]
    assert "identifier of 101 characters" in parsed.quarantine[0].reason


def test_empty_tables_keep_their_schemas():
    for entity, schema in schemas.SCHEMAS.items():
        assert schemas.to_table(entity, []).schema == schema
        assert schemas.dataset_name(entity) == f"open_finance__{entity}"
