"""The cross-checks of `importau evaluate` (sandboxes/demo_company/scoring.py) on hand-made rows, each counted by
hand."""

from datetime import date
from decimal import Decimal

from sandboxes.demo_company.scoring import (
    LANDED_COST_FIELDS,
    MODEL_METRICS_SLOT,
    balances_check,
    deduplication_check,
    landed_cost_check,
    score,
)


def declaration(declaration_id: str, flagged: bool, **mart_overrides) -> dict:
    row = {"declaration_id": declaration_id, "mart_flagged": flagged}
    for field in LANDED_COST_FIELDS:
        row[f"erp_{field}"] = Decimal("100.00")
        row[f"mart_{field}"] = Decimal(mart_overrides.get(field, "100.00"))
    return row


ERRORS = [{"declaration_id": "DI-2", "field": "icms_brl", "correct_value": "120.00"}]


def test_landed_cost_is_exact_when_the_mart_is_the_law_and_flags_exactly_the_erp_errors():
    rows = [declaration("DI-1", False), declaration("DI-2", True, icms_brl="120.00")]
    check = landed_cost_check(rows, ERRORS)
    assert check["exact"] and check["flagged_exactly_the_erp_errors"] and check["fields_off_the_law"] == 0


def test_landed_cost_off_by_a_centavo_or_a_missed_flag_is_not_exact():
    off = landed_cost_check([declaration("DI-1", False, ii_brl="100.01"), declaration("DI-2", True, icms_brl="120.00")],
                            ERRORS)  # fmt: skip
    assert not off["exact"] and off["first_fields_off"] == [["DI-1", "ii_brl"]]
    unflagged = landed_cost_check([declaration("DI-1", False), declaration("DI-2", False, icms_brl="120.00")], ERRORS)
    assert not unflagged["exact"] and not unflagged["flagged_exactly_the_erp_errors"]


BANK = {
    "bank_accounts": [{"account_id": "A", "opening_balance": Decimal("1000.00")}],
    "bank_transactions": [
        {"transaction_id": "t1", "account_id": "A", "booking_date": date(2024, 1, 2), "credit_debit_type": "DEBITO",
         "amount": Decimal("300.00"), "provisional_transaction_id": None},
        {"transaction_id": "t2", "account_id": "A", "booking_date": date(2024, 1, 3), "credit_debit_type": "CREDITO",
         "amount": Decimal("50.00"), "provisional_transaction_id": "p2"},
    ],
}  # fmt: skip


def test_balances_follow_the_postings_day_by_day():
    rows = [
        {"account_id": "A", "date": "2024-01-02", "amount": Decimal("700.00")},
        {"account_id": "A", "date": date(2024, 1, 3), "amount": Decimal("750.00")},
    ]
    assert balances_check(rows, BANK) == {"account_days": 2, "off": 0, "first_off": [], "exact": True}
    double_counted = [{"account_id": "A", "date": "2024-01-03", "amount": Decimal("800.00")}]
    assert balances_check(double_counted, BANK)["first_off"] == [["A", "2024-01-03", "800.00 != 750.00"]]


def test_a_movement_delivered_twice_is_counted_once_under_its_final_id():
    assert deduplication_check(["t1", "t2"], BANK["bank_transactions"])["exact"]
    both = deduplication_check(["t1", "t2", "p2"], BANK["bank_transactions"])
    assert not both["exact"] and both["provisional_ids_in_staging"] == 1
    assert not deduplication_check(["t1", "t1", "t2"], BANK["bank_transactions"])["exact"]


def test_the_score_has_every_section_and_the_model_slot():
    truth = {"generator": {"seed": 1, "messiness": "hostile"}, "matches": [], "planted_cases": [], "erp_errors": []}
    result = score("hostile", truth, BANK, [], [], [], ["t1", "t2"])
    assert set(result) == {"company", "reconciliation", "landed_cost", "treasury", MODEL_METRICS_SLOT}
    assert result["reconciliation"]["meets_targets"]
    assert not result["treasury"]["exact"]  # no balance row to check: nothing shown is not exact


def test_declarations_without_every_rate_are_counted_apart_not_compared():
    unrated = {**declaration("DI-3", True, ii_brl="0.00"), "mart_missing": True}
    rows = [declaration("DI-1", False), declaration("DI-2", True, icms_brl="120.00"), unrated]
    errors = [*ERRORS, {"declaration_id": "DI-3", "field": "ii_brl", "correct_value": "90.00"}]
    check = landed_cost_check(rows, errors)
    assert check["exact"] and (check["declarations"], check["declarations_with_a_missing_rate"]) == (2, 1)
