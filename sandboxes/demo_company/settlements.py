"""Execute the payment plan: FX contracts and their debits at the bank, settlements in the ERP, ground truth.

A foreign payment is a câmbio contract (the bank sells foreign currency: `VENDA`) at the real PTAX of the
contract day plus a bank spread, with IOF (0.38 %) and the bank's contract fee; the account is debited on the
settlement day with the BRL principal, the IOF and the fee as three movements (or one bundled debit). The ERP
records one settlement per payable with the contract number. A BRL payment is a TED or PIX to the supplier's
CNPJ. Every link between a bank movement and an ERP document goes to the ground truth `matches`; planted
anomalies go to `anomalies`.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal

from sandboxes.demo_company import reference
from sandboxes.demo_company.bank import account, counterparty, opaque_id, post, rate_places
from sandboxes.demo_company.calendar_fx import add_business_days, ptax_sell
from sandboxes.demo_company.context import SAO_PAULO_OFFSET, Context
from sandboxes.demo_company.ground_truth import anomaly, match
from sandboxes.demo_company.payables import Payment
from sandboxes.demo_company.taxes import money, rate_pct

FX_FEES = {"001": Decimal("120.00"), "341": Decimal("95.00")}  # synthetic contract fees per bank
IMPORT_CATEGORY_CODE = "10101"  # synthetic "natureza" code (the real table is in Resolução BCB 277 annexes)
RELATIONSHIP_CODE = "50"  # the spec's example value, used as a synthetic "no relationship" code


def _settle(
    ctx: Context,
    rng,
    payable_id: str,
    day,
    currency: str,
    amount: Decimal,
    contract: str | None,
    rate: Decimal | None,
) -> str:
    settlement_id = ctx.next_id("PS-", 6)
    ctx.rows("payable_settlements").append(
        {
            "settlement_id": settlement_id,
            "payable_id": payable_id,
            "fx_contract_id": contract,
            "settled_date": day,
            "currency": currency,
            "amount": amount,
            "exchange_rate": rate,
            "brl_amount": money(amount * rate) if rate is not None else amount,
            "updated_at": ctx.stamp(day, rng, 14, 19),
            "deleted_at": None,
        }
    )
    return settlement_id


def _fx_operation(ctx: Context, rng, payment: Payment, day, spread: Decimal) -> tuple[dict, dict]:
    acct = account(ctx, "001" if rng.random() < 0.45 else "341")
    contract_day = day if rng.random() < 0.8 else add_business_days(day, -rng.randint(1, 2))
    foreign = sum((amount for _, amount in payment.parts), Decimal(0))
    rate = rate_places(ptax_sell(payment.currency, contract_day) * (1 + spread), 6)
    local = money(foreign * rate)
    iof = money(local * rate_pct("IOF_FX_IMPORT_PAYMENT") / 100)
    fee = FX_FEES[acct["compe_code"]]
    country = next(c for c in reference.countries().values() if c.iso3 == payment.supplier["country"])
    op = {
        "operation_id": opaque_id(rng),
        "account_id": acct["account_id"],
        "authorized_institution_cnpj": acct["institution_cnpj"],
        "authorized_institution_name": acct["institution_name"],
        "operation_number": f"{rng.randint(10**11, 10**12 - 1)}",
        "operation_type": "VENDA",
        "operation_datetime": ctx.stamp(contract_day, rng, 10, 15),
        "settlement_date": day,
        "foreign_currency": payment.currency,
        "foreign_amount": foreign,
        "fx_rate": rate,
        "local_amount": local,
        "iof_amount": iof,
        "fee_amount": fee,
        "vet_amount": rate_places((local + iof + fee) / foreign, 8),
        "delivery_foreign_currency": "TELETRANSMISSAO",
        "operation_category_code": IMPORT_CATEGORY_CODE,
        "relationship_code": RELATIONSHIP_CODE,
        "foreign_partie_name": payment.supplier["name"][:80],
        "foreign_partie_country_code": country.iso2,
    }
    ctx.rows("fx_operations").append(op)
    for number, (kind, when) in enumerate(
        [("1", op["operation_datetime"]), ("4", ctx.stamp(day, rng, 15, 17))], start=1
    ):
        ctx.rows("fx_operation_events").append(
            {
                "operation_id": op["operation_id"],
                "event_sequence_number": f"{op['operation_number'][:11]}{number}",
                "event_type": kind,
                "event_datetime": max(when, op["operation_datetime"]),
                "settlement_date": day,
                "fx_rate": rate,
                "local_amount": local,
                "foreign_amount": foreign,
                "foreign_currency": payment.currency,
            }
        )
    return op, acct


def _debits(ctx: Context, rng, op: dict, acct: dict, bundled: bool) -> list[tuple[str, str, Decimal]]:
    """Post the FX contract's debits; returns (transaction id, role, amount)."""
    when = ctx.stamp(op["settlement_date"], rng, 10, 17)
    number = op["operation_number"]
    if bundled:
        total = op["local_amount"] + op["iof_amount"] + op["fee_amount"]
        tx = post(
            ctx,
            rng,
            acct,
            when,
            "DEBITO",
            "OUTROS",
            f"CAMBIO IMPORTACAO CONTR {number} C/ IOF E TARIFA",
            total,
            fx_operation_id=op["operation_id"],
        )
        return [(tx, "PRINCIPAL", total)]
    parts = [
        ("PRINCIPAL", "OUTROS", f"CAMBIO IMPORTACAO CONTR {number}", op["local_amount"]),
        ("IOF", "OUTROS", f"IOF S/ CAMBIO CONTR {number}", op["iof_amount"]),
        ("FEE", "TARIFA_SERVICOS_AVULSOS", f"TARIFA CONTRATO CAMBIO {number}", op["fee_amount"]),
    ]
    return [
        (
            post(
                ctx,
                rng,
                acct,
                when + timedelta(seconds=i),
                "DEBITO",
                kind,
                name,
                amount,
                fx_operation_id=op["operation_id"],
            ),
            role,
            amount,
        )
        for i, (role, kind, name, amount) in enumerate(parts)
    ]


