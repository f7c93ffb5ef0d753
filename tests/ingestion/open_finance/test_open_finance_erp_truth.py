"""The demo company's bank truth served by the sandbox: official shapes, and a pull that gives the truth back."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from ingestion.open_finance.auth import TokenStore
from ingestion.open_finance.budget import CallBudget
from ingestion.open_finance.extract import pull_institution
from sandboxes.demo_company.company import generate
from sandboxes.open_finance_bank import SandboxBank
from sandboxes.open_finance_bank.erp_truth import bank_data_from_truth, read_truth
from tests.ingestion.open_finance.conftest import FAST
from tests.ingestion.open_finance.raw_calls import Raw
from tests.ingestion.open_finance.spec_schemas import validate

START, END = date(2024, 1, 1), date(2024, 3, 31)


@pytest.fixture(scope="module")
def truth() -> dict[str, list[dict]]:
    company = generate(seed=7, scale=0.1, start=START, end=END)
    return {name: table.to_pylist() for name, table in company.bank.items()}


@pytest.fixture(scope="module")
def card_bank_compe(truth) -> str:
    card_account = truth["card_accounts"][0]["account_id"]
    return next(a["compe_code"] for a in truth["bank_accounts"] if a["account_id"] == card_account)


@pytest.fixture(scope="module")
def demo_bank(truth, card_bank_compe):
    with SandboxBank(data=bank_data_from_truth(truth)[card_bank_compe], today=END) as bank:
        yield bank


def test_one_bank_data_per_institution(truth):
    banks = bank_data_from_truth(truth)
    assert set(banks) == {a["compe_code"] for a in truth["bank_accounts"]}
    assert sum(len(b.accounts) for b in banks.values()) == len(truth["bank_accounts"])
    assert sum(len(b.transactions) for b in banks.values()) == len(truth["bank_transactions"])
    assert sum(len(b.fx_operations) for b in banks.values()) == len(truth["fx_operations"])
    for compe, bank in banks.items():
        assert {a["compeCode"] for a in bank.accounts} == {compe}


def test_read_truth_reads_the_writer_output(truth, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    for name, rows in truth.items():
        pq.write_table(pa.Table.from_pylist(rows), tmp_path / f"{name}.parquet")
    assert read_truth(tmp_path)["bank_transactions"] == truth["bank_transactions"]


def test_the_pulled_window_is_the_truth(demo_bank, truth):
    consent_id, code = demo_bank.create_authorised_consent()
    extract = pull_institution(
        demo_bank.institution(consent_id),
        END,
        token_store=TokenStore(None),
        budget=CallBudget(None),
        settings=FAST,
        today=END,
        grant={"authorization_code": code},
    )
    assert extract.quarantine == []
    accounts = {a["accountId"] for a in demo_bank.state.data.accounts}
    window = [
        t
        for t in truth["bank_transactions"]
        if t["account_id"] in accounts and END - timedelta(days=6) <= t["booking_date"] <= END
    ]
    pulled = {row["transaction_id"]: row for row in extract.tables["transactions"].to_pylist()}
    assert set(pulled) == {t["transaction_id"] for t in window}
    for t in window:
        row = pulled[t["transaction_id"]]
        assert row["amount"] == t["amount"] and row["booking_date"] == t["booking_date"]
        assert row["transaction_datetime"] == t["transaction_datetime"]
    operations = [o for o in truth["fx_operations"] if o["account_id"] in accounts]
    fx = {row["operation_id"]: row for row in extract.tables["fx_operations"].to_pylist()}
    assert set(fx) == {o["operation_id"] for o in operations}
    for operation in operations:
        row = fx[operation["operation_id"]]
        assert row["fx_rate"] == operation["fx_rate"] and row["foreign_value"] == operation["foreign_amount"]
        assert row["local_currency_value"] == operation["local_amount"]
    events = sum(1 for e in truth["fx_operation_events"] if e["operation_id"] in fx)
    assert extract.tables["fx_operation_events"].num_rows == events
    [balance] = [b for b in extract.tables["balances"].to_pylist() if b["account_id"] == sorted(accounts)[0]]
    account = next(a for a in truth["bank_accounts"] if a["account_id"] == sorted(accounts)[0])
    booked = sum(
        (t["amount"] if t["credit_debit_type"] == "CREDITO" else -t["amount"])
        for t in truth["bank_transactions"]
        if t["account_id"] == account["account_id"] and t["booking_date"] <= END
    )
    assert balance["available_amount"] == account["opening_balance"] + booked
    card_rows = extract.tables["credit_card_transactions"].to_pylist()
    bills = {b["bill_id"] for b in truth["card_bills"] if b["due_date"] >= END - timedelta(days=6)}
    assert {r["bill_id"] for r in card_rows if r["bill_id"]} <= bills
    assert all(r["brazilian_amount"] > Decimal(0) for r in card_rows)


def test_every_demo_answer_validates_against_the_official_schemas(demo_bank, truth):
    consent_id, code = demo_bank.create_authorised_consent()
    raw = Raw(demo_bank, consent_id, code)
    try:
        account = demo_bank.state.data.accounts[0]["accountId"]
        card = demo_bank.state.data.credit_card_accounts[0]["creditCardAccountId"]
        operation = demo_bank.state.data.fx_operations[0].operation_id
        bill = demo_bank.state.data.credit_card_bills[0].data["billId"]
        quarter = {"fromTransactionDate": START.isoformat(), "toTransactionDate": END.isoformat()}
        calls = [
            ("accounts", "/accounts", "/open-banking/accounts/v2/accounts", {}),
            (
                "accounts",
                "/accounts/{accountId}/balances",
                f"/open-banking/accounts/v2/accounts/{account}/balances",
                {},
            ),
            (
                "accounts",
                "/accounts/{accountId}/transactions",
                f"/open-banking/accounts/v2/accounts/{account}/transactions",
                {"fromBookingDate": START.isoformat(), "toBookingDate": END.isoformat()},
            ),
            ("credit-cards", "/accounts", "/open-banking/credit-cards-accounts/v2/accounts", {}),
            (
                "credit-cards",
                "/accounts/{creditCardAccountId}/bills",
                f"/open-banking/credit-cards-accounts/v2/accounts/{card}/bills",
                {},
            ),
            (
                "credit-cards",
                "/accounts/{creditCardAccountId}/bills/{billId}/transactions",
                f"/open-banking/credit-cards-accounts/v2/accounts/{card}/bills/{bill}/transactions",
                quarter,
            ),
            (
                "credit-cards",
                "/accounts/{creditCardAccountId}/transactions",
                f"/open-banking/credit-cards-accounts/v2/accounts/{card}/transactions",
                quarter,
            ),
            ("exchanges", "/operations", "/open-banking/exchanges/v1/operations", {}),
            ("exchanges", "/operations/{operationId}", f"/open-banking/exchanges/v1/operations/{operation}", {}),
            (
                "exchanges",
                "/operations/{operationId}/events",
                f"/open-banking/exchanges/v1/operations/{operation}/events",
                {},
            ),
        ]
        for spec_name, spec_path, path, query in calls:
            response = raw.call("GET", path, params=query)
            assert response.status_code == 200, (path, response.text)
            body = response.json()
            assert body["data"], path
            validate(spec_name, spec_path, "get", "200", body, demo_bank.base_url)
    finally:
        raw.close()
