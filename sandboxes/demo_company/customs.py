"""Import declarations (DI/DUIMP) and their items, with taxes as the ERP recorded them, and stock receipts.

The true values follow the law (`taxes.py`) at the Siscomex rate (PTAX sell of the business day before
registration). A few declarations then get a deliberate ERP mistake; each is listed in the ground truth
(`erp_errors`) with the recorded and the correct value, so the landed-cost mart has something to find.
"""

from decimal import ROUND_HALF_UP, Decimal

from sandboxes.demo_company import reference
from sandboxes.demo_company.calendar_fx import add_business_days, next_business_day, ptax_sell, siscomex_rate
from sandboxes.demo_company.context import Context
from sandboxes.demo_company.taxes import ItemInput, allocate, declaration_taxes, money

ERROR_KINDS = (
    "RATE_OF_REGISTRATION_DAY",
    "IPI_BASE_WITHOUT_II",
    "ICMS_NOT_GROSSED_UP",
    "OLD_PIS_COFINS_RATES",
    "AFRMM_MISSING",
    "SISCOMEX_ADDITIONS_MISSING",
)
ZERO = Decimal(0)


def _state(customs_unit: str) -> str:
    """Destination state = the establishment that imports: SC and PR branches for their ports, else SP."""
    return {"092": "SC", "091": "PR"}.get(customs_unit[:3], "SP")


def _number(rng, kind: str, day) -> str:
    yy = f"{day:%y}"
    if kind == "DUIMP":
        return f"{yy}BR{rng.randint(10**9, 10**10 - 1)}-{rng.randint(0, 9)}"
    return f"{yy}/{rng.randint(10**6, 10**7 - 1)}-{rng.randint(0, 9)}"


def _assign_errors(ctx: Context, pos: list[dict]) -> dict[str, str]:
    rng = ctx.rng("erp_errors")
    order = list(range(len(pos)))
    rng.shuffle(order)
    assigned: dict[str, str] = {}
    for kind in ERROR_KINDS:
        wanted = ctx.count(1)
        for index in order:
            po = pos[index]
            if wanted == 0:
                break
            if po["po_id"] in assigned or (kind == "AFRMM_MISSING" and po["mode"] != "SEA"):
                continue
            if kind == "SISCOMEX_ADDITIONS_MISSING" and len(po["lines"]) < 2:
                continue
            assigned[po["po_id"]] = kind
            wanted -= 1
    return assigned


def _mistake(kind: str | None, currency: str, registration) -> dict:
    if kind == "RATE_OF_REGISTRATION_DAY":
        return {"rate": ptax_sell(currency, registration)}
    return {
        "IPI_BASE_WITHOUT_II": {"ipi_on_cv_only": True},
        "ICMS_NOT_GROSSED_UP": {"icms_por_fora": True},
        "OLD_PIS_COFINS_RATES": {"pis_pct": Decimal("1.65"), "cofins_pct": Decimal("7.60")},
        "AFRMM_MISSING": {"afrmm": False},
        "SISCOMEX_ADDITIONS_MISSING": {"siscomex_additions": 0},
        None: {},
    }[kind]


def build_declarations(ctx: Context) -> None:
    rng = ctx.rng("declarations")
    pos = []
    for po in ctx.catalog["po"].values():
        if po.get("shipment") is None or not ctx.in_range(po["actual"]):
            continue
        po["registration"] = add_business_days(next_business_day(po["actual"]), rng.randint(0, 2))
        if ctx.in_range(po["registration"]):
            pos.append(po)
    errors = _assign_errors(ctx, pos)
    for po in pos:
        _declare(ctx, rng, po, errors.get(po["po_id"]))


