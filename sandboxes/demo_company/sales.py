"""Sales invoices (NF-e, one item each), receivables in BRL, stock issues, and the customers' payments.

Each received lot is sold over the following weeks to random customers at a markup on its cost. Taxes on
resale: IPI at the NCM rate (the importer is equated to an industrial establishment), ICMS at the internal
rate of the selling establishment's state or 4 % on interstate sales of imported goods (Resolução do Senado
13/2012), PIS 1.65 % and COFINS 7.6 % (non-cumulative) on revenue net of ICMS. The customer owes product + IPI
in 1-3 monthly instalments, paid by boleto or PIX; hard cases: partial payments, two instalments paid with
one PIX, boletos credited net of the collection fee, payments a few days off the due date.
"""

from datetime import timedelta
from decimal import Decimal

from sandboxes.demo_company import reference
from sandboxes.demo_company.calendar_fx import next_business_day
from sandboxes.demo_company.context import Context
from sandboxes.demo_company.taxes import allocate, icms_rate_pct, money, rate_pct

INTERSTATE_IMPORTED_PCT = Decimal("4.00")


def build_sales(ctx: Context) -> None:
    rng = ctx.rng("sales")
    customers = [c for c in ctx.rows("customers") if c["deleted_at"] is None]
    for lot in sorted(ctx.catalog.get("lots", []), key=lambda lot: (lot["date"], lot["sku"])):
        remaining = lot["quantity"] * Decimal(str(round(rng.uniform(0.85, 1.0), 2)))
        remaining = remaining.to_integral_value()
        parts = min(int(remaining), rng.randint(1, 6))
        day = lot["date"]
        for n in range(parts):
            quantity = remaining if n == parts - 1 else max(Decimal(1), (remaining / (parts - n)).to_integral_value())
            day = next_business_day(day + timedelta(days=rng.randint(3, 30)))
            if not ctx.in_range(day) or quantity <= 0:
                break
            remaining -= quantity
            _invoice(ctx, rng, rng.choice(customers), lot, quantity, day)


def _invoice(ctx: Context, rng, customer: dict, lot: dict, quantity: Decimal, day) -> None:
    state = lot["warehouse"][:2]
    interstate = customer["state"] != state
    icms_pct = INTERSTATE_IMPORTED_PCT if interstate else icms_rate_pct(state, day)
    ncm = reference.ncm_rates()[ctx.catalog["product"][lot["sku"]].ncm]
    unit_price = money(lot["unit_cost"] * Decimal(str(round(rng.uniform(1.6, 2.3), 3))))
    gross = money(quantity * unit_price)
    icms, ipi = money(gross * icms_pct / 100), money(gross * ncm.ipi_pct / 100)
    pis = money((gross - icms) * rate_pct("PIS_SALES_NONCUMULATIVE") / 100)
    cofins = money((gross - icms) * rate_pct("COFINS_SALES_NONCUMULATIVE") / 100)
    invoice_id = ctx.next_id("NFE-1-", 7)
    cancelled = rng.random() < 0.01
    stamp = ctx.stamp(day, rng)
    ctx.rows("sales_invoices").append(
        {
            "invoice_id": invoice_id,
            "customer_id": customer["customer_id"],
            "issue_date": day,
            "cfop": "6102" if interstate else "5102",
            "sku": lot["sku"],
            "quantity": quantity,
            "unit_price_brl": unit_price,
            "gross_amount_brl": gross,
            "icms_brl": icms,
            "ipi_brl": ipi,
            "pis_brl": pis,
            "cofins_brl": cofins,
            "net_amount_brl": gross - icms - pis - cofins,
            "status": "CANCELLED" if cancelled else "ISSUED",
            "updated_at": stamp + timedelta(hours=3) if cancelled else stamp,
            "deleted_at": None,
        }
    )
    if cancelled:
        return
    ctx.rows("inventory_movements").append(
        {
            "movement_id": ctx.next_id("MOV-", 7),
            "sku": lot["sku"],
            "movement_date": day,
            "movement_type": "ISSUE",
            "quantity": quantity,
            "unit_cost_brl": lot["unit_cost"],
            "reference_type": "SALES_INVOICE",
            "reference_id": invoice_id,
            "warehouse": lot["warehouse"],
            "updated_at": stamp,
            "deleted_at": None,
        }
    )
    count = rng.choice((1, 1, 2, 3))
    for number, amount in enumerate(allocate(gross + ipi, [Decimal(1)] * count), start=1):
        due = next_business_day(day + timedelta(days=customer["payment_terms_days"] + 30 * (number - 1)))
        ctx.rows("receivables").append(
            {
                "receivable_id": ctx.next_id("AR-", 7),
                "invoice_id": invoice_id,
                "customer_id": customer["customer_id"],
                "installment": number,
                "issue_date": day,
                "due_date": due,
                "amount_brl": amount,
                "status": "OPEN",
                "paid_date": None,
                "paid_amount_brl": None,
                "updated_at": stamp,
                "deleted_at": None,
            }
        )


def build_adjustments(ctx: Context) -> None:
    """A few stock write-offs found in inventory counts (no bank or sales counterpart)."""
    rng = ctx.rng("adjustments")
    lots = sorted(ctx.catalog.get("lots", []), key=lambda lot: (lot["date"], lot["sku"]))
    for lot in rng.sample(lots, min(len(lots), ctx.count(5))):
        day = next_business_day(lot["date"] + timedelta(days=rng.randint(20, 60)))
        if ctx.in_range(day):
            ctx.rows("inventory_movements").append(
                {
                    "movement_id": ctx.next_id("MOV-", 7),
                    "sku": lot["sku"],
                    "movement_date": day,
                    "movement_type": "ADJUSTMENT_OUT",
                    "quantity": Decimal(1),
                    "unit_cost_brl": lot["unit_cost"],
                    "reference_type": "INVENTORY_COUNT",
                    "reference_id": None,
                    "warehouse": lot["warehouse"],
                    "updated_at": ctx.stamp(day, rng),
                    "deleted_at": None,
                }
            )
