"""Master data: the company and its banks, foreign and Brazilian suppliers, products, customers.

Real: NCM codes and their II/IPI rates, units, prices and kg per unit, origin countries (from Comex Stat
rows), the two banks' names, COMPE codes and CNPJs. Synthetic: every name, id and CNPJ of the company, its
suppliers and customers (CNPJs carry correct check digits), catalog prices around the real unit values.
"""

from collections import defaultdict
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from ingestion.erp.cnpj import make_cnpj
from sandboxes.demo_company import reference
from sandboxes.demo_company.calendar_fx import ptax_sell
from sandboxes.demo_company.context import Context
from sandboxes.demo_company.taxes import money

FOUR = Decimal("0.0001")
BANKS = (  # real institutions: brand, legal CNPJ, COMPE code
    ("Banco do Brasil", "00000000000191", "001"),
    ("Itaú Unibanco", "60701190000104", "341"),
)
OPENING_BALANCES = {"001": Decimal(12_000_000), "341": Decimal(9_000_000)}  # synthetic, times the scale
ESTABLISHMENTS = {"SP": 1, "SC": 2, "PR": 3}  # company branch number per state of destination
LEGAL_SUFFIX = {
    "CHN": "Co., Ltd.",
    "DEU": "GmbH",
    "USA": "Inc.",
    "ITA": "S.r.l.",
    "JPN": "Co., Ltd.",
    "FRA": "SAS",
    "ESP": "S.L.",
    "NLD": "B.V.",
    "SWE": "AB",
    "MEX": "S.A. de C.V.",
    "GBR": "Ltd.",
}
NAME_WORDS = (
    "Sino",
    "Delta",
    "Apex",
    "Nordic",
    "Orion",
    "Atlas",
    "Vertex",
    "Pacific",
    "Summit",
    "Crown",
    "Lotus",
    "Pioneer",
    "Rhein",
    "Alpine",
    "Meridian",
    "Zenith",
    "Harbor",
    "Golden",
    "Eastern",
    "Precision",
)
INDUSTRY = (
    "Industrial",
    "Machinery",
    "Electric",
    "Components",
    "Tools",
    "Instruments",
    "Plastics",
    "Hardware",
)
BR_SURNAMES = (
    "Oliveira",
    "Souza",
    "Pereira",
    "Almeida",
    "Ferreira",
    "Ribeiro",
    "Carvalho",
    "Gomes",
    "Martins",
    "Rocha",
    "Barbosa",
    "Teixeira",
    "Moreira",
    "Cardoso",
    "Nunes",
    "Lopes",
    "Mendes",
    "Castro",
)
BR_SEGMENTS = ("Máquinas", "Ferramentas", "Eletrônica", "Automação", "Peças", "Equipamentos", "Distribuidora")
CUSTOMER_STATES = (
    ("SP", 40),
    ("SC", 12),
    ("PR", 12),
    ("MG", 10),
    ("RS", 8),
    ("RJ", 8),
    ("GO", 4),
    ("BA", 3),
    ("PE", 3),
)
CITIES = {
    "SP": ("São Paulo", "Campinas"),
    "SC": ("Joinville", "Itajaí"),
    "PR": ("Curitiba", "Londrina"),
    "MG": ("Belo Horizonte", "Contagem"),
    "RS": ("Porto Alegre", "Caxias do Sul"),
    "RJ": ("Rio de Janeiro", "Duque de Caxias"),
    "GO": ("Goiânia", "Anápolis"),
    "BA": ("Salvador", "Camaçari"),
    "PE": ("Recife", "Jaboatão dos Guararapes"),
}


def _audit(ctx: Context, rng, created_days_before: int = 400) -> dict:
    day = ctx.start - timedelta(days=rng.randint(30, created_days_before))
    return {"updated_at": ctx.stamp(day, rng), "deleted_at": None}


def _unique_root(rng, used: set[int]) -> int:
    while True:
        root = rng.randint(10_000_000, 99_999_999)
        if root not in used:
            used.add(root)
            return root


def build_company(ctx: Context) -> None:
    rng = ctx.rng("company")
    used: set[int] = ctx.catalog.setdefault("cnpj_roots", set())
    root = _unique_root(rng, used)
    ctx.catalog["company"] = {
        "name": "Importaú Comércio e Importação Ltda",
        "cnpj": {state: make_cnpj(root, branch) for state, branch in ESTABLISHMENTS.items()},
    }
    accounts = ctx.rows("bank_accounts")
    for brand, cnpj, compe in BANKS:
        accounts.append(
            {
                "account_id": f"ACC-{compe}-{rng.randint(10**7, 10**8 - 1)}",
                "institution_name": brand,
                "institution_cnpj": cnpj,
                "compe_code": compe,
                "branch_code": f"{rng.randint(1000, 9999)}",
                "number": f"{rng.randint(10**7, 10**8 - 1)}",
                "check_digit": str(rng.randint(0, 9)),
                "account_type": "CONTA_DEPOSITO_A_VISTA",
                "subtype": "INDIVIDUAL",
                "currency": "BRL",
                "company_cnpj": ctx.catalog["company"]["cnpj"]["SP"],
                "opening_date": ctx.start,
                "opening_balance": money(OPENING_BALANCES[compe] * Decimal(str(ctx.scale))),
            }
        )