def _declare(ctx: Context, rng, po: dict, error: str | None) -> None:
    registration, currency = po["registration"], po["supplier"]["currency"]
    channel = rng.random()
    clearance = add_business_days(
        registration,
        rng.randint(0, 1) if channel < 0.7 else (rng.randint(2, 4) if channel < 0.9 else rng.randint(5, 10)),
    )
    products = ctx.catalog["product"]
    weights = [line["quantity"] * products[line["sku"]].kg_per_unit for line in po["lines"]]
    fobs = [line["line_amount"] for line in po["lines"]]
    freights, insurances = allocate(po["freight"], weights), allocate(po["insurance"], fobs)
    rate = siscomex_rate(currency, registration)
    rates = [reference.ncm_rates()[products[line["sku"]].ncm] for line in po["lines"]]
    inputs = [
        ItemInput(fob, fr, ins, ncm.ii_pct, ncm.ipi_pct)
        for ncm, fob, fr, ins in zip(rates, fobs, freights, insurances, strict=True)
    ]
    cv_total = money((po["goods"] + po["freight"] + po["insurance"]) * rate)
    expenses = money(Decimal(str(round(rng.uniform(1200, 2400), 2))) + cv_total * Decimal("0.004"))
    state, sea = _state(po["customs_unit"]), po["mode"] == "SEA"
    icms_date = clearance if ctx.in_range(clearance) else registration  # ICMS is due on clearance
    args = (state, icms_date, sea, po["freight"], expenses)
    truth = declaration_taxes(inputs, rate, *args)
    mistake = _mistake(error, currency, registration)
    recorded_rate = mistake.pop("rate", rate)
    recorded = declaration_taxes(inputs, recorded_rate, *args, **mistake) if error else truth
    kind = "DUIMP" if registration.month >= 10 and rng.random() < 0.4 else "DI"
    declaration_id = _number(rng, kind, registration)
    po.update(declaration_id=declaration_id, clearance=clearance, truth=truth, expenses=expenses, rate=rate)
    cleared = ctx.in_range(clearance)
    header = {
        "declaration_id": declaration_id,
        "declaration_type": kind,
        "shipment_id": po["shipment_id"],
        "registration_date": registration,
        "clearance_date": clearance if cleared else None,
        "customs_unit": po["customs_unit"],
        "destination_state": state,
        "currency": currency,
        "exchange_rate": recorded_rate,
        "fob_amount": po["goods"],
        "freight_amount": po["freight"],
        "insurance_amount": po["insurance"],
        "customs_value_brl": recorded.total("customs_value_brl"),
        "ii_brl": recorded.total("ii_brl"),
        "ipi_brl": recorded.total("ipi_brl"),
        "pis_brl": recorded.total("pis_brl"),
        "cofins_brl": recorded.total("cofins_brl"),
        "icms_brl": recorded.total("icms_brl"),
        "siscomex_fee_brl": recorded.siscomex_brl,
        "afrmm_brl": recorded.afrmm_brl,
        "customs_expenses_brl": expenses,
        "status": "CLEARED" if cleared else "REGISTERED",
        "updated_at": ctx.stamp(clearance if cleared else registration, rng),
        "deleted_at": None,
    }
    ctx.rows("import_declarations").append(header)
    if cleared:
        po["shipment"].update(status="CLEARED", updated_at=header["updated_at"])
    items = ctx.rows("import_declaration_items")
    for number, (line, item, fob, fr, ins) in enumerate(
        zip(po["lines"], recorded.items, fobs, freights, insurances, strict=True), start=1
    ):
        items.append(
            {
                "declaration_id": declaration_id,
                "item_number": number,
                "po_id": po["po_id"],
                "po_line_number": line["line_number"],
                "sku": line["sku"],
                "ncm": products[line["sku"]].ncm,
                "quantity": line["quantity"],
                "net_weight_kg": weights[number - 1].quantize(Decimal("0.0001")),
                "fob_amount": fob,
                "freight_amount": fr,
                "insurance_amount": ins,
                "customs_value_brl": item.customs_value_brl,
                "ii_rate_pct": item.ii_rate_pct,
                "ipi_rate_pct": item.ipi_rate_pct,
                "pis_rate_pct": item.pis_rate_pct,
                "cofins_rate_pct": item.cofins_rate_pct,
                "icms_rate_pct": item.icms_rate_pct,
                "ii_brl": item.ii_brl,
                "ipi_brl": item.ipi_brl,
                "pis_brl": item.pis_brl,
                "cofins_brl": item.cofins_brl,
                "icms_brl": item.icms_brl,
                "updated_at": header["updated_at"],
                "deleted_at": None,
            }
        )
    if error:
        _record_error(ctx, declaration_id, error, header, truth, rate)
    _official(ctx, po, header, truth, rate)
    _receive(ctx, rng, po, truth, cleared)


