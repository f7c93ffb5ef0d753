"""A whole pull from the sandbox: every entity lands typed, re-runs are identical, and the pending transaction
replaced by its posted twin (new ID) comes back as both across two runs and as one after the staging rule."""

from datetime import timedelta
from decimal import Decimal

import pyarrow as pa
import pytest

from ingestion.open_finance import dedupe, schemas
from ingestion.open_finance.errors import ConsentError
from ingestion.open_finance.extract import InstitutionsFailed, combine, pull_institutions
from sandboxes.open_finance_bank import Entry
from sandboxes.open_finance_bank.demo import ACCOUNT_ID
from tests.ingestion.open_finance.conftest import DAY, FAST


def rows(table: pa.Table, key: str = "transaction_id") -> dict:
    return {row[key]: row for row in table.to_pylist()}


def test_a_pull_lands_every_entity_in_its_schema(pull):
    extract = pull()
    assert extract.quarantine == []
    assert extract.window == (DAY - timedelta(days=6), DAY)
    counts = {entity: table.num_rows for entity, table in extract.tables.items()}
    assert counts == {
        "accounts": 1,
        "balances": 1,
        "transactions": 8,
        "credit_card_accounts": 1,
        "credit_card_bills": 2,
        "credit_card_transactions": 7,
        "fx_operations": 2,
        "fx_operation_events": 3,
    }
    for entity, table in extract.tables.items():
        assert table.schema == schemas.SCHEMAS[entity], entity
    assert extract.tables["transactions"].schema.field("amount").type == pa.decimal128(18, 4)
    assert extract.tables["fx_operations"].schema.field("fx_rate").type == pa.decimal128(38, 15)
    assert extract.tables["transactions"].schema.field("transaction_datetime").type == pa.timestamp("ms", "UTC")


def test_amounts_directions_and_fx_values(pull):
    extract = pull()
    tx = rows(extract.tables["transactions"])
    assert tx["TX0001"]["signed_amount"] == Decimal("48500.0000") and tx["TX0001"]["credit_debit_type"] == "CREDITO"
    assert tx["TX0002"]["signed_amount"] == Decimal("-52712.0000") and tx["TX0002"]["amount"] == Decimal("52712")
    assert tx["TX0002"]["booking_date"] == DAY - timedelta(days=4)
    assert tx["TX0002"]["transaction_datetime"].utcoffset() == timedelta(0)
    fx = rows(extract.tables["fx_operations"], "operation_id")["FXOP-000123"]
    assert fx["fx_rate"] == Decimal("5.2712") and fx["foreign_value"] == Decimal("10000.00")
    assert fx["foreign_currency"] == "USD" and fx["local_currency_value"] == Decimal("52712.00")
    assert fx["vet_amount"] == Decimal("5.294731")
    assert fx["foreign_value"] * fx["fx_rate"] == fx["local_currency_value"]
    settlement = [e for e in extract.tables["fx_operation_events"].to_pylist() if e["event_type"] == "4"][0]
    assert settlement["foreign_partie_country_code"] == "CN"
    card = rows(extract.tables["credit_card_transactions"])
    assert card["CT0003"]["currency"] == "USD" and card["CT0003"]["amount"] == Decimal("120")
    assert card["CT0003"]["signed_brazilian_amount"] == Decimal("-633.60") and card["CT0003"]["bill_id"] == "BILL-CURR"
    assert card["CT0007"]["bill_id"] is None  # open bill
    balance = extract.tables["balances"].to_pylist()[0]
    opening_plus_posted = Decimal("250000") + sum(
        r["signed_amount"] for r in tx.values() if r["status"] == "TRANSACAO_EFETIVADA"
    )
    assert balance["available_amount"] == opening_plus_posted


def test_three_reruns_of_a_partition_give_identical_rows(pull):
    tables = [pull().tables for _ in range(3)]
    for entity in schemas.SCHEMAS:
        assert tables[0][entity].equals(tables[1][entity]) and tables[1][entity].equals(tables[2][entity]), entity


