"""The messiness post-processing (sandboxes/demo_company/messiness.py) keeps the company coherent and records every
case.

Each planted case must leave the ERP valid against its contracts, the ground-truth links pointing at movements and
documents that exist, and the money where the case says it is: a returned transfer and its return cancel out, a
batch or a split pays exactly what the ERP settled, a month-end partial settles the invoice in full. The sandbox
serves a cross-pull duplicate under its provisional id only to a pull ending before D+2.
"""

from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal

import pytest

from ingestion.erp import contracts
from sandboxes.demo_company import generate
from sandboxes.demo_company.messiness import CASES, RATES, apply
from sandboxes.open_finance_bank.data import PROVISIONAL_ID
from sandboxes.open_finance_bank.endpoints import _as_seen_by

KINDS = set(RATES["realistic"])


@pytest.fixture(scope="module")
def clean():
    return generate(seed=42, scale=1.0)


@pytest.fixture(scope="module", params=["realistic", "hostile"])
def messy(request, clean):
    return apply(clean, request.param)


def rows(company, group: str, name: str) -> list[dict]:
    return getattr(company, group)[name].to_pylist()


def signed(t: dict) -> Decimal:
    return t["amount"] if t["credit_debit_type"] == "CREDITO" else -t["amount"]


def test_clean_is_the_generator_unchanged(clean):
    assert apply(clean, "clean") is clean
    with pytest.raises(ValueError, match="unknown messiness"):
        apply(clean, "tidy")


def test_every_case_is_planted_and_recorded(messy):
    cases = rows(messy, "ground_truth", "planted_cases")
    assert {c["kind"] for c in cases} == KINDS
    assert len(CASES) == len(KINDS)  # one small function per case
    assert len({c["case_id"] for c in cases}) == len(cases)


def test_hostile_plants_more_of_every_case_than_realistic(clean):
    counts = {
        level: Counter(c["kind"] for c in rows(apply(clean, level), "ground_truth", "planted_cases"))
        for level in ("realistic", "hostile")
    }
    assert all(counts["hostile"][kind] > counts["realistic"][kind] for kind in KINDS), counts


def test_same_arguments_same_company(clean, messy):
    again = apply(clean, messy.messiness)
    for group in ("erp", "bank", "ground_truth"):
        for name, table in getattr(messy, group).items():
            assert getattr(again, group)[name].equals(table), (group, name)


def test_the_erp_stays_valid_against_its_contracts(messy):
    for entity in contracts.ENTITY_NAMES:
        _, quarantine = contracts.validate(entity, rows(messy, "erp", entity))
        assert not quarantine, (entity, [q.reason for q in quarantine][:3])


def test_every_link_points_at_a_movement_and_a_document_that_exist(messy):
    movements = {t["transaction_id"] for t in rows(messy, "bank", "bank_transactions")}
    settlements = {s["settlement_id"]: s for s in rows(messy, "erp", "payable_settlements")}
    documents = {
        "PAYABLE": {p["payable_id"] for p in rows(messy, "erp", "payables")},
        "RECEIVABLE": {r["receivable_id"] for r in rows(messy, "erp", "receivables")},
        "IMPORT_DECLARATION": {d["declaration_id"] for d in rows(messy, "erp", "import_declarations")},
    }
    for link in rows(messy, "ground_truth", "matches"):
        assert link["bank_transaction_id"] in movements, link
        assert link["erp_document_id"] in documents[link["erp_document_type"]], link
        if link["erp_settlement_id"]:
            assert settlements[link["erp_settlement_id"]]["payable_id"] == link["erp_document_id"], link


def test_money_moves_only_by_the_planted_fees(clean, messy):
    # reversals net to one payment, batches and splits move the same total: only the one-side fees add debits
    fees = sum(
        (Decimal(c["description"].split()[2]) for c in rows(messy, "ground_truth", "planted_cases")
         if c["kind"] == "FEE_ONE_SIDE"),
        Decimal(0),
    )  # fmt: skip
    clean_total = sum(map(signed, rows(clean, "bank", "bank_transactions")), Decimal(0))
    messy_total = sum(map(signed, rows(messy, "bank", "bank_transactions")), Decimal(0))
    assert messy_total == clean_total - fees