def pay_foreign(ctx: Context, rng, payment: Payment) -> None:
    spread = (
        Decimal("0.045") if "OFF_MARKET_RATE" in payment.flags else Decimal(str(round(rng.uniform(0.002, 0.009), 4)))
    )
    op, acct = _fx_operation(ctx, rng, payment, payment.day, spread)
    debits = _debits(ctx, rng, op, acct, payment.match_type == "FEE_DEDUCTED")
    for payable_id, amount in payment.parts:
        settlement = _settle(
            ctx, rng, payable_id, payment.day, payment.currency, amount, op["operation_number"], op["fx_rate"]
        )
        for tx, role, bank_amount in debits:
            match(
                ctx,
                tx,
                op["operation_id"],
                role,
                "PAYABLE",
                payable_id,
                settlement,
                payment.match_type,
                bank_amount,
                amount,
                payment.currency,
            )
    if "OFF_MARKET_RATE" in payment.flags:
        anomaly(
            ctx,
            "UNUSUAL_AMOUNT",
            debits[0][0],
            op["operation_id"],
            payment.parts[0][0],
            "FX contract priced 4.5 % above PTAX: BRL paid far above the usual for this invoice",
        )
    if "DUPLICATE" in payment.flags:
        day = add_business_days(payment.day, 1)
        if ctx.in_range(day):
            twin, twin_acct = _fx_operation(ctx, rng, payment, day, spread)
            for tx, role, bank_amount in _debits(ctx, rng, twin, twin_acct, False):
                for payable_id, amount in payment.parts:
                    match(
                        ctx,
                        tx,
                        twin["operation_id"],
                        role,
                        "PAYABLE",
                        payable_id,
                        None,
                        "DUPLICATE",
                        bank_amount,
                        amount,
                        payment.currency,
                        "second payment of an invoice already paid",
                    )
                if role == "PRINCIPAL":
                    anomaly(
                        ctx,
                        "DUPLICATE_PAYMENT",
                        tx,
                        twin["operation_id"],
                        payment.parts[0][0],
                        "the same invoice paid again the next business day; the ERP has one settlement",
                    )


def pay_brl(ctx: Context, rng, payment: Payment) -> None:
    acct = account(ctx, "001" if rng.random() < 0.5 else "341")
    ((payable_id, amount),) = payment.parts
    if "ODD_TIMING" in payment.flags:
        local = datetime.combine(payment.day, time(rng.randint(1, 4), rng.randint(0, 59), rng.randint(0, 59)))
        when = (local - SAO_PAULO_OFFSET).replace(tzinfo=ctx.stamp(payment.day, rng).tzinfo)
    else:
        when = ctx.stamp(payment.day, rng, 9, 17)
    kind = "PIX" if payment.supplier in ctx.catalog["broker"] else "TED"
    name = f"{'PIX ENVIADO' if kind == 'PIX' else 'TED ENVIADA'} {payment.supplier['name'].upper()}"
    tx = post(
        ctx,
        rng,
        acct,
        when,
        "DEBITO",
        kind,
        name,
        amount,
        partie=counterparty(rng, payment.supplier["tax_id"]),
    )
    settlement = _settle(ctx, rng, payable_id, payment.day, "BRL", amount, None, None)
    match(
        ctx,
        tx,
        None,
        "PRINCIPAL",
        "PAYABLE",
        payable_id,
        settlement,
        payment.match_type,
        amount,
        amount,
        "BRL",
    )
    if "ODD_TIMING" in payment.flags:
        anomaly(ctx, "ODD_TIMING", tx, None, payable_id, "PIX to the customs broker sent on a Sunday before dawn")


def execute(ctx: Context, plan: list[Payment]) -> None:
    rng = ctx.rng("settlements")
    for payment in plan:
        if not ctx.in_range(payment.day):
            continue
        (pay_brl if payment.currency == "BRL" else pay_foreign)(ctx, rng, payment)
    paid: dict[str, Decimal] = {}
    last: dict[str, datetime] = {}
    for row in ctx.rows("payable_settlements"):
        paid[row["payable_id"]] = paid.get(row["payable_id"], Decimal(0)) + row["amount"]
        last[row["payable_id"]] = max(last.get(row["payable_id"], row["updated_at"]), row["updated_at"])
    for row in ctx.rows("payables"):
        total = paid.get(row["payable_id"], Decimal(0))
        row["status"] = "PAID" if total >= row["amount"] else ("PARTIALLY_PAID" if total > 0 else "OPEN")
        if row["payable_id"] in last:
            row["updated_at"] = max(row["updated_at"], last[row["payable_id"]])