def test_pending_transaction_replaced_by_its_posted_twin(pull, bank):
    first = pull(day=DAY)  # today = DAY: the boleto is scheduled (LANCAMENTO_FUTURO, id TXPEND0007)
    bank.set_today(DAY + timedelta(days=1))  # overnight the bank posts it under a new id
    second = pull(day=DAY + timedelta(days=1), today=bank.today)
    before, after = rows(first.tables["transactions"]), rows(second.tables["transactions"])
    assert before["TXPEND0007"]["status"] == "LANCAMENTO_FUTURO" and "TX0007" not in before
    assert after["TX0007"]["status"] == "TRANSACAO_EFETIVADA" and "TXPEND0007" not in after
    # the client returns both across the two runs; staging must keep one
    pulls = [
        (*first.window, first.tables["transactions"].to_pylist()),
        (*second.window, second.tables["transactions"].to_pylist()),
    ]
    by_window = dedupe.latest_per_booking_date(pulls)
    by_key = dedupe.latest_by_stable_key([p[2] for p in pulls])
    for kept in (by_window, by_key):
        boleto = [r for r in kept if r["signed_amount"] == Decimal("-12450")]
        assert [r["transaction_id"] for r in boleto] == ["TX0007"]
        assert len({r["transaction_id"] for r in kept}) == len(kept) == 8


def test_a_changed_transaction_id_is_resolved_by_the_window_rule(pull, bank):
    first = pull()
    bank.rename_transaction("TX0006", "TX0006B")  # a posted boleto whose id settles on D+1
    second = pull()
    assert "TX0006B" in rows(second.tables["transactions"]) and "TX0006" not in rows(second.tables["transactions"])
    kept = dedupe.latest_per_booking_date(
        [
            (*first.window, first.tables["transactions"].to_pylist()),
            (*second.window, second.tables["transactions"].to_pylist()),
        ]
    )
    assert sorted(r["transaction_id"] for r in kept if r["transaction_name"] == "PAGAMENTO FATURA CARTAO") == [
        "TX0006B"
    ]


def test_a_window_before_d6_reads_transactions_not_transactions_current(pull, bank):
    pull(day=DAY - timedelta(days=3))  # window starts D-9: older than transactions-current serves
    paths = [r["path"] for r in bank.requests]
    assert f"/open-banking/accounts/v2/accounts/{ACCOUNT_ID}/transactions" in paths
    assert not any(p.endswith("/accounts/v2/accounts/acc-importau-0001/transactions-current") for p in paths)
    pull(day=DAY)
    assert any(r["path"].endswith("/transactions-current") for r in bank.requests)


def test_several_institutions_at_once_and_one_failing_keeps_the_others(bank, tmp_path):
    from ingestion.open_finance.auth import TokenStore
    from ingestion.open_finance.budget import CallBudget

    good_a, code_a = bank.create_authorised_consent()
    good_b, code_b = bank.create_authorised_consent()
    bad, code_bad = bank.create_authorised_consent()
    bank.expire_consent(bad)
    institutions = [bank.institution(good_a, name="bank_a"), bank.institution(good_b, name="bank_b")]
    grants = {
        "bank_a": {"authorization_code": code_a},
        "bank_b": {"authorization_code": code_b},
        "bank_c": {"authorization_code": code_bad},
    }
    common = dict(
        token_store=TokenStore(tmp_path / "tokens.json"),
        budget=CallBudget(tmp_path / "budget.json"),
        settings=FAST,
        today=DAY,
        grants=grants,
    )
    results = pull_institutions(institutions, DAY, **common)
    combined = combine(results.values())
    assert set(combined["transactions"].column("institution").to_pylist()) == {"bank_a", "bank_b"}
    assert combined["transactions"].num_rows == 16

    with pytest.raises(InstitutionsFailed) as failed:
        pull_institutions([*institutions, bank.institution(bad, name="bank_c")], DAY, **common)
    assert set(failed.value.results) == {"bank_a", "bank_b"}
    assert isinstance(failed.value.errors["bank_c"], ConsentError)
    assert "bank_c" in str(failed.value) and bad in str(failed.value)


def test_a_bad_record_from_the_bank_is_quarantined_and_the_rest_lands(pull, bank, monkeypatch):
    broken = {
        "transactionId": "TXBROKEN",
        "completedAuthorisedPaymentType": "TRANSACAO_EFETIVADA",
        "creditDebitType": "DEBITO",
        "transactionName": "SEM VALOR",
        "type": "OUTROS",
        "transactionDateTime": f"{DAY.isoformat()}T15:00:00.000Z",
        "someNewField": "kept in the quarantine payload",
    }
    monkeypatch.setattr(bank.state.data, "transactions", [*bank.state.data.transactions, Entry(ACCOUNT_ID, broken)])
    extract = pull()
    assert extract.tables["transactions"].num_rows == 8
    [record] = extract.quarantine
    assert record.entity == "transactions" and record.reason == "missing required field transactionAmount.amount"
    assert record.record_key == f"institution=sandbox account_id={ACCOUNT_ID} transactionId=TXBROKEN"
    assert '"someNewField":"kept in the quarantine payload"' in record.payload
