"""The treasury marts (models/marts/treasury/) against the demo generator (sandboxes/demo_company).

The numbers are recomputed in Python from what the generator made. That means the ERP payables and
settlements, the bank's FX operations (with the IOF and fee the generator charged, which the mart derives from
the VET instead) and the bank's postings, priced with the generator's own PTAX (`calendar_fx.ptax_sell`, the
real SGS values). They are then compared with the marts the session build produced: every currency x business
day of the exposure, every foreign payable of the variance, every account x business day of the cash
position. The last test runs the incremental models again. Nothing may duplicate, nothing may change, and the
months outside the window must not be rewritten.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from sandboxes.demo_company.calendar_fx import business_days, ptax_sell, siscomex_rate
from tests.dbt.dbt_harness import query, run_dbt
from tests.marts.conftest import demo_company

pytestmark = pytest.mark.integration

CENT = Decimal("0.01")
LAST_DAY = date(2024, 12, 31)  # the demo year's end: ERP, bank and PTAX are all known up to it
BUCKETS = {"overdue": (None, -1), "0_30": (0, 30), "31_60": (31, 60), "61_90": (61, 90), "over_90": (91, None)}
TREASURY = ("fct_fx_exposure_daily", "fct_fx_variance", "fct_cash_position_daily")
INCREMENTAL = {
    "fct_fx_exposure_daily": ["currency", "date"],
    "fct_cash_position_daily": ["date", "line_type", "currency", "institution", "account_id"],
}


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@dataclass
class Erp:
    payables: list[dict]
    settlements: dict[str, list[dict]]  # payable_id -> its settlements
    operations: dict[str, dict]  # operation_number -> the bank's FX operation
    declarations: dict[str, date]  # po_id -> registration date of its declaration

    def settled_by(self, payable_id: str, day: date) -> Decimal:
        return sum((s["amount"] for s in self.settlements[payable_id] if s["settled_date"] <= day), Decimal(0))

    def open_amount(self, payable: dict, day: date) -> Decimal:
        if payable["invoice_date"] > day:
            return Decimal(0)
        return max(payable["amount"] - self.settled_by(payable["payable_id"], day), Decimal(0))


@pytest.fixture(scope="module")
def erp() -> Erp:
    company = demo_company()
    payables = [p for p in company.erp["payables"].to_pylist() if p["deleted_at"] is None and p["currency"] != "BRL"]
    settlements = defaultdict(list)
    for row in company.erp["payable_settlements"].to_pylist():
        if row["deleted_at"] is None:
            settlements[row["payable_id"]].append(row)
    operations = {op["operation_number"]: op for op in company.bank["fx_operations"].to_pylist()}
    shipments = {s["shipment_id"]: s["po_id"] for s in company.erp["shipments"].to_pylist()}
    declarations = {}
    for d in sorted(company.erp["import_declarations"].to_pylist(), key=lambda d: d["registration_date"]):
        declarations.setdefault(shipments[d["shipment_id"]], d["registration_date"])
    return Erp(payables, settlements, operations, declarations)


@pytest.fixture(scope="module")
def marts(demo_built) -> dict[str, list[dict]]:
    statuses = {
        r["unique_id"].split(".")[-1]: r["status"]
        for r in demo_built.run.run_results.get("results", [])
        if r["unique_id"] in {f"model.importau.{name}" for name in TREASURY}
    }
    assert statuses == dict.fromkeys(TREASURY, "success"), demo_built.run.output[-5000:]
    return query(
        demo_built.data_dir,
        exposure="SELECT * FROM marts.fct_fx_exposure_daily ORDER BY currency, date",
        variance="SELECT * FROM marts.fct_fx_variance ORDER BY payable_id",
        cash="SELECT * FROM marts.fct_cash_position_daily ORDER BY date, line_type, currency, account_id",
    )


def allocated_shares(erp: Erp) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    """settlement_id -> (principal, IOF, fee) share of its FX operation, using the generator's own IOF and fee:
    pro rata to the foreign amounts, rounded to the centavo, the rest on the largest (ties: smallest id)."""
    by_contract = defaultdict(list)
    for rows in erp.settlements.values():
        for row in rows:
            if row["fx_contract_id"]:
                by_contract[row["fx_contract_id"]].append(row)
    shares = {}
    for contract, rows in by_contract.items():
        op = erp.operations[contract]
        total = sum(r["amount"] for r in rows)
        largest = min(rows, key=lambda r: (-r["amount"], r["settlement_id"]))
        for figure in ("local_amount", "iof_amount", "fee_amount"):
            parts = {r["settlement_id"]: money(op[figure] * r["amount"] / total) for r in rows}
            others = sum(v for k, v in parts.items() if k != largest["settlement_id"])
            parts[largest["settlement_id"]] = op[figure] - others
            for settlement_id, value in parts.items():
                shares.setdefault(settlement_id, []).append(value)
    return {k: tuple(v) for k, v in shares.items()}


def test_exposure_equals_open_payables_recomputed_for_every_currency_and_business_day(erp, marts):
    first = min(p["invoice_date"] for p in erp.payables)
    days = business_days(first, LAST_DAY)
    rows = {(r["currency"], date.fromisoformat(r["date"])): r for r in marts["exposure"]}
    currencies = sorted({p["currency"] for p in erp.payables})
    assert currencies == ["CNY", "EUR", "USD"]
    assert set(rows) == {(c, d) for c in currencies for d in days}  # the panel: first invoice .. last data date
    for currency in currencies:
        previous_brl = Decimal(0)
        for day in days:
            row, rate = rows[(currency, day)], ptax_sell(currency, day)
            open_items = [(p, erp.open_amount(p, day)) for p in erp.payables if p["currency"] == currency]
            open_items = [(p, amount) for p, amount in open_items if amount > 0]
            brl = sum((money(amount * rate) for _, amount in open_items), Decimal(0))
            assert row["open_payables_count"] == len(open_items), (currency, day)
            assert dec(row["open_payables_amount"]) == sum((a for _, a in open_items), Decimal(0)), (currency, day)
            assert dec(row["open_payables_brl"]) == brl, (currency, day)
            assert dec(row["net_exposure_brl_change"]) == brl - previous_brl, (currency, day)
            for name, (low, high) in BUCKETS.items():
                in_bucket = [
                    a
                    for p, a in open_items
                    if (low is None or (p["due_date"] - day).days >= low)
                    and (high is None or (p["due_date"] - day).days <= high)
                ]
                assert dec(row[f"net_amount_due_{name}"]) == sum(in_bucket, Decimal(0)), (currency, day, name)
            previous_brl = brl
    # the cases the rules are about happen in the demo: exposure in every bucket, a partial payment open
    assert any(dec(r["net_amount_due_61_90"]) > 0 for r in marts["exposure"])
    assert any(dec(r["net_amount_due_overdue"]) > 0 for r in marts["exposure"])


def test_open_usd_payables_on_2024_06_28_by_hand(erp, marts):
    day = date(2024, 6, 28)
    usd = [p for p in erp.payables if p["currency"] == "USD" and p["invoice_date"] <= day]
    still_open = {}
    for p in usd:
        paid_by_then = erp.settled_by(p["payable_id"], day)
        if p["amount"] > paid_by_then:
            still_open[p["payable_id"]] = p["amount"] - paid_by_then
    (row,) = [r for r in marts["exposure"] if r["currency"] == "USD" and r["date"] == day.isoformat()]
    assert row["open_payables_count"] == len(still_open) > 0
    assert dec(row["open_payables_amount"]) == sum(still_open.values())
    assert dec(row["ptax_sell"]) == ptax_sell("USD", day)
    assert dec(row["open_payables_brl"]) == sum(money(v * ptax_sell("USD", day)) for v in still_open.values())


def test_variance_of_every_foreign_payable_recomputed(erp, marts):
    shares = allocated_shares(erp)
    rows = {r["payable_id"]: r for r in marts["variance"]}
    assert set(rows) == {p["payable_id"] for p in erp.payables}
    latest = {c: ptax_sell(c, LAST_DAY) for c in ("USD", "EUR", "CNY")}
    for p in erp.payables:
        row, settlements = rows[p["payable_id"]], erp.settlements[p["payable_id"]]
        booking_rate = ptax_sell(p["currency"], p["invoice_date"])
        settled = sum((s["amount"] for s in settlements), Decimal(0))
        principal = sum((shares[s["settlement_id"]][0] for s in settlements), Decimal(0))
        iof = sum((shares[s["settlement_id"]][1] for s in settlements), Decimal(0))
        fee = sum((shares[s["settlement_id"]][2] for s in settlements), Decimal(0))
        booked, booked_settled = money(p["amount"] * booking_rate), money(settled * booking_rate)
        open_amount = max(p["amount"] - settled, Decimal(0))
        open_booked = booked - booked_settled if open_amount > 0 else Decimal(0)
        assert dec(row["invoice_brl"]) == booked, p["payable_id"]
        assert dec(row["settled_amount"]) == settled, p["payable_id"]
        assert dec(row["paid_principal_brl"]) == principal, p["payable_id"]
        assert dec(row["paid_iof_brl"]) == iof, p["payable_id"]  # the generator's IOF, vs the mart's statutory one
        assert dec(row["paid_fee_brl"]) == fee, p["payable_id"]  # the generator's fee, vs the mart's VET remainder
        assert dec(row["realised_fx_gain_brl"]) == booked_settled - principal, p["payable_id"]
        assert dec(row["unrealised_fx_gain_brl"]) == open_booked - money(open_amount * latest[p["currency"]])
        registered = erp.declarations.get(p["po_id"])
        expected_customs = money(p["amount"] * siscomex_rate(p["currency"], registered)) if registered else None
        assert dec(row["customs_brl"]) == expected_customs, p["payable_id"]
    statuses = {r["settlement_status"] for r in marts["variance"]}
    assert statuses == {"SETTLED", "PARTIALLY_SETTLED", "OPEN"}


def test_realised_variance_of_a_two_part_payment_and_of_a_shared_contract_by_hand(erp, marts):
    rows = {r["payable_id"]: r for r in marts["variance"]}
    # a Chinese supplier's invoice settled in two parts (30 % advance, 70 % before shipment), two FX contracts
    two_parts = next(p for p in erp.payables if len(erp.settlements[p["payable_id"]]) == 2)
    first, second = sorted(erp.settlements[two_parts["payable_id"]], key=lambda s: s["settled_date"])
    op_first, op_second = erp.operations[first["fx_contract_id"]], erp.operations[second["fx_contract_id"]]
    assert (op_first["foreign_amount"], op_second["foreign_amount"]) == (first["amount"], second["amount"])
    rate = ptax_sell(two_parts["currency"], two_parts["invoice_date"])
    booked = money((first["amount"] + second["amount"]) * rate)
    row = rows[two_parts["payable_id"]]
    assert row["settlement_status"] == "SETTLED" and row["fx_contracts_count"] == 2
    assert dec(row["realised_fx_gain_brl"]) == booked - op_first["local_amount"] - op_second["local_amount"]
    assert dec(row["paid_iof_brl"]) == op_first["iof_amount"] + op_second["iof_amount"]

    # two invoices of one supplier paid by one FX contract (and nothing else): the BRL is split by foreign amount
    by_contract = defaultdict(list)
    for settlements in erp.settlements.values():
        for s in settlements:
            if s["fx_contract_id"] and len(erp.settlements[s["payable_id"]]) == 1:
                by_contract[s["fx_contract_id"]].append(s)
    contract, pair = next((c, rows_) for c, rows_ in by_contract.items() if len(rows_) == 2)
    larger, smaller = sorted(pair, key=lambda s: (-s["amount"], s["settlement_id"]))
    op = erp.operations[contract]
    assert op["foreign_amount"] == larger["amount"] + smaller["amount"]
    smaller_share = money(op["local_amount"] * smaller["amount"] / op["foreign_amount"])
    for settlement, share in ((smaller, smaller_share), (larger, op["local_amount"] - smaller_share)):
        payable = next(p for p in erp.payables if p["payable_id"] == settlement["payable_id"])
        booked = money(settlement["amount"] * ptax_sell(payable["currency"], payable["invoice_date"]))
        assert dec(rows[payable["payable_id"]]["paid_principal_brl"]) == share
        assert dec(rows[payable["payable_id"]]["realised_fx_gain_brl"]) == booked - share


def test_account_balances_equal_the_bank_truth_every_business_day(marts):
    company = demo_company()
    accounts = company.bank["bank_accounts"].to_pylist()
    postings = defaultdict(list)
    for t in company.bank["bank_transactions"].to_pylist():
        signed = t["amount"] if t["credit_debit_type"] == "CREDITO" else -t["amount"]
        postings[t["account_id"]].append((t["booking_date"], signed))
    balances = [r for r in marts["cash"] if r["line_type"] == "account_balance"]
    assert {r["account_id"] for r in balances} == {a["account_id"] for a in accounts}
    for row in balances:
        account = next(a for a in accounts if a["account_id"] == row["account_id"])
        day = date.fromisoformat(row["date"])
        expected = account["opening_balance"] + sum((v for d, v in postings[row["account_id"]] if d <= day), Decimal(0))
        assert dec(row["amount"]) == expected, (row["account_id"], day)
    assert min(dec(r["amount"]) for r in balances) < 0  # the overdraft of account 341, rebuilt before its snapshot


def test_scheduled_usd_payables_within_90_days(erp, marts):
    day = date(2024, 9, 30)
    usd = [(p, erp.open_amount(p, day)) for p in erp.payables if p["currency"] == "USD"]
    due = [(p, amount) for p, amount in usd if amount > 0 and p["due_date"] <= day + timedelta(days=90)]
    (row,) = [
        r
        for r in marts["cash"]
        if r["date"] == day.isoformat() and r["line_type"] == "scheduled_payables" and r["currency"] == "USD"
    ]
    assert row["items_count"] == len(due) > 0
    assert dec(row["amount_brl"]) == -sum(money(a * ptax_sell("USD", day)) for _, a in due)


def test_incremental_models_run_twice_change_and_duplicate_nothing(demo_built):
    def snapshot() -> dict[str, list[dict]]:
        queries = {}
        for model, key in INCREMENTAL.items():
            queries[f"{model}__totals"] = (
                f"SELECT count() AS rows, uniqExact(tuple({', '.join(key)})) AS keys, "
                f"sum(cityHash64(toString(tuple(*)))) AS checksum FROM marts.{model}"
            )
            # a REPLACE PARTITION brings parts with new, higher block numbers; a background merge never does
            queries[f"{model}__parts"] = (
                f"SELECT partition, max(max_block_number) AS last_block FROM system.parts "
                f"WHERE database = 'marts' AND table = '{model}' AND active GROUP BY partition ORDER BY partition"
            )
        return query(demo_built.data_dir, **queries)

    before = snapshot()
    for _ in range(2):
        run = run_dbt(demo_built.data_dir, "run", "--selector", "incremental")
        assert run.returncode == 0, run.output[-3000:]
        assert sorted(r["unique_id"].split(".")[-1] for r in run.run_results["results"]) == sorted(INCREMENTAL)
    after = snapshot()
    for model in INCREMENTAL:
        (totals_before,), (totals_after,) = before[f"{model}__totals"], after[f"{model}__totals"]
        assert totals_before["rows"] > 0
        assert totals_after == totals_before, model
        assert totals_after["rows"] == totals_after["keys"], model  # no key twice
        blocks_before = {p["partition"]: p["last_block"] for p in before[f"{model}__parts"]}
        blocks_after = {p["partition"]: p["last_block"] for p in after[f"{model}__parts"]}
        assert set(blocks_after) == set(blocks_before) == {f"2024{m:02d}" for m in range(1, 13)}
        # only the window (toStartOfMonth(2024-12-31 - 10 days) = December) was rewritten; older months untouched
        assert blocks_after["202412"] > blocks_before["202412"], model
        assert {k: v for k, v in blocks_after.items() if k != "202412"} == {
            k: v for k, v in blocks_before.items() if k != "202412"
        }, model
