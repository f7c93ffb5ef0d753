"""The score of a built demo warehouse against its ground truth: what `importau evaluate --json` prints.

Pure Python over rows the command queried (dicts) and the files the generator wrote (ground truth, bank truth):
- `reconciliation`: `evaluation.evaluate` (precision/recall overall, per rule, per match type, per planted case);
- `landed_cost`: every declaration of `marts.fct_import_landed_cost` equals the law to the centavo (the ERP's
  values corrected by the ground truth's `erp_errors`), and exactly the declarations the ERP got wrong are flagged
  (declarations whose NCM the reference rates lack are counted apart: the law cannot be computed for them);
- `treasury`: every account's balance in `marts.fct_cash_position_daily` equals the bank truth's opening balance
  plus its postings, every business day; and staging holds each bank movement exactly once (no cross-pull
  duplicate double counted: the ids are the bank truth's final ids, none of the provisional ones);
- `model_metrics`: a slot for the ML models against their baselines (`MODEL_METRICS_SLOT`), filled by a pure
  function of `ml_assets` when one is wired (see `model_metrics`).
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from sandboxes.demo_company.evaluation import evaluate

LANDED_COST_FIELDS = (
    "exchange_rate",
    "customs_value_brl",
    "ii_brl",
    "ipi_brl",
    "pis_brl",
    "cofins_brl",
    "siscomex_fee_brl",
    "afrmm_brl",
    "icms_brl",
)
MODEL_METRICS_SLOT = "model_metrics"


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def reconciliation_score(mart_rows: Iterable[Mapping], ground_truth: Mapping, level: str) -> dict:
    result = evaluate(mart_rows, ground_truth["matches"], ground_truth.get("planted_cases", ()))
    score = result.as_dict()
    score["meets_targets"] = result.meets_hostile_targets if level == "hostile" else result.meets_targets
    score["targets"] = (
        "precision >= 0.97, nothing silently wrong (the rest NEEDS_REVIEW or unmatched)"
        if level == "hostile"
        else "precision >= 0.99, recall >= 0.97"
    )
    return score


def landed_cost_check(declarations: Iterable[Mapping], erp_errors: Iterable[Mapping]) -> dict:
    """`declarations`: per declaration, `erp_<field>` (what the ERP recorded), `mart_<field>` (what the mart
    computed), `mart_flagged` and `mart_missing` (a rate the reference seeds lack). The law can only be checked
    where the mart has every rate: declarations with a missing rate are counted apart, not compared."""
    rows, missing = {}, []
    for row in declarations:
        if row.get("mart_missing"):
            missing.append(row["declaration_id"])
        else:
            rows[row["declaration_id"]] = row
    expected = {d: {f: _dec(row[f"erp_{f}"]) for f in LANDED_COST_FIELDS} for d, row in rows.items()}
    errors = [e for e in erp_errors if e["declaration_id"] in rows]
    for error in errors:
        if error["declaration_id"] in expected:
            expected[error["declaration_id"]][error["field"]] = Decimal(error["correct_value"])
    off = [
        [declaration_id, field]
        for declaration_id, row in sorted(rows.items())
        for field in LANDED_COST_FIELDS
        if _dec(row[f"mart_{field}"]) != expected[declaration_id][field]
    ]
    flagged = {d for d, row in rows.items() if row["mart_flagged"]}
    should_flag = {e["declaration_id"] for e in errors}
    return {
        "declarations": len(rows),
        "declarations_with_a_missing_rate": len(missing),
        "fields_off_the_law": len(off),
        "first_fields_off": off[:10],
        "flagged": len(flagged),
        "erp_errors_planted": len(should_flag),
        "flagged_exactly_the_erp_errors": flagged == should_flag,
        "exact": not off and flagged == should_flag,
    }


def balances_check(balance_rows: Iterable[Mapping], bank: Mapping[str, list[dict]]) -> dict:
    """`balance_rows`: account_id, date, amount of the `account_balance` lines of the cash position."""
    accounts = {a["account_id"]: a for a in bank["bank_accounts"]}
    postings = defaultdict(list)
    for t in bank["bank_transactions"]:
        postings[t["account_id"]].append(
            (t["booking_date"], t["amount"] if t["credit_debit_type"] == "CREDITO" else -t["amount"])
        )
    off, checked = [], 0
    for row in balance_rows:
        account = accounts.get(row["account_id"])
        day = row["date"] if isinstance(row["date"], date) else date.fromisoformat(str(row["date"]))
        if account is None:
            off.append([row["account_id"], str(day), "no such account in the bank truth"])
            continue
        expected = account["opening_balance"] + sum((v for d, v in postings[row["account_id"]] if d <= day), Decimal(0))
        checked += 1
        if _dec(row["amount"]) != expected:
            off.append([row["account_id"], str(day), f"{row['amount']} != {expected}"])
    return {"account_days": checked, "off": len(off), "first_off": off[:10], "exact": checked > 0 and not off}


def deduplication_check(staging_ids: Iterable[str], bank_transactions: Iterable[Mapping]) -> dict:
    """Staging holds every bank movement once, under its final id: no provisional id of a movement delivered
    twice across pulls survives, and nothing is missing."""
    ids = list(staging_ids)
    truth = list(bank_transactions)
    final = {t["transaction_id"] for t in truth}
    provisional = {t["provisional_transaction_id"] for t in truth if t.get("provisional_transaction_id")}
    return {
        "movements_in_staging": len(ids),
        "movements_in_bank_truth": len(final),
        "delivered_twice_across_pulls": len(provisional),
        "provisional_ids_in_staging": len(provisional & set(ids)),
        "repeated_ids_in_staging": len(ids) - len(set(ids)),
        "exact": set(ids) == final and len(ids) == len(set(ids)),
    }


def model_metrics() -> dict:
    """The slot's value when nothing filled it: `importau evaluate` fills it from `ml_assets.evaluation` on the
    built warehouse (this module stays free of the warehouse and the models)."""
    return {"status": "not evaluated", "note": "importau evaluate fills this from ml_assets.evaluation"}


def score(
    level: str,
    ground_truth: Mapping,
    bank: Mapping[str, list[dict]],
    mart_rows: Iterable[Mapping],
    declarations: Iterable[Mapping],
    balance_rows: Iterable[Mapping],
    staging_ids: Iterable[str],
) -> dict:
    """The whole score of one built demo company."""
    treasury = {
        "account_balances": balances_check(balance_rows, bank),
        "deduplication": deduplication_check(staging_ids, bank["bank_transactions"]),
    }
    treasury["exact"] = all(check["exact"] for check in treasury.values())
    return {
        "company": ground_truth.get("generator", {}),
        "reconciliation": reconciliation_score(mart_rows, ground_truth, level),
        "landed_cost": landed_cost_check(declarations, ground_truth["erp_errors"]),
        "treasury": treasury,
        MODEL_METRICS_SLOT: model_metrics(),
    }
