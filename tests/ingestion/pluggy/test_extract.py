"""A pull of the stand-in against the bank truth it serves: rows equal to the truth (counts and sums per account
and month, computed here from the truth), the per-record contract with quarantine, and identical reruns."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest

from ingestion.pluggy.client import PluggyClient
from ingestion.pluggy.extract import pull_items
from ingestion.pluggy.parse import SAO_PAULO
from sandboxes.pluggy.data import pluggy_id
from tests.ingestion.pluggy.conftest import END, FAST, START


def _per_account_month(rows, account, day, amount):
    totals = defaultdict(lambda: [0, Decimal(0)])
    for row in rows:
        key = (account(row), day(row).replace(day=1))
        totals[key][0] += 1
        totals[key][1] += amount(row)
    return {key: tuple(value) for key, value in totals.items()}


def test_a_pull_gives_the_bank_truth_back(pluggy, settings, client, truth):
    extract = pull_items(client, list(settings.items), START, END, END)
    assert extract.quarantine == []

    expected = _per_account_month(
        truth["bank_transactions"],
        lambda t: pluggy_id("account", t["account_id"]),
        lambda t: t["booking_date"],
        lambda t: t["amount"] if t["credit_debit_type"] == "CREDITO" else -t["amount"],
    )
    got = _per_account_month(
        extract.tables["transactions"].to_pylist(),
        lambda r: r["account_id"],
        lambda r: r["booking_date"],
        lambda r: r["signed_amount"],
    )
    assert got == expected and sum(n for n, _ in got.values()) == len(truth["bank_transactions"])

    lines = [(p, p["brazilian_amount"]) for p in truth["card_transactions"]]
    lines += [(p, p["iof_amount"]) for p in truth["card_transactions"] if p["iof_amount"]]
    expected_cards = _per_account_month(
        lines,
        lambda line: pluggy_id("card", line[0]["card_account_id"]),
        lambda line: line[0]["transaction_datetime"].astimezone(SAO_PAULO).date(),
        lambda line: -line[1],
    )
    got_cards = _per_account_month(
        extract.tables["credit_card_transactions"].to_pylist(),
        lambda r: r["credit_card_account_id"],
        lambda r: r["transaction_date"],
        lambda r: r["signed_brazilian_amount"],
    )
    assert got_cards == expected_cards

    # one balance per BANK account, dated the stand-in's today, equal to the truth's closing balance
    balances = {row["account_id"]: row for row in extract.tables["balances"].to_pylist()}
    for account in truth["bank_accounts"]:
        movements = sum(
            (t["amount"] if t["credit_debit_type"] == "CREDITO" else -t["amount"])
            for t in truth["bank_transactions"]
            if t["account_id"] == account["account_id"]
        )
        row = balances[pluggy_id("account", account["account_id"])]
        assert (row["balance"], row["balance_date"]) == (account["opening_balance"] + movements, END)
    accounts = extract.tables["accounts"].to_pylist()
    assert {(a["compe_code"], a["number"]) for a in accounts if a["type"] == "BANK"} == {
        (a["compe_code"], f"{a['number']}-{a['check_digit']}") for a in truth["bank_accounts"]
    }
    assert {a["institution"] for a in accounts} == {f"bank_{a['compe_code']}" for a in truth["bank_accounts"]}


def test_counterparty_and_types_follow_the_mapping(pluggy, settings, client, truth):
    extract = pull_items(client, list(settings.items), START, END, END)
    rows = {r["provider_id"]: r for r in extract.tables["transactions"].to_pylist()}
    for t in truth["bank_transactions"]:
        row = rows[t["transaction_id"]]
        assert row["transaction_type"] == t["type"]
        assert row["credit_debit_type"] == t["credit_debit_type"]
        assert row["booking_date"] == t["booking_date"]
        assert (row["partie_cnpj_cpf"], row["partie_compe_code"], row["partie_number"], row["partie_check_digit"]) == (
            t["partie_cnpj_cpf"],
            t["partie_compe_code"],
            t["partie_number"],
            t["partie_check_digit"],
        )
    assert extract.tables["transactions"].schema.field("amount").type == pa.decimal128(18, 4)


def test_a_malformed_transaction_is_quarantined_with_its_reason_and_the_rest_lands(pluggy, settings, client, truth):
    bad, worse = truth["bank_transactions"][3], truth["bank_transactions"][10]
    pluggy.corrupt(pluggy_id("transaction", bad["transaction_id"]), amount="n/d")
    pluggy.corrupt(pluggy_id("transaction", worse["transaction_id"]), date=None)
    extract = pull_items(client, list(settings.items), START, END, END)
    reasons = {record.record_key.rsplit("transaction=", 1)[1]: record for _, record in extract.quarantine}
    first = reasons[pluggy_id("transaction", bad["transaction_id"])]
    assert (first.source, first.entity) == ("pluggy", "transactions")
    assert first.reason == "`amount` is not a number: 'n/d'"
    assert f"account={pluggy_id('account', bad['account_id'])}" in first.record_key
    assert '"amount": "n/d"' in first.payload
    assert reasons[pluggy_id("transaction", worse["transaction_id"])].reason == "`date` is missing"
    assert extract.tables["transactions"].num_rows == len(truth["bank_transactions"]) - 2  # landed + quarantined
    months = {month for month, _ in extract.quarantine}
    assert months <= {date(2024, m, 1) for m in (1, 2, 3)}


def test_the_same_answers_give_the_same_tables(pluggy, settings, client):
    first = pull_items(client, list(settings.items), START, END, END).tables
    second = pull_items(client, list(settings.items), START, END, END).tables
    assert all(first[name].equals(second[name]) for name in first)


def test_a_past_range_gets_no_balance_of_today(pluggy, settings, client, truth):
    extract = pull_items(client, list(settings.items), date(2024, 1, 1), date(2024, 1, 31), END)
    # every BANK account's one balance is dated today, outside January
    assert extract.tables["balances"].num_rows == 0
    assert extract.balances_outside_range == len(truth["bank_accounts"]) > 0
    assert {r["booking_date"].month for r in extract.tables["transactions"].to_pylist()} == {1}


def test_a_malformed_account_is_quarantined_saying_its_transactions_were_not_pulled(pluggy, settings, client, truth):
    card = next(a for accounts in pluggy.world.accounts.values() for a in accounts if a["type"] == "CREDIT")
    card["type"] = "LOAN"
    extract = pull_items(client, list(settings.items), START, END, END)
    [(month, record)] = extract.quarantine
    assert (month, record.entity) == (START, "accounts")
    assert (
        record.reason
        == "`type` 'LOAN' is neither BANK nor CREDIT; the account's balance and transactions were not pulled"
    )
    assert extract.tables["credit_card_transactions"].num_rows == 0
    assert extract.tables["transactions"].num_rows == len(truth["bank_transactions"])


def _closed_bills_due(truth, start: date, end: date) -> dict[str, dict]:
    return {
        pluggy_id("bill", bill["bill_id"]): bill
        for bill in truth["card_bills"]
        if bill["closing_date"] <= END and start <= bill["due_date"] <= end
    }


def test_the_card_bills_are_the_truths_closed_bills_due_in_the_range(pluggy, settings, truth):
    """`GET /bills` page by page (one bill a page here): each closed bill due in the range once, its total the
    truth's, its dates the written ones, and its billed card transactions adding up to it."""
    pluggy.bills_page_size = 1
    with PluggyClient(settings.base_url, settings.client_id, settings.client_secret, FAST) as client:
        extract = pull_items(client, list(settings.items), START, END, END)
        assert client.calls["GET /bills"] > len(truth["card_accounts"])  # more than one page per card
    expected = _closed_bills_due(truth, START, END)
    assert expected, "the 3-month truth should have bills due in the range"
    bills = {row["bill_id"]: row for row in extract.tables["credit_card_bills"].to_pylist()}
    assert set(bills) == set(expected)
    billed = defaultdict(Decimal)
    for row in extract.tables["credit_card_transactions"].to_pylist():
        if row["bill_id"]:
            billed[row["bill_id"]] += row["signed_brazilian_amount"]
    for bill_id, bill in expected.items():
        row = bills[bill_id]
        assert (row["due_date"], row["bill_closing_date"], row["total_amount"], row["total_currency"]) == (
            bill["due_date"],
            bill["closing_date"],
            bill["total_amount"],
            "BRL",
        )
        assert row["credit_card_account_id"] == pluggy_id("card", bill["card_account_id"])
        assert (row["finance_charges_amount"], row["payments_amount"], row["allows_installments"]) == (
            None,
            None,
            False,
        )
        assert billed[bill_id] == -bill["total_amount"]
    # a month's run keeps the bills due that month only
    with PluggyClient(settings.base_url, settings.client_id, settings.client_secret, FAST) as client:
        january = pull_items(client, list(settings.items), START, date(2024, 1, 31), END)
    assert {r["bill_id"] for r in january.tables["credit_card_bills"].to_pylist()} == set(
        _closed_bills_due(truth, START, date(2024, 1, 31))
    )


