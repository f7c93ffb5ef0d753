"""Paging, retries, faults, the interaction id and the monthly call budget, against the sandbox."""

import logging
from dataclasses import replace
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from ingestion.common.lake import LocalLake
from ingestion.open_finance.auth import TokenStore
from ingestion.open_finance.budget import CallBudget
from ingestion.open_finance.errors import (
    CallBudgetExceeded,
    InteractionIdMismatch,
    OpenFinanceHTTPError,
    OpenFinancePayloadError,
)
from ingestion.open_finance.extract import pull_institution
from ingestion.open_finance.parse import SAO_PAULO
from sandboxes.open_finance_bank import BankData, Entry, SandboxBank, endpoints, routes
from sandboxes.open_finance_bank import records as r
from tests.ingestion.open_finance.conftest import DAY, FAST

CURRENT = "accounts/v2/accounts/{accountId}/transactions-current"
HISTORY = "accounts/v2/accounts/{accountId}/transactions"
BALANCES = "accounts/v2/accounts/{accountId}/balances"


def busy_account(count: int) -> BankData:
    """One account with `count` PIX receipts spread over the last seven days."""
    entries = []
    for index in range(count):
        when = datetime.combine(DAY - timedelta(days=index % 7), time(8), tzinfo=SAO_PAULO) + timedelta(seconds=index)
        record = r.account_transaction(f"TXB{index:05d}", Decimal("10.00") + index, when, f"PIX {index}", "PIX")
        entries.append(Entry("acc-busy", record))
    account = r.account("acc-busy", "0099887766", "1", "Banco Cheio", "11222333000181", "998")
    return BankData(
        "Banco Cheio",
        "11222333000181",
        accounts=[account],
        transactions=entries,
        balances=[Entry("acc-busy", r.balance(Decimal("1.00"), datetime.combine(DAY, time(20), tzinfo=SAO_PAULO)))],
    )


@pytest.fixture(scope="module")
def busy_bank():
    with SandboxBank(data=busy_account(2500), today=DAY) as bank:
        yield bank


def test_2500_transactions_come_in_three_pages_following_links_next(busy_bank):
    consent_id, code = busy_bank.create_authorised_consent()
    budget = CallBudget(None)
    extract = pull_institution(
        busy_bank.institution(consent_id),
        DAY,
        token_store=TokenStore(None),
        budget=budget,
        settings=FAST,
        today=DAY,
        grant={"authorization_code": code},
    )
    table = extract.tables["transactions"]
    assert table.num_rows == 2500 and len(set(table.column("transaction_id").to_pylist())) == 2500
    pages = [q for q in busy_bank.requests if q["path"].endswith("/transactions-current")]
    assert len(pages) == 3
    assert "page-size=1000" in pages[0]["query"] and "pagination-key" not in pages[0]["query"]
    assert "page=2" in pages[1]["query"] and "pagination-key=" in pages[1]["query"]
    assert "page=3" in pages[2]["query"] and "pagination-key=" in pages[2]["query"]
    # follow-up pages carry the bank's pagination-key, which the specs exclude from the call count
    assert budget.used("sandbox", CURRENT) == 1 and extract.calls[CURRENT] == 3


def test_429_then_success(pull, bank):
    bank.inject("429", count=2, match="/balances")
    extract = pull()
    assert extract.tables["balances"].num_rows == 1
    assert sum(q["path"].endswith("/balances") for q in bank.requests) == 3
    assert pull.budget.used("sandbox", BALANCES) == 3  # the institution counts refused calls too


@pytest.mark.parametrize("kind", ["529", "500", "503", "malformed", "truncate", "reset"])
def test_transient_faults_are_retried(pull, bank, kind):
    bank.inject(kind, count=1, match="/transactions-current")
    assert pull().tables["transactions"].num_rows == 8


def test_a_slow_answer_times_out_and_is_retried(pull, bank):
    bank.inject("slow", count=1, match="/open-banking/exchanges/v1/operations", seconds=0.6)
    assert pull(settings=replace(FAST, timeout=0.3)).tables["fx_operations"].num_rows == 2


def test_retries_are_logged_at_warning_and_counted_in_the_extract(pull, bank, caplog):
    bank.inject("429", count=1, match="/balances")
    bank.inject("500", count=1, match="/transactions-current")
    bank.inject("truncate", count=1, match="/transactions-current")
    with caplog.at_level(logging.WARNING, logger="ingestion.common.retry"):
        extract = pull()
    assert extract.tables["transactions"].num_rows == 8 and extract.tables["balances"].num_rows == 1
    assert extract.retries == {"HTTP 429": 1, "HTTP 500": 1, "bad body": 1}
    lines = [r.getMessage() for r in caplog.records if r.name == "ingestion.common.retry"]
    assert len(lines) == 3 and all(line.startswith("open finance sandbox: ") for line in lines), lines
    assert any("balances of account acc-importau-0001: attempt 1 of 3 failed (HTTP 429: " in line for line in lines)
    assert any("attempt 1 of 3 failed (HTTP 500" in line for line in lines), lines
    assert any("attempt 2 of 3 failed (bad body: " in line and "not complete JSON" in line for line in lines)
    assert pull().retries == {}  # a clean pull: none


