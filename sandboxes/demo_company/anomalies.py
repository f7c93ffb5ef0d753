"""Planted bank anomalies of the kinds a treasury reviewer looks for, each recorded in the ground truth.

None of these movements settles an ERP document (the reconciliation should leave them unmatched), so they never
change what the ERP owes or is owed. Each kind is planted `ctx.count(3)` times, from 60 days after the start
(so the amount statistics of their type and counterparty have history) to a week before the end:
- AMOUNT_OUTLIER: a transfer to a known domestic supplier (customs broker, forwarder) 20 to 40 times its usual
  (their fees already vary several-fold from one shipment to the next);
- NEW_COUNTERPARTY: an ordinary-looking TED to a company the ERP knows neither as supplier nor as customer;
- OFF_HOURS: a transfer of a usual amount to a known supplier between 01:00 and 04:59 on a business day;
- ROUND_AMOUNT: a transfer of a whole multiple of R$ 5,000 to a known supplier (real invoices have cents);
- SPLIT_BELOW_LIMIT: one payment split into three transfers to the same company over two days, each just
  under the company's approval limit (`APPROVAL_LIMIT_BRL`), so no single transfer needs a second signature.
The planting has its own random stream, so it shifts no other draw of the generator.
"""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from statistics import median

from ingestion.erp.cnpj import make_cnpj
from sandboxes.demo_company.bank import account, counterparty, post
from sandboxes.demo_company.calendar_fx import add_business_days
from sandboxes.demo_company.context import SAO_PAULO_OFFSET, Context
from sandboxes.demo_company.ground_truth import anomaly

APPROVAL_LIMIT_BRL = Decimal("50000")  # transfers at or above it need a second signature (the dbt var's default)
PER_KIND = 3  # cases of each kind at scale 1
COMPANY_WORDS = ("Sigma", "Delta", "Orion", "Vega", "Atlas", "Prisma", "Nexo", "Lumen")


def _when(ctx: Context, rng, day, first_hour: int = 9, last_hour: int = 17) -> datetime:
    return ctx.stamp(day, rng, first_hour, last_hour)


def _night(rng, day) -> datetime:
    local = datetime.combine(day, time(rng.randint(1, 4), rng.randint(0, 59), rng.randint(0, 59)))
    return (local - SAO_PAULO_OFFSET).replace(tzinfo=UTC, microsecond=rng.randint(0, 999) * 1000)


def _usual_amount(ctx: Context, supplier: dict) -> Decimal:
    """The median of the debits already paid to `supplier` (R$ 5,000 if none)."""
    amounts = [
        row["amount"]
        for row in ctx.rows("bank_transactions")
        if row["credit_debit_type"] == "DEBITO" and row["partie_cnpj_cpf"] == supplier["tax_id"]
    ]
    return median(amounts) if amounts else Decimal("5000")


def _transfer(ctx: Context, rng, when: datetime, amount: Decimal, cnpj: str, name: str) -> str:
    kind = "PIX" if rng.random() < 0.5 else "TED"
    label = f"{'PIX ENVIADO' if kind == 'PIX' else 'TED ENVIADA'} {name.upper()}"
    acct = account(ctx, "001" if rng.random() < 0.5 else "341")
    return post(ctx, rng, acct, when, "DEBITO", kind, label, amount, partie=counterparty(rng, cnpj))


def plant_anomalies(ctx: Context) -> None:
    rng = ctx.rng("planted_anomalies")
    known = ctx.catalog["broker"] + ctx.catalog["forwarder"]
    low, high = ctx.start + timedelta(days=60), ctx.end - timedelta(days=7)
    if high <= low:
        return
    for _ in range(ctx.count(PER_KIND)):
        day = ctx.random_business_day(rng, low, high)
        supplier = rng.choice(known)
        factor = Decimal(str(round(rng.uniform(20, 40), 2)))
        amount = (_usual_amount(ctx, supplier) * factor).quantize(Decimal("0.01"))
        tx = _transfer(ctx, rng, _when(ctx, rng, day), amount, supplier["tax_id"], supplier["name"])
        anomaly(ctx, "AMOUNT_OUTLIER", tx, None, None, f"transfer of {factor} times the usual to {supplier['name']}")
    for _ in range(ctx.count(PER_KIND)):
        day = ctx.random_business_day(rng, low, high)
        name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_WORDS)} Servicos Ltda"
        amount = Decimal(f"{rng.uniform(3000, 20000):.2f}")
        tx = _transfer(ctx, rng, _when(ctx, rng, day), amount, make_cnpj(rng.randint(10**7, 10**8 - 1)), name)
        anomaly(ctx, "NEW_COUNTERPARTY", tx, None, None, f"transfer to {name}, unknown to the ERP")
    for _ in range(ctx.count(PER_KIND)):
        day = ctx.random_business_day(rng, low, high)
        supplier = rng.choice(known)
        amount = (_usual_amount(ctx, supplier) * Decimal(str(round(rng.uniform(0.8, 1.2), 3)))).quantize(
            Decimal("0.01")
        )
        tx = _transfer(ctx, rng, _night(rng, day), amount, supplier["tax_id"], supplier["name"])
        anomaly(ctx, "OFF_HOURS", tx, None, None, f"transfer to {supplier['name']} sent before dawn")
    for _ in range(ctx.count(PER_KIND)):
        day = ctx.random_business_day(rng, low, high)
        supplier = rng.choice(known)
        amount = Decimal(5000 * rng.randint(2, 8))
        tx = _transfer(ctx, rng, _when(ctx, rng, day), amount, supplier["tax_id"], supplier["name"])
        anomaly(ctx, "ROUND_AMOUNT", tx, None, None, f"a round R$ {amount} to {supplier['name']}")
    for _ in range(ctx.count(PER_KIND)):
        _split_below_limit(ctx, rng, rng.choice(known), ctx.random_business_day(rng, low, high))


def _split_below_limit(ctx: Context, rng, supplier: dict, day) -> None:
    days = [day, day, add_business_days(day, 1)]
    for part, when in enumerate(sorted(_when(ctx, rng, d) for d in days), start=1):
        amount = (APPROVAL_LIMIT_BRL * Decimal(str(round(rng.uniform(0.95, 0.995), 4)))).quantize(Decimal("0.01"))
        tx = _transfer(ctx, rng, when, amount, supplier["tax_id"], supplier["name"])
        anomaly(
            ctx,
            "SPLIT_BELOW_LIMIT",
            tx,
            None,
            None,
            f"part {part} of 3 of one payment to {supplier['name']}, each just under the approval limit",
        )
