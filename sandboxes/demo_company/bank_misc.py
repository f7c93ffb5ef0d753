"""Bank movements outside supplier payments and customer receipts: customs taxes, fees, card spend, one stray.

- Customs: on registration the Receita debits the federal taxes (II, IPI, PIS, COFINS, Siscomex fee) from the
  importer's account; AFRMM (sea) and ICMS are paid the same day. The bank shows the TRUE amounts; the ground
  truth compares them with what the ERP recorded, so planted ERP errors show up as differences.
- A monthly service package fee per account. A corporate credit card (domestic spend in BRL, software in USD
  with IOF 4.38 % in 2024), its monthly bills, and the bill payments debited from the account.
- One TED to a counterparty the ERP does not know (an anomaly to flag).
"""

from datetime import date, timedelta
from decimal import Decimal

from ingestion.erp.cnpj import make_cnpj
from sandboxes.demo_company.bank import account, counterparty, opaque_id, post
from sandboxes.demo_company.calendar_fx import next_business_day, previous_business_day, ptax_sell
from sandboxes.demo_company.context import Context
from sandboxes.demo_company.settlements import anomaly, match
from sandboxes.demo_company.taxes import money, rate_pct

PACKAGE_FEES = {"001": Decimal("89.90"), "341": Decimal("119.00")}  # synthetic
MERCHANTS = (  # name, MCC, currency, median amount
    ("AMAZON WEB SERVICES", 4816, "USD", 420),
    ("GOOGLE WORKSPACE", 7372, "USD", 95),
    ("LATAM AIRLINES", 4511, "BRL", 1450),
    ("HOTEL IBIS", 7011, "BRL", 380),
    ("UBER DO BRASIL", 4121, "BRL", 48),
    ("POSTO IPIRANGA", 5541, "BRL", 260),
    ("KALUNGA", 5943, "BRL", 190),
    ("RESTAURANTE FASANO", 5812, "BRL", 310),
)


def customs_debits(ctx: Context) -> None:
    rng = ctx.rng("customs_debits")
    acct = account(ctx, "001")
    by_id = {d["declaration_id"]: d for d in ctx.rows("import_declarations")}
    for po in ctx.catalog["po"].values():
        if po.get("declaration_id") not in by_id:
            continue
        recorded, truth = by_id[po["declaration_id"]], po["truth"]
        when = ctx.stamp(recorded["registration_date"], rng, 9, 12)
        federal = ["ii_brl", "ipi_brl", "pis_brl", "cofins_brl"]
        debits = [
            (
                "SISCOMEX",
                sum((truth.total(f) for f in federal), truth.siscomex_brl),
                sum((recorded[f] for f in federal), recorded["siscomex_fee_brl"]),
                f"DEBITO SISCOMEX IMPORTACAO DI {recorded['declaration_id']}",
            ),
            (
                "AFRMM",
                truth.afrmm_brl,
                recorded["afrmm_brl"],
                f"AFRMM MERCANTE {po['shipment']['bill_of_lading']}",
            ),
            (
                "ICMS",
                truth.total("icms_brl"),
                recorded["icms_brl"],
                f"GARE ICMS IMPORTACAO {recorded['declaration_id']}",
            ),
        ]
        for n, (label, amount, erp_amount, name) in enumerate(debits):
            if amount <= 0:
                continue
            tx = post(ctx, rng, acct, when + timedelta(minutes=n), "DEBITO", "CONVENIO_ARRECADACAO", name, amount)
            match(
                ctx,
                tx,
                None,
                "TAX",
                "IMPORT_DECLARATION",
                recorded["declaration_id"],
                None,
                "TAX_DEBIT",
                amount,
                erp_amount,
                "BRL",
                label,
            )


def package_fees(ctx: Context) -> None:
    rng = ctx.rng("package_fees")
    month = date(ctx.start.year, ctx.start.month, 1)
    while month <= ctx.end:
        day = next_business_day(month)
        if ctx.start <= day <= ctx.end:
            for acct in ctx.rows("bank_accounts"):
                post(
                    ctx,
                    rng,
                    acct,
                    ctx.stamp(day, rng, 6, 8),
                    "DEBITO",
                    "PACOTE_TARIFA_SERVICOS",
                    "TARIFA PACOTE DE SERVICOS",
                    PACKAGE_FEES[acct["compe_code"]],
                )
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)


