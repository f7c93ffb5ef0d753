"""Customers pay their receivables: boleto or PIX credits at the two banks, with the hard cases.

Each customer pays in its own way, drawn once per customer (`PAYMENT_HABITS`): most pay on the due date, some
habitually a few days late, a few very late, a few early; so what a customer did before says when its next
instalment will arrive. A few instalments are never paid (overdue at `end`).
Hard cases: a receivable paid in two parts, two receivables of one customer paid with one PIX, a boleto
credited net of the collection fee. The ERP marks a receivable PAID with the full amount (the fee is an
expense); the bank shows what was really credited.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sandboxes.demo_company.bank import account, counterparty, post
from sandboxes.demo_company.calendar_fx import add_business_days, next_business_day
from sandboxes.demo_company.context import Context
from sandboxes.demo_company.settlements import match

BOLETO_FEES = {"001": Decimal("2.50"), "341": Decimal("3.20")}  # synthetic collection fees
# (share of customers, share of their instalments paid off the due date, offsets in days when off it)
PAYMENT_HABITS = (
    (0.55, 0.08, (-1, 1, 2)),  # punctual
    (0.25, 0.75, (3, 4, 5, 7)),  # habitually a few days late
    (0.12, 0.85, (7, 8, 10)),  # very late
    (0.08, 0.7, (-3, -2, -1)),  # pays ahead of the due date
)


def _habit(ctx: Context, customer_id: str) -> tuple[float, tuple[int, ...]]:
    """The customer's (share paid off the due date, usual offsets), drawn once from its own stream."""
    habits = ctx.catalog.setdefault("payment_habits", {})
    if customer_id not in habits:
        roll = ctx.rng(f"payment_habit:{customer_id}").random()
        cumulative = 0.0
        habit = PAYMENT_HABITS[-1]
        for candidate in PAYMENT_HABITS:
            cumulative += candidate[0]
            if roll < cumulative:
                habit = candidate
                break
        habits[customer_id] = (habit[1], habit[2])
    return habits[customer_id]


@dataclass
class Receipt:
    day: date
    customer: dict
    parts: list[tuple[dict, Decimal]]  # (receivable row, amount of it paid by this credit)
    match_type: str


def _plan(ctx: Context, rng) -> list[Receipt]:
    customers = {c["customer_id"]: c for c in ctx.rows("customers")}
    last_day = add_business_days(ctx.end, -30)
    due = [r for r in ctx.rows("receivables") if r["due_date"] <= ctx.end]
    due = [r for r in due if rng.random() >= 0.05]  # about 5 % stay unpaid (overdue)
    special = [r for r in due if r["due_date"] <= last_day]
    rng.shuffle(special)
    partial = special[: ctx.count(4)]
    fee = special[ctx.count(4) : ctx.count(4) + ctx.count(6)]
    taken = {id(r) for r in partial + fee}
    plan: list[Receipt] = []
    for r in partial:
        first = (r["amount_brl"] * Decimal(str(round(rng.uniform(0.5, 0.7), 2)))).quantize(Decimal("0.01"))
        customer = customers[r["customer_id"]]
        plan.append(Receipt(r["due_date"], customer, [(r, first)], "PARTIAL"))
        second = next_business_day(r["due_date"] + timedelta(days=rng.randint(10, 25)))
        plan.append(Receipt(second, customer, [(r, r["amount_brl"] - first)], "PARTIAL"))
    plan += [Receipt(r["due_date"], customers[r["customer_id"]], [(r, r["amount_brl"])], "FEE_DEDUCTED") for r in fee]
    by_customer: dict[str, list[dict]] = {}
    for r in sorted(special, key=lambda r: (r["due_date"], r["receivable_id"])):
        if id(r) not in taken:
            by_customer.setdefault(r["customer_id"], []).append(r)
    pairs = 0
    for customer_id in sorted(by_customer):
        rows = by_customer[customer_id]
        for first, second in zip(rows, rows[1:], strict=False):
            if (
                pairs < ctx.count(4)
                and id(first) not in taken
                and 0 < (second["due_date"] - first["due_date"]).days <= 15
            ):
                taken.update((id(first), id(second)))
                plan.append(
                    Receipt(
                        second["due_date"],
                        customers[customer_id],
                        [(first, first["amount_brl"]), (second, second["amount_brl"])],
                        "ONE_TO_MANY",
                    )
                )
                pairs += 1
    for r in due:
        if id(r) in taken:
            continue
        day, kind = r["due_date"], "EXACT"
        off_share, offsets = _habit(ctx, r["customer_id"])
        if rng.random() < off_share:
            day, kind = next_business_day(day + timedelta(days=rng.choice(offsets))), "DATE_OFFSET"
        plan.append(Receipt(day, customers[r["customer_id"]], [(r, r["amount_brl"])], kind))
    return sorted(plan, key=lambda p: (p.day, p.parts[0][0]["receivable_id"], p.match_type))


def build_receipts(ctx: Context) -> None:
    rng = ctx.rng("receipts")
    for receipt in _plan(ctx, rng):
        if not ctx.in_range(receipt.day):
            continue
        acct = account(ctx, "001" if rng.random() < 0.7 else "341")
        total = sum((amount for _, amount in receipt.parts), Decimal(0))
        boleto = receipt.match_type == "FEE_DEDUCTED" or (receipt.match_type != "ONE_TO_MANY" and rng.random() < 0.6)
        credited = total - BOLETO_FEES[acct["compe_code"]] if receipt.match_type == "FEE_DEDUCTED" else total
        name = (
            f"LIQUIDACAO BOLETO {rng.randint(10**9, 10**10 - 1)}"
            if boleto
            else f"PIX RECEBIDO {receipt.customer['name'].upper()}"
        )
        tx = post(
            ctx,
            rng,
            acct,
            ctx.stamp(receipt.day, rng, 8, 20),
            "CREDITO",
            "BOLETO" if boleto else "PIX",
            name,
            credited,
            partie=counterparty(rng, receipt.customer["cnpj"]),
        )
        note = "collection fee deducted from the credit" if receipt.match_type == "FEE_DEDUCTED" else ""
        for row, amount in receipt.parts:
            match(
                ctx,
                tx,
                None,
                "PRINCIPAL",
                "RECEIVABLE",
                row["receivable_id"],
                None,
                receipt.match_type,
                credited,
                amount,
                "BRL",
                note,
            )
            row["paid_amount_brl"] = (row["paid_amount_brl"] or Decimal(0)) + amount
            row["paid_date"] = receipt.day
            row["status"] = "PAID" if row["paid_amount_brl"] >= row["amount_brl"] else "OPEN"
            row["updated_at"] = max(row["updated_at"], ctx.stamp(receipt.day, rng, 18, 20))
