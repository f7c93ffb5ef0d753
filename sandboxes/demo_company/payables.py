"""Payables (supplier invoices in foreign currency, Brazilian service invoices in BRL) and the payment plan
that settles them, hard cases included.

Foreign suppliers: Chinese suppliers ask 30 % in advance at order and 70 % before shipment (two partial
payments of one invoice); the others invoice at shipment with 30/60/90-day terms. Brazilian suppliers: the
freight forwarder bills international freight in BRL (FOB/FCA orders), the customs broker bills the customs
expenses at clearance. The plan then shifts some payments a few days off the due date, pays pairs of invoices
of one supplier with one FX contract, bundles fees into one debit, duplicates one payment and prices one FX
contract far off the market: `settlements.py` executes the plan up to the `end` date.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sandboxes.demo_company.calendar_fx import add_business_days, next_business_day, ptax_sell
from sandboxes.demo_company.context import Context
from sandboxes.demo_company.purchasing import FREIGHT_INCLUDED, INSURANCE_INCLUDED
from sandboxes.demo_company.taxes import money


@dataclass
class Payment:
    """One planned payment: a day, a supplier, the (payable id, amount) parts it settles, its hard case."""

    day: date
    supplier: dict
    currency: str
    parts: list[tuple[str, Decimal]]
    match_type: str
    flags: set[str] = field(default_factory=set)


def _payable(
    ctx: Context,
    rng,
    supplier: dict,
    po_id: str,
    kind: str,
    number: str,
    invoice: date,
    due: date,
    currency: str,
    amount: Decimal,
) -> str:
    payable_id = ctx.next_id("AP-", 6)
    ctx.rows("payables").append(
        {
            "payable_id": payable_id,
            "supplier_id": supplier["supplier_id"],
            "po_id": po_id,
            "document_type": kind,
            "invoice_number": number,
            "invoice_date": invoice,
            "due_date": due,
            "currency": currency,
            "amount": amount,
            "status": "OPEN",
            "updated_at": ctx.stamp(invoice, rng),
            "deleted_at": None,
        }
    )
    return payable_id


def build_payables(ctx: Context) -> list[Payment]:
    """Create the payables known by `end` and return their payment plan (before hard cases)."""
    rng, plan = ctx.rng("payables"), []
    for po in ctx.catalog["po"].values():
        if po["cancelled"]:
            continue
        supplier, currency = po["supplier"], po["supplier"]["currency"]
        if supplier["payment_terms_days"] == 0:
            invoice, due = po["confirm"], po["etd"]
            number = f"PI{po['order_date']:%y}{rng.randint(10000, 99999)}"
        else:
            invoice = po["etd"]
            due = next_business_day(invoice + timedelta(days=supplier["payment_terms_days"]))
            number = f"CI-{invoice:%Y}-{rng.randint(1000, 9999)}"
        if ctx.in_range(invoice):
            payable_id = _payable(
                ctx,
                rng,
                supplier,
                po["po_id"],
                "SUPPLIER_INVOICE",
                number,
                invoice,
                due,
                currency,
                po["total"],
            )
            if supplier["payment_terms_days"] == 0:
                advance = money(po["total"] * Decimal("0.30"))
                first = add_business_days(invoice, rng.randint(2, 5))
                second = max(add_business_days(due, -rng.randint(0, 3)), add_business_days(first, 1))
                plan.append(Payment(first, supplier, currency, [(payable_id, advance)], "PARTIAL"))
                plan.append(Payment(second, supplier, currency, [(payable_id, po["total"] - advance)], "PARTIAL"))
            else:
                plan.append(Payment(due, supplier, currency, [(payable_id, po["total"])], "FX_OPERATION"))
        plan += _service_payables(ctx, rng, po)
    return plan


def _service_payables(ctx: Context, rng, po: dict) -> list[Payment]:
    plan = []
    if po.get("shipment") and po["incoterm"] not in FREIGHT_INCLUDED and ctx.in_range(po["etd"]):
        invoice = add_business_days(po["etd"], 2)
        insurance = po["insurance"] if po["incoterm"] not in INSURANCE_INCLUDED else Decimal(0)
        amount = money((po["freight"] + insurance) * ptax_sell(po["supplier"]["currency"], invoice))
        forwarder = rng.choice(ctx.catalog["forwarder"])
        due = next_business_day(invoice + timedelta(days=30))
        if ctx.in_range(invoice) and amount > 0:
            payable_id = _payable(
                ctx,
                rng,
                forwarder,
                po["po_id"],
                "FREIGHT_INVOICE",
                f"NFS-{rng.randint(10000, 99999)}",
                invoice,
                due,
                "BRL",
                amount,
            )
            plan.append(Payment(due, forwarder, "BRL", [(payable_id, amount)], "EXACT"))
    if po.get("declaration_id") and ctx.in_range(po["clearance"]):
        broker = rng.choice(ctx.catalog["broker"])
        due = next_business_day(po["clearance"] + timedelta(days=15))
        payable_id = _payable(
            ctx,
            rng,
            broker,
            po["po_id"],
            "SERVICE_INVOICE",
            f"NFS-{rng.randint(10000, 99999)}",
            po["clearance"],
            due,
            "BRL",
            po["expenses"],
        )
        plan.append(Payment(due, broker, "BRL", [(payable_id, po["expenses"])], "EXACT"))
    return plan


def _pick(rng, candidates: list[Payment], wanted: int) -> list[Payment]:
    chosen = rng.sample(candidates, min(wanted, len(candidates)))
    return sorted(chosen, key=lambda p: (p.day, p.parts[0][0]))


def plan_hard_cases(ctx: Context, plan: list[Payment]) -> list[Payment]:
    """Turn a share of the clean payments into the reconciliation hard cases; returns the final plan."""
    rng = ctx.rng("hard_cases")
    last_day = add_business_days(ctx.end, -3)
    clean_fx = [p for p in plan if p.match_type == "FX_OPERATION" and p.day <= last_day]
    merged = _merge_pairs(rng, ctx, clean_fx)
    plan = [p for p in plan if all(p is not q for pair in merged for q in pair)]
    for first, second in merged:
        plan.append(Payment(second.day, first.supplier, first.currency, first.parts + second.parts, "ONE_TO_MANY"))
    clean_fx = [p for p in plan if p.match_type == "FX_OPERATION" and p.day <= last_day]
    for payment in _pick(rng, clean_fx, max(3, round(len(clean_fx) * 0.15))):
        payment.day = add_business_days(payment.day, rng.choice((-3, -2, -1, 1, 2, 3, 4, 5)))
        payment.match_type = "DATE_OFFSET"
    clean_fx = [p for p in plan if p.match_type == "FX_OPERATION" and p.day <= last_day]
    chosen = _pick(rng, clean_fx, ctx.count(3) + ctx.count(1) + ctx.count(1))
    for index, payment in enumerate(chosen):
        if index < ctx.count(3):
            payment.match_type = "FEE_DEDUCTED"
        else:
            payment.flags.add("DUPLICATE" if index < ctx.count(3) + ctx.count(1) else "OFF_MARKET_RATE")
    brl = [p for p in plan if p.match_type == "EXACT" and p.day <= last_day]
    for payment in _pick(rng, brl, max(2, round(len(brl) * 0.2))):
        payment.day = add_business_days(payment.day, rng.choice((-2, -1, 1, 2, 3, 5)))
        payment.match_type = "DATE_OFFSET"
    brokers = {s["supplier_id"] for s in ctx.catalog["broker"]}
    exact_broker = [
        p for p in plan if p.match_type == "EXACT" and p.supplier["supplier_id"] in brokers and p.day <= last_day
    ]
    for payment in _pick(rng, exact_broker, ctx.count(1)):
        sunday = payment.day + timedelta(days=6 - payment.day.weekday())
        payment.day, payment.match_type = sunday, "DATE_OFFSET"
        payment.flags.add("ODD_TIMING")
    return sorted(plan, key=lambda p: (p.day, p.supplier["supplier_id"], p.parts[0][0]))


def _merge_pairs(rng, ctx: Context, clean: list[Payment]) -> list[tuple[Payment, Payment]]:
    """Pairs of invoices of one supplier due within 25 days of each other, paid together on the later date."""
    by_supplier: dict[str, list[Payment]] = {}
    for payment in sorted(clean, key=lambda p: (p.day, p.parts[0][0])):
        by_supplier.setdefault(payment.supplier["supplier_id"], []).append(payment)
    candidates = []
    for payments in by_supplier.values():
        for first, second in zip(payments, payments[1:], strict=False):
            if (second.day - first.day).days <= 25:
                candidates.append((first, second))
    rng.shuffle(candidates)
    used: set[int] = set()
    pairs = []
    for first, second in candidates:
        if len(pairs) == ctx.count(3):
            break
        if id(first) in used or id(second) in used:
            continue
        used.update((id(first), id(second)))
        pairs.append((first, second))
    return pairs