def card_spend(ctx: Context) -> None:
    rng = ctx.rng("cards")
    acct = account(ctx, "341")
    card_id = f"CARD-{rng.randint(10**7, 10**8 - 1)}"
    ctx.rows("card_accounts").append(
        {
            "card_account_id": card_id,
            "account_id": acct["account_id"],
            "name": "Itaú Empresas Mastercard",
            "product_type": "EMPRESARIAL",
            "credit_card_network": "MASTERCARD",
            "identification_number": f"{rng.randint(1000, 9999)}",
        }
    )
    closing = previous_business_day(date(ctx.start.year, ctx.start.month, 26))
    if closing < ctx.start:
        closing = previous_business_day(date(ctx.start.year + ctx.start.month // 12, ctx.start.month % 12 + 1, 26))
    opened = ctx.start
    iof_pct = rate_pct("IOF_CARD_INTERNATIONAL")
    while opened <= ctx.end:
        bill_id, total = opaque_id(rng), Decimal(0)
        for _ in range(ctx.count(15)):
            day = opened + timedelta(days=rng.randint(0, max((closing - opened).days, 0)))
            if day > ctx.end:
                continue
            name, mcc, currency, median = rng.choice(MERCHANTS)
            amount = Decimal(f"{median * rng.lognormvariate(0, 0.4):.2f}")
            usd = ptax_sell("USD", previous_business_day(day + timedelta(days=1)))
            brl = money(amount * usd * Decimal("1.04")) if currency == "USD" else amount
            iof = money(brl * iof_pct / 100) if currency == "USD" else Decimal("0.00")
            total += brl + iof
            ctx.rows("card_transactions").append(
                {
                    "transaction_id": opaque_id(rng),
                    "card_account_id": card_id,
                    "bill_id": bill_id,
                    "transaction_datetime": ctx.stamp(day, rng, 8, 22),
                    "transaction_name": name,
                    "credit_debit_type": "DEBITO",
                    "transaction_type": "PAGAMENTO",
                    "amount": amount,
                    "currency": currency,
                    "brazilian_amount": brl,
                    "iof_amount": iof,
                    "payee_mcc": mcc,
                }
            )
        due = next_business_day(closing + timedelta(days=10))
        paid = None
        if ctx.in_range(due) and total > 0:
            paid = post(
                ctx,
                rng,
                acct,
                ctx.stamp(due, rng, 7, 9),
                "DEBITO",
                "OUTROS",
                "PAGTO FATURA CARTAO",
                total,
                card_bill_id=bill_id,
            )
        ctx.rows("card_bills").append(
            {
                "bill_id": bill_id,
                "card_account_id": card_id,
                "closing_date": closing,
                "due_date": due,
                "total_amount": total,
                "currency": "BRL",
                "paid_transaction_id": paid,
            }
        )
        opened = closing + timedelta(days=1)
        following = closing + timedelta(days=31)
        closing = previous_business_day(date(following.year, following.month, 26))


def stray_payment(ctx: Context) -> None:
    rng = ctx.rng("stray")
    for _ in range(ctx.count(1)):
        day = ctx.random_business_day(rng, ctx.start + timedelta(days=60), ctx.end - timedelta(days=5))
        cnpj = make_cnpj(rng.randint(10_000_000, 99_999_999))
        tx = post(
            ctx,
            rng,
            account(ctx, "001"),
            ctx.stamp(day, rng),
            "DEBITO",
            "TED",
            "TED ENVIADA ALFA CONSULTORIA EMPRESARIAL",
            Decimal("48000.00"),
            partie=counterparty(rng, cnpj),
        )
        anomaly(
            ctx,
            "UNKNOWN_COUNTERPARTY",
            tx,
            None,
            None,
            "round-amount TED to a company that is neither a supplier nor in any ERP document",
        )
