"""Import taxes and fees as Brazilian law computes them, per declaration item (all amounts in BRL, 2 places).

customs value (CV) = (FOB + freight + insurance) x Siscomex rate; II = CV x ii; IPI = (CV + II) x ipi;
PIS-Importação = CV x 2.10 %; COFINS-Importação = CV x 9.65 %; Siscomex fee per declaration plus a tiered fee
per addition (each item is its own addition here); AFRMM = 8 % of sea freight in BRL; the fees and customs
expenses are allocated to items by customs value; ICMS "por dentro" with the destination state's rate:
(CV + II + IPI + PIS + COFINS + Siscomex + AFRMM + expenses) / (1 - r) x r. Rates come from data/reference.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sandboxes.demo_company import reference

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _rule(name: str) -> list[dict]:
    return [r for r in reference.tax_rules() if r["rule"] == name]


def rate_pct(name: str) -> Decimal:
    return Decimal(_rule(name)[0]["value"])


def icms_rate_pct(state: str, day: date) -> Decimal:
    for row_state, rate, valid_from, valid_to, _ in reference.icms_rates():
        if row_state == state and valid_from <= day and (valid_to is None or day <= valid_to):
            return rate
    raise LookupError(f"no ICMS rate for {state} on {day}")


def siscomex_fee(additions: int) -> Decimal:
    """Taxa de utilização do Siscomex: R$ 115.67 per declaration plus the tiered fee of each addition."""
    fee = Decimal(_rule("SISCOMEX_FEE_DECLARATION")[0]["value"])
    for number in range(1, additions + 1):
        for tier in _rule("SISCOMEX_FEE_ADDITION"):
            low, high = int(tier["tier_from"]), int(tier["tier_to"]) if tier["tier_to"] else None
            if number >= low and (high is None or number <= high):
                fee += Decimal(tier["value"])
                break
    return fee


def allocate(total: Decimal, weights: list[Decimal], quantum: Decimal = CENT) -> list[Decimal]:
    """Split `total` in proportion to `weights`, rounded to `quantum`; the rounding rest goes
    to the largest weight."""
    whole = sum(weights)
    if whole == 0:
        shares = [Decimal(0)] * len(weights)
        shares[0] = total
        return shares
    shares = [(total * w / whole).quantize(quantum, ROUND_HALF_UP) for w in weights]
    largest = max(range(len(weights)), key=lambda i: weights[i])
    shares[largest] += total - sum(shares)
    return shares


@dataclass(frozen=True)
class ItemTaxes:
    customs_value_brl: Decimal
    ii_rate_pct: Decimal
    ipi_rate_pct: Decimal
    pis_rate_pct: Decimal
    cofins_rate_pct: Decimal
    icms_rate_pct: Decimal
    ii_brl: Decimal
    ipi_brl: Decimal
    pis_brl: Decimal
    cofins_brl: Decimal
    siscomex_brl: Decimal
    afrmm_brl: Decimal
    expenses_brl: Decimal
    icms_brl: Decimal


def item_taxes(
    cv: Decimal,
    ii: Decimal,
    ipi: Decimal,
    pis: Decimal,
    cofins: Decimal,
    icms: Decimal,
    siscomex: Decimal,
    afrmm: Decimal,
    expenses: Decimal,
    *,
    ipi_on_cv_only: bool = False,
    icms_por_fora: bool = False,
) -> ItemTaxes:
    """The taxes of one item from its customs value, rates in percent and allocated fees.

    The two keyword flags reproduce ERP mistakes (IPI without II in its base; ICMS without the gross-up).
    """
    ii_brl = money(cv * ii / HUNDRED)
    ipi_brl = money((cv if ipi_on_cv_only else cv + ii_brl) * ipi / HUNDRED)
    pis_brl, cofins_brl = money(cv * pis / HUNDRED), money(cv * cofins / HUNDRED)
    base = cv + ii_brl + ipi_brl + pis_brl + cofins_brl + siscomex + afrmm + expenses
    rate = icms / HUNDRED
    icms_brl = money(base * rate if icms_por_fora else base / (1 - rate) * rate)
    return ItemTaxes(
        cv,
        ii,
        ipi,
        pis,
        cofins,
        icms,
        ii_brl,
        ipi_brl,
        pis_brl,
        cofins_brl,
        siscomex,
        afrmm,
        expenses,
        icms_brl,
    )


@dataclass(frozen=True)
class ItemInput:
    fob: Decimal  # declaration currency
    freight: Decimal
    insurance: Decimal
    ii_pct: Decimal
    ipi_pct: Decimal


@dataclass(frozen=True)
class DeclarationTaxes:
    items: list[ItemTaxes]
    siscomex_brl: Decimal
    afrmm_brl: Decimal

    def total(self, field: str) -> Decimal:
        return sum((getattr(item, field) for item in self.items), Decimal(0))


def declaration_taxes(
    items: list[ItemInput],
    rate: Decimal,
    state: str,
    icms_date: date,
    sea: bool,
    freight_total: Decimal,
    expenses_brl: Decimal,
    *,
    siscomex_additions: int | None = None,
    pis_pct: Decimal | None = None,
    cofins_pct: Decimal | None = None,
    afrmm: bool = True,
    **mistakes: bool,
) -> DeclarationTaxes:
    """Taxes of a whole declaration. Keyword overrides reproduce ERP mistakes (see `customs.py`).

    `icms_date` picks the ICMS rate: the taxable event of ICMS on imports is the customs clearance
    (LC 87/1996 art. 12, IX), so the rate in force on the clearance date (registration while not cleared)."""
    pis = rate_pct("PIS_IMPORTACAO") if pis_pct is None else pis_pct
    cofins = rate_pct("COFINS_IMPORTACAO") if cofins_pct is None else cofins_pct
    icms = icms_rate_pct(state, icms_date)
    cvs = [money((i.fob + i.freight + i.insurance) * rate) for i in items]
    fee = siscomex_fee(len(items) if siscomex_additions is None else siscomex_additions)
    afrmm_brl = (
        money(freight_total * rate * rate_pct("AFRMM_LONG_HAUL") / HUNDRED) if sea and afrmm else Decimal("0.00")
    )
    fees = allocate(fee, cvs)
    afrmms = allocate(afrmm_brl, cvs)
    expenses = allocate(expenses_brl, cvs)
    taxed = [
        item_taxes(cv, i.ii_pct, i.ipi_pct, pis, cofins, icms, f, a, e, **mistakes)
        for cv, i, f, a, e in zip(cvs, items, fees, afrmms, expenses, strict=True)
    ]
    return DeclarationTaxes(taxed, fee, afrmm_brl)