def test_a_malformed_bill_is_quarantined_in_its_due_month_and_the_rest_land(pluggy, settings, client, truth):
    expected = _closed_bills_due(truth, START, END)
    bad_id, bad = sorted(expected.items(), key=lambda item: item[1]["due_date"])[0]
    pluggy.corrupt(bad_id, totalAmount="R$ 10", payments=[{"id": "p1", "amount": 5}])
    extract = pull_items(client, list(settings.items), START, END, END)
    [(month, record)] = extract.quarantine
    assert (month, record.entity) == (bad["due_date"].replace(day=1), "credit_card_bills")
    assert record.reason == "`totalAmount` is not a number: 'R$ 10'" and record.record_key.endswith(f"bill={bad_id}")
    assert extract.tables["credit_card_bills"].num_rows == len(expected) - 1


def test_a_bill_sums_its_finance_charges_and_payments():
    from ingestion.pluggy.parse import RecordError, bill_row

    record = {
        "id": "b1",
        "dueDate": "2024-02-05T00:00:00.000Z",
        "billClosingDate": None,
        "totalAmount": Decimal("1843.72"),
        "totalAmountCurrencyCode": "BRL",
        "financeCharges": [
            {"id": "f1", "type": "IOF", "amount": Decimal("12.30"), "currencyCode": "BRL"},
            {"id": "f2", "type": "LATE_PAYMENT_INTEREST", "amount": Decimal("3.70"), "currencyCode": "BRL"},
        ],
        "payments": [
            {"id": "p1", "valueType": "OTHER", "paymentDate": "2024-01-10", "amount": 100, "currencyCode": "BRL"}
        ],
    }
    row = bill_row(record, "bank_341", "item", {"account_id": "card"})
    assert (row["due_date"], row["bill_closing_date"]) == (date(2024, 2, 5), None)  # the date written, not 04/02
    assert (row["finance_charges_amount"], row["payments_amount"], row["minimum_payment_amount"]) == (
        Decimal("16.0000"),
        Decimal("100.0000"),
        None,
    )
    with pytest.raises(RecordError, match="`payments` is not a list of objects"):
        bill_row({**record, "payments": "none"}, "bank_341", "item", {"account_id": "card"})