def _official(ctx: Context, po: dict, header: dict, truth, rate: Decimal) -> None:
    """The declaration as the Receita registered it (the TRUE figures: the ERP's planted mistakes stay in the ERP's
    copy), for the broker's DI XML / DUIMP JSON exports (`writers.write_customs_declarations`). No random draw, so
    the rest of the company is unchanged."""
    key = {"declaration_id": header["declaration_id"], "version": 1}
    registration = header["registration_date"]
    products = ctx.catalog["product"]
    items = [
        {
            **key,
            "item_number": number,
            "ncm": products[line["sku"]].ncm,
            "customs_value_brl": item.customs_value_brl,
            "ii_rate_pct": item.ii_rate_pct,
            "ipi_rate_pct": item.ipi_rate_pct,
            "pis_rate_pct": item.pis_rate_pct,
            "cofins_rate_pct": item.cofins_rate_pct,
            "ii_brl": item.ii_brl,
            "ipi_brl": item.ipi_brl,
            "pis_brl": item.pis_brl,
            "cofins_brl": item.cofins_brl,
        }
        for number, (line, item) in enumerate(zip(po["lines"], truth.items, strict=True), start=1)
    ]
    paid = {
        "II": truth.total("ii_brl"),
        "IPI": truth.total("ipi_brl"),
        "PIS": truth.total("pis_brl"),
        "COFINS": truth.total("cofins_brl"),
        "SISCOMEX_FEE": truth.siscomex_brl,
    }
    declaration = {
        **key,
        "declaration_type": header["declaration_type"],
        "source_format": "DUIMP_JSON" if header["declaration_type"] == "DUIMP" else "DI_XML",
        "importer_cnpj": ctx.catalog["company"]["cnpj"][header["destination_state"]],
        "registration_date": registration,
        "customs_unit": header["customs_unit"],
        "currency": header["currency"],
        "exchange_rate": rate,
        "freight_brl": money(header["freight_amount"] * rate),
        "insurance_brl": money(header["insurance_amount"] * rate),
    }
    taxes = [
        {**key, "tax": tax, "amount_brl": amount, "payment_date": registration}
        for tax, amount in paid.items()
        if amount > 0
    ]
    ctx.catalog.setdefault("official_declarations", []).append(
        {"declaration": declaration, "items": items, "taxes": taxes}
    )


def _record_error(ctx: Context, declaration_id: str, kind: str, header: dict, truth, rate: Decimal) -> None:
    correct = {
        "exchange_rate": rate,
        "ipi_brl": truth.total("ipi_brl"),
        "icms_brl": truth.total("icms_brl"),
        "pis_brl": truth.total("pis_brl"),
        "cofins_brl": truth.total("cofins_brl"),
        "afrmm_brl": truth.afrmm_brl,
        "siscomex_fee_brl": truth.siscomex_brl,
        "customs_value_brl": truth.total("customs_value_brl"),
        "ii_brl": truth.total("ii_brl"),
    }
    for field, right in correct.items():
        if header[field] != right:
            ctx.truth_rows("erp_errors").append(
                {
                    "declaration_id": declaration_id,
                    "error_kind": kind,
                    "field": field,
                    "recorded_value": str(header[field]),
                    "correct_value": str(right),
                }
            )


def _receive(ctx: Context, rng, po: dict, truth, cleared: bool) -> None:
    """Stock receipt per item, at cost = customs value + II + Siscomex + AFRMM + expenses (IPI, PIS, COFINS
    and ICMS are recoverable credits for a company on actual profit, so they stay out of inventory cost)."""
    receipt = add_business_days(po["clearance"], rng.randint(1, 3))
    if not cleared or not ctx.in_range(receipt):
        return
    po["receipt"] = receipt
    lots = ctx.catalog.setdefault("lots", [])
    for line, item in zip(po["lines"], truth.items, strict=True):
        cost = item.customs_value_brl + item.ii_brl + item.siscomex_brl + item.afrmm_brl + item.expenses_brl
        unit_cost = (cost / line["quantity"]).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        movement_id = ctx.next_id("MOV-", 7)
        ctx.rows("inventory_movements").append(
            {
                "movement_id": movement_id,
                "sku": line["sku"],
                "movement_date": receipt,
                "movement_type": "RECEIPT",
                "quantity": line["quantity"],
                "unit_cost_brl": unit_cost,
                "reference_type": "IMPORT_DECLARATION",
                "reference_id": po["declaration_id"],
                "warehouse": f"{_state(po['customs_unit'])}-01",
                "updated_at": ctx.stamp(receipt, rng),
                "deleted_at": None,
            }
        )
        lots.append(
            {
                "sku": line["sku"],
                "date": receipt,
                "quantity": line["quantity"],
                "unit_cost": unit_cost,
                "warehouse": f"{_state(po['customs_unit'])}-01",
            }
        )