def test_retries_end_with_a_clear_error(pull, bank):
    bank.inject("429", count=10, match="/balances")
    with pytest.raises(OpenFinanceHTTPError) as failed:
        pull()
    message = str(failed.value)
    assert "'sandbox'" in message and "balances of account acc-importau-0001" in message
    assert "HTTP 429" in message and "after 3 attempts" in message and "TOO_MANY_REQUESTS" in message


def test_a_truncated_page_fails_the_partition_and_leaves_stored_data_alone(pull, bank, tmp_path):
    lake = LocalLake(tmp_path / "lake")
    good = pull()
    stored_path = Path(lake.write_partition("open_finance", "transactions", DAY, good.tables["transactions"]))
    stored = stored_path.read_bytes()

    bank.inject("truncate", count=3, match="/transactions-current")  # every attempt cut short
    with pytest.raises(OpenFinancePayloadError) as failed:
        extract = pull()
        lake.write_partition("open_finance", "transactions", DAY, extract.tables["transactions"])  # never reached
    assert "not complete JSON" in str(failed.value) and "nothing stored" in str(failed.value)
    [record] = failed.value.quarantine
    assert record.source == "open_finance" and record.entity == CURRENT and record.payload.startswith('{"data"')
    assert stored_path.read_bytes() == stored


def test_a_listing_shorter_than_its_total_fails(pull, monkeypatch):
    def lying(state, request, consent):
        payload = endpoints.accounts(state, request, consent)
        payload["meta"]["totalRecords"] += 1  # the bank claims one more account than it sends
        return payload

    patched = [(p, lying if h is endpoints.accounts else h, perm, extra) for p, h, perm, extra in routes.DATA_ROUTES]
    monkeypatch.setattr(routes, "DATA_ROUTES", patched)
    with pytest.raises(OpenFinancePayloadError, match="only 1 of meta.totalRecords=2 records"):
        pull()


def test_every_call_has_a_fresh_interaction_id(pull, bank):
    pull()
    ids = [q["x-fapi-interaction-id"] for q in bank.requests]
    assert len(ids) > 10 and len(set(ids)) == len(ids)


def test_a_wrong_echo_fails_and_a_missing_echo_is_logged(pull, bank, caplog):
    bank.inject("wrong_echo", count=1, match="/balances")
    with pytest.raises(InteractionIdMismatch, match="echoed x-fapi-interaction-id"):
        pull()
    bank.inject("drop_echo", count=1, match="/balances")
    with caplog.at_level(logging.WARNING, logger="ingestion.open_finance"):
        assert pull().tables["balances"].num_rows == 1
    assert "without echoing x-fapi-interaction-id" in caplog.text


def test_monthly_budget_stops_a_backfill_with_a_clear_message(bank, consent, tmp_path):
    consent_id, code = consent
    institution = bank.institution(consent_id, monthly_call_budget={HISTORY: 2})
    store = TokenStore(tmp_path / "tokens.json")

    def run(day):
        budget = CallBudget(tmp_path / "budget.json", clock=lambda: datetime(2025, 3, 20, 12))  # a fresh process
        return pull_institution(
            institution,
            day,
            token_store=store,
            budget=budget,
            settings=FAST,
            today=DAY,
            grant={"authorization_code": code},
        )

    run(DAY)  # transactions-current: another endpoint, another budget
    run(DAY - timedelta(days=10))  # a backfill: windows before D-6 use /transactions
    run(DAY - timedelta(days=11))
    bank.reset_requests()
    with pytest.raises(CallBudgetExceeded) as exceeded:
        run(DAY - timedelta(days=12))
    message = str(exceeded.value)
    assert "'sandbox'" in message and HISTORY in message and "2 of 2 calls in 2025-03" in message
    assert "No call was made" in message
    assert not any(q["path"].endswith("/transactions") for q in bank.requests)
    next_month = CallBudget(tmp_path / "budget.json", clock=lambda: datetime(2025, 4, 1, 0, 1))
    assert next_month.used("sandbox", HISTORY) == 0 and next_month.used("sandbox", HISTORY, "2025-03") == 2
    assert next_month.used("sandbox", CURRENT, "2025-03") == 1