def _supplier_quota(ctx: Context) -> dict[str, int]:
    """Foreign suppliers per country, proportional to the country's share of the real template rows."""
    by_country: dict[str, int] = defaultdict(int)
    for row in reference.comex_templates():
        by_country[row.country.co_pais] += 1
    total, wanted = sum(by_country.values()), ctx.count(20, minimum=3)
    quota = {c: int(wanted * n / total) for c, n in by_country.items()}
    rest = sorted(by_country, key=lambda c: (-(wanted * by_country[c] / total - quota[c]), c))
    for country in rest[: wanted - sum(quota.values())]:
        quota[country] += 1
    return {c: q for c, q in sorted(quota.items()) if q}


def _foreign_tax_id(rng, country) -> str:
    if country.iso3 == "CHN":
        return "91" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(16))
    if country.iso3 == "USA":
        return f"{rng.randint(10, 99)}-{rng.randint(10**6, 10**7 - 1)}"
    return f"{country.iso2}{rng.randint(10**8, 10**9 - 1)}"


def build_suppliers(ctx: Context) -> None:
    rng, rows = ctx.rng("suppliers"), ctx.rows("suppliers")
    countries = reference.countries()
    by_country: dict[str, list[dict]] = defaultdict(list)
    for co_pais, quota in _supplier_quota(ctx).items():
        country = countries[co_pais]
        for n in range(quota):
            currency = country.currencies[n % len(country.currencies)]
            name = f"{rng.choice(NAME_WORDS)} {rng.choice(INDUSTRY)} {LEGAL_SUFFIX.get(country.iso3, 'Ltd.')}"
            row = {
                "supplier_id": ctx.next_id("SUP-", 4),
                "name": name,
                "country": country.iso3,
                "tax_id": _foreign_tax_id(rng, country),
                "tax_id_type": "FOREIGN",
                "currency": currency,
                "payment_terms_days": 0 if country.iso3 == "CHN" else rng.choice((30, 60, 90)),
                **_audit(ctx, rng),
            }
            rows.append(row)
            by_country[co_pais].append(row)
    ctx.catalog["suppliers_by_country"] = dict(by_country)
    used = ctx.catalog["cnpj_roots"]
    services = [("broker", "Despachos Aduaneiros {} Ltda"), ("forwarder", "{} Logística Internacional Ltda")]
    for role, pattern in services:
        ctx.catalog[role] = []
        for _ in range(ctx.count(1)):
            row = {
                "supplier_id": ctx.next_id("SUP-", 4),
                "name": pattern.format(rng.choice(BR_SURNAMES)),
                "country": "BRA",
                "tax_id": make_cnpj(_unique_root(rng, used)),
                "tax_id_type": "CNPJ",
                "currency": "BRL",
                "payment_terms_days": 15 if role == "broker" else 30,
                **_audit(ctx, rng),
            }
            rows.append(row)
            ctx.catalog[role].append(row)


def _description(text: str) -> str:
    tail = text.replace("--", "-").split(" - ")[-1].strip(" -:")
    return tail[:120].rstrip()


def build_products(ctx: Context) -> None:
    rng, rows = ctx.rng("products"), ctx.rows("products")
    by_country = ctx.catalog["suppliers_by_country"]
    templates = [t for t in reference.comex_templates() if t.country.co_pais in by_country]
    rng.shuffle(templates)
    rates = reference.ncm_rates()
    usd_to = {
        "USD": Decimal(1),
        "CNY": reference.cny_per_usd(),
        "EUR": ptax_sell("USD", ctx.start_business) / ptax_sell("EUR", ctx.start_business),
    }
    offers = ctx.catalog.setdefault("offers", defaultdict(list))  # supplier_id -> [(sku, unit price)]
    ctx.catalog["product"] = {}
    for n in range(ctx.count(60, minimum=4)):
        template = templates[n % len(templates)]
        sku = f"SKU-{template.ncm[:4]}-{n + 1:05d}"
        rows.append(
            {
                "sku": sku,
                "description": _description(rates[template.ncm].description),
                "ncm": template.ncm,
                "unit": template.unit,
                "net_weight_kg": max(template.kg_per_unit.quantize(FOUR), FOUR),
                **_audit(ctx, rng),
            }
        )
        ctx.catalog["product"][sku] = template
        candidates = by_country[template.country.co_pais]
        chosen = rng.sample(candidates, 2 if len(candidates) > 1 and rng.random() < 0.25 else 1)
        for supplier in chosen:
            factor = Decimal(str(round(rng.uniform(0.9, 1.1), 3)))
            price = (template.unit_price_usd * usd_to[supplier["currency"]] * factor).quantize(FOUR, ROUND_HALF_UP)
            offers[supplier["supplier_id"]].append((sku, max(price, FOUR)))


def build_customers(ctx: Context) -> None:
    rng, rows = ctx.rng("customers"), ctx.rows("customers")
    used = ctx.catalog["cnpj_roots"]
    states, weights = zip(*CUSTOMER_STATES, strict=True)
    for _ in range(ctx.count(120, minimum=5)):
        state = rng.choices(states, weights)[0]
        rows.append(
            {
                "customer_id": ctx.next_id("CUS-", 5),
                "name": f"{rng.choice(BR_SURNAMES)} {rng.choice(BR_SEGMENTS)} Ltda",
                "cnpj": make_cnpj(_unique_root(rng, used), rng.choice((1, 1, 1, 2))),
                "state": state,
                "city": rng.choice(CITIES[state]),
                "payment_terms_days": rng.choice((28, 30, 30, 45, 60)),
                **_audit(ctx, rng),
            }
        )
    gone = rows[-1]  # registered twice by mistake and soft-deleted; it never buys anything
    gone["deleted_at"] = gone["updated_at"] + timedelta(days=1)
    gone["updated_at"] = gone["deleted_at"]