def test_batches_splits_and_month_end_partials_pay_exactly_what_the_erp_settled(messy):
    movements = {t["transaction_id"]: t for t in rows(messy, "bank", "bank_transactions")}
    settlements = {s["settlement_id"]: s for s in rows(messy, "erp", "payable_settlements")}
    by_tx, by_payable = defaultdict(list), defaultdict(list)
    for link in rows(messy, "ground_truth", "matches"):
        by_tx[link["bank_transaction_id"]].append(link)
        by_payable[link["erp_document_id"]].append(link)
    cases = defaultdict(list)
    for case in rows(messy, "ground_truth", "planted_cases"):
        cases[case["kind"]].append(case)
    for batch in {c["bank_transaction_id"] for c in cases["BATCH_PAYMENT"]}:
        links = by_tx[batch]
        assert len({movements[batch]["partie_cnpj_cpf"]}) == 1 and len(links) >= 2
        assert sum(settlements[link["erp_settlement_id"]]["amount"] for link in links) == movements[batch]["amount"]
        assert {settlements[link["erp_settlement_id"]]["settled_date"] for link in links} == {
            movements[batch]["booking_date"]
        }
    for payable in {c["erp_document_id"] for c in cases["SPLIT_IN_THREE"]}:
        links = by_payable[payable]
        assert len(links) == 3
        settled = {link["erp_settlement_id"] for link in links}
        assert len(settled) == 1
        assert (
            sum(movements[link["bank_transaction_id"]]["amount"] for link in links)
            == settlements[settled.pop()]["amount"]
        )
    payables = {p["payable_id"]: p for p in rows(messy, "erp", "payables")}
    for payable in {c["erp_document_id"] for c in cases["PARTIAL_MONTH_END"]}:
        parts = [s for s in settlements.values() if s["payable_id"] == payable]
        assert len(parts) == 2 and sum(s["amount"] for s in parts) == payables[payable]["amount"]
        months = {(s["settled_date"].year, s["settled_date"].month) for s in parts}
        assert len(months) == 2


def test_returned_transfers_cancel_out_and_only_the_second_attempt_settles(messy):
    movements = {t["transaction_id"]: t for t in rows(messy, "bank", "bank_transactions")}
    linked = {link["bank_transaction_id"] for link in rows(messy, "ground_truth", "matches")}
    by_document = defaultdict(list)
    for case in rows(messy, "ground_truth", "planted_cases"):
        if case["kind"] in ("REVERSAL", "CHARGEBACK"):
            by_document[case["erp_document_id"]].append(case["bank_transaction_id"])
    assert by_document
    for first, returned, again in by_document.values():
        assert signed(movements[first]) + signed(movements[returned]) == 0
        assert movements[returned]["transaction_name"].startswith(("DEVOLUCAO", "ESTORNO"))
        assert first not in linked and returned not in linked and again in linked


def test_cancelled_payables_were_paid(messy):
    payables = {p["payable_id"]: p for p in rows(messy, "erp", "payables")}
    settled = {s["payable_id"] for s in rows(messy, "erp", "payable_settlements")}
    cancelled = [c["erp_document_id"] for c in rows(messy, "ground_truth", "planted_cases")
                 if c["kind"] == "CANCELLED_AFTER_PAYMENT"]  # fmt: skip
    assert cancelled and all(payables[p]["status"] == "CANCELLED" and p in settled for p in cancelled)


def test_a_pull_ending_before_d_plus_2_sees_the_provisional_id():
    record = {
        "transactionId": "FINAL",
        PROVISIONAL_ID: "PROVISIONAL",
        "transactionDateTime": "2024-03-01T15:00:00.000Z",  # booked 2024-03-01 in São Paulo
    }
    assert _as_seen_by(record, date(2024, 3, 2))["transactionId"] == "PROVISIONAL"
    assert _as_seen_by(record, date(2024, 3, 3)) == {"transactionId": "FINAL", "transactionDateTime": record[
        "transactionDateTime"]}  # fmt: skip
    plain = {"transactionId": "X", "transactionDateTime": "2024-03-01T15:00:00.000Z"}
    assert _as_seen_by(plain, date(2024, 3, 1)) is plain


def test_cross_pull_duplicates_fall_on_the_last_days_of_a_demo_pull(messy):
    start = messy.start
    provisional = [t for t in rows(messy, "bank", "bank_transactions") if t["provisional_transaction_id"]]
    assert provisional
    assert all((t["booking_date"] - start).days % 31 >= 29 for t in provisional)
    ids = {t["transaction_id"] for t in rows(messy, "bank", "bank_transactions")}
    assert not ids & {t["provisional_transaction_id"] for t in provisional}


@pytest.mark.parametrize("scale", [0.2, 0.5])
def test_smaller_companies_are_made_messy_with_every_link_kept_coherent(scale):
    """The case that first touches a ground-truth link differs per scale; the lookup index must hold whichever it is
    (it was once built lazily after the first removal, and `split_in_three` then failed at scale 0.2)."""
    company = apply(generate(seed=42, scale=scale), "realistic")
    movements = {row["transaction_id"] for row in company.bank["bank_transactions"].to_pylist()}
    links = company.ground_truth["matches"].to_pylist()
    assert links and all(link["bank_transaction_id"] in movements for link in links)
    assert len({link["match_id"] for link in links}) == len(links)  # no link added twice
