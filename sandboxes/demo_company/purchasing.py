"""Purchase orders, their lines and shipments: what the company ordered, from whom, and when it travelled.

Lines take real unit prices and weights from the product's Comex Stat row; freight and insurance follow the
real freight/FOB and insurance/FOB ratios of those rows; transport mode, customs unit and origin come from
them too. Dates follow a plausible timeline (production, transit by mode and region, some late arrivals);
everything after the `end` date has not happened yet, so statuses are a snapshot as of `end`.

Late arrivals are not a coin toss: as in real trade lanes, the chance that a shipment arrives more than two days
after its ETA (the ERP's grace) depends on the supplier (each has its own reliability), the route (Asian sea
lanes are the least punctual, air the most), the port of entry and its congestion season (Santos and
Paranaguá in the grain export months, every sea port before Christmas, Asian factories around the Chinese New
Year) and the shipment's weight, plus noise (`_late_log_odds`). A model can learn that; it cannot learn the noise.
"""

import math
from datetime import date, timedelta
from decimal import Decimal

from sandboxes.demo_company.calendar_fx import add_business_days, next_business_day
from sandboxes.demo_company.context import Context, lognormal_amount
from sandboxes.demo_company.taxes import money

INCOTERMS = {
    "SEA": ("FOB", "FOB", "CFR", "CIF", "FCA"),
    "AIR": ("FCA", "FCA", "CPT", "CIP"),
    "ROAD": ("FCA", "CPT"),
}
FREIGHT_INCLUDED = {"CFR", "CIF", "CPT", "CIP"}
INSURANCE_INCLUDED = {"CIF", "CIP"}
ASIA = {"CHN", "JPN", "TWN", "THA", "VNM", "IND", "KOR", "SGP", "IDN", "PHL", "MYS", "HKG", "ISR", "TUR"}
AMERICAS = {"USA", "CAN", "MEX", "COL", "ARG"}


def _transit_days(rng, mode: str, country: str) -> int:
    if mode == "AIR":
        return rng.randint(2, 5)
    if mode == "ROAD":
        return rng.randint(3, 8)
    if country in ASIA:
        return rng.randint(32, 45)
    return rng.randint(14, 24) if country in AMERICAS else rng.randint(18, 28)


# Log-odds of a late arrival, by what shapes real delays: about 30 % of shipments late overall, over half of the
# sea freight (carriers' schedule reliability was 50-65 % in 2024) and a few percent of the air freight.
LATE_BASE_LOG_ODDS = -1.2
SUPPLIER_RELIABILITY_SD = 1.2  # one draw per supplier: some are reliably punctual, some reliably late
ROUTE_LOG_ODDS = {"SEA": {"ASIA": 1.5, "AMERICAS": -0.1, "OTHER": 0.3}, "AIR": -2.2, "ROAD": -0.3}
PORT_CONGESTION = {"0817800": 0.8, "0917800": 0.4, "0927800": 0.2}  # Santos, Paranaguá, Itajaí (sea ports)
GRAIN_SEASON_PORTS = {"0817800", "0917800"}  # soy and corn exports crowd these berths from March to June
WEIGHT_LOG_ODDS_PER_LN_KG = 0.35  # heavier loads get rolled to the next vessel and inspected more
SHIPMENT_NOISE_SD = 0.3
PEAK_SEASON_LOG_ODDS = 0.7


def _region(country: str) -> str:
    return "ASIA" if country in ASIA else ("AMERICAS" if country in AMERICAS else "OTHER")


def _supplier_reliability(ctx: Context, supplier: dict) -> float:
    """The supplier's own log-odds shift, drawn once per supplier from its own stream."""
    drawn = ctx.catalog.setdefault("supplier_reliability", {})
    if supplier["supplier_id"] not in drawn:
        drawn[supplier["supplier_id"]] = ctx.rng(f"reliability:{supplier['supplier_id']}").gauss(
            0, SUPPLIER_RELIABILITY_SD
        )
    return drawn[supplier["supplier_id"]]


def _season_log_odds(mode: str, country: str, port: str, etd: date, eta: date) -> float:
    shift = 0.0
    if country in ASIA and (date(etd.year, 1, 20) <= etd <= date(etd.year, 2, 25)):
        shift += 0.9  # factories and forwarders stop for the Chinese New Year
    if mode == "SEA" and eta.month in (9, 10, 11):
        shift += PEAK_SEASON_LOG_ODDS  # the pre-Christmas peak season fills every sea port
    if mode == "SEA" and port in GRAIN_SEASON_PORTS and eta.month in (3, 4, 5, 6):
        shift += 0.6  # grain export season at Santos and Paranaguá
    return shift


def _late_log_odds(ctx: Context, rng, po: dict, kg: Decimal) -> float:
    mode, country, port = po["mode"], po["supplier"]["country"], po["customs_unit"]
    route = ROUTE_LOG_ODDS[mode]
    return (
        LATE_BASE_LOG_ODDS
        + _supplier_reliability(ctx, po["supplier"])
        + (route[_region(country)] if isinstance(route, dict) else route)
        + (PORT_CONGESTION.get(port, 0.0) if mode == "SEA" else 0.0)
        + _season_log_odds(mode, country, port, po["etd"], po["eta"])
        + WEIGHT_LOG_ODDS_PER_LN_KG * (math.log1p(float(kg)) - math.log1p(1000.0))
        + rng.gauss(0, SHIPMENT_NOISE_SD)
    )


def _arrival_delay(ctx: Context, po: dict, kg: Decimal) -> int:
    """Days between ETA and arrival: late (3 to 21 days, longer on the riskier lanes) with the probability the
    lane, season, supplier and size give, else on time or a little early."""
    rng = ctx.rng("shipment_delays")
    log_odds = _late_log_odds(ctx, rng, po, kg)
    if rng.random() < 1 / (1 + math.exp(-log_odds)):
        return min(21, 3 + round(rng.expovariate(1 / max(2.0, 4.0 + 2.0 * log_odds))))
    return -rng.randint(1, 3) if rng.random() < 0.1 else rng.randint(0, 1)


def _skip_former_delay_draws(rng) -> None:
    """Consume the draws the delay used to take from this stream, so every later draw of it (lines, incoterms,
    cancellations of the next orders) and the tables built on them stay as they were; the delay itself now comes
    from its own stream (`_arrival_delay`)."""
    roll = rng.random()
    if roll < 0.25:
        rng.randint(3, 21)
    elif roll < 0.33:
        rng.randint(1, 3)
    else:
        rng.randint(0, 1)


def _ratio(numerators: list[Decimal], denominators: list[Decimal], low: str, high: str) -> Decimal:
    ratio = sum(numerators) / sum(denominators)
    return min(max(ratio, Decimal(low)), Decimal(high))


def _bill_of_lading(rng, mode: str) -> str:
    if mode == "SEA":
        return rng.choice(("MSCU", "MAEU", "CMDU", "COSU", "HLCU")) + f"{rng.randint(10**6, 10**7 - 1)}"
    if mode == "AIR":
        return f"{rng.choice(('176', '057', '020', '406'))}-{rng.randint(10**7, 10**8 - 1)}"
    return f"BR.{rng.randint(100, 999)}.{rng.randint(100000, 999999)}"


def _order_dates(ctx: Context, count: int) -> list[date]:
    rng = ctx.rng("order_dates")
    last = ctx.end - timedelta(days=10)
    span = (last - ctx.start).days
    days = [ctx.start + timedelta(days=int((n + rng.random()) * span / count)) for n in range(count)]
    return [next_business_day(day) for day in days]


def build_purchase_orders(ctx: Context) -> None:
    rng = ctx.rng("purchase_orders")
    offers = ctx.catalog["offers"]
    suppliers = [s for s in ctx.rows("suppliers") if s["supplier_id"] in offers]
    templates = ctx.catalog["product"]
    ctx.catalog["po"] = {}
    for order_date in _order_dates(ctx, ctx.count(240, minimum=10)):
        supplier = rng.choice(suppliers)
        po_id = ctx.next_id(f"PO-{order_date.year}-", 6)
        chosen = rng.sample(
            offers[supplier["supplier_id"]],
            min(rng.choice((1, 1, 2, 2, 3, 4)), len(offers[supplier["supplier_id"]])),
        )
        lines, goods = [], Decimal(0)
        for number, (sku, price) in enumerate(chosen, start=1):
            target = lognormal_amount(rng, 12000, 0.9, 800, 150000)
            usd_price = templates[sku].unit_price_usd
            quantity = Decimal(max(1, round(target / usd_price)))
            amount = money(quantity * price)
            goods += amount
            lines.append(
                {
                    "po_id": po_id,
                    "line_number": number,
                    "sku": sku,
                    "quantity": quantity,
                    "unit_price": price,
                    "line_amount": amount,
                }
            )
        rows = [templates[line["sku"]] for line in lines]
        first = rows[0]
        mode, incoterm = first.transport_mode, rng.choice(INCOTERMS[first.transport_mode])
        freight = money(
            goods
            * _ratio([r.freight_usd for r in rows], [r.fob_usd for r in rows], "0.005", "0.6")
            * Decimal(str(round(rng.uniform(0.8, 1.2), 3)))
        )
        insurance = money(
            goods
            * _ratio(
                [r.insurance_usd for r in rows],
                [r.fob_usd for r in rows],
                "0.001" if incoterm in INSURANCE_INCLUDED else "0",
                "0.02",
            )
        )
        total = (
            goods
            + (freight if incoterm in FREIGHT_INCLUDED else 0)
            + (insurance if incoterm in INSURANCE_INCLUDED else 0)
        )
        confirm = add_business_days(order_date, rng.randint(1, 3))
        lead = {"SEA": (15, 40), "AIR": (7, 25), "ROAD": (7, 20)}[mode]
        etd = next_business_day(confirm + timedelta(days=rng.randint(*lead)))
        eta = etd + timedelta(days=_transit_days(rng, mode, supplier["country"]))
        _skip_former_delay_draws(rng)
        po = {
            "po_id": po_id,
            "supplier": supplier,
            "order_date": order_date,
            "confirm": confirm,
            "mode": mode,
            "incoterm": incoterm,
            "goods": goods,
            "freight": freight,
            "insurance": insurance,
            "total": total,
            "etd": etd,
            "eta": eta,
            "customs_unit": first.customs_unit,
            "lines": lines,
            "cancelled": rng.random() < 0.02,
        }
        po["kg"] = sum(line["quantity"] * ctx.catalog["product"][line["sku"]].kg_per_unit for line in lines)
        po["actual"] = max(eta + timedelta(days=_arrival_delay(ctx, po, po["kg"])), etd + timedelta(days=1))
        ctx.catalog["po"][po_id] = po
        _emit_po(ctx, rng, po)


def _status(ctx: Context, po: dict) -> tuple[str, date]:
    if po["cancelled"]:
        return "CANCELLED", min(po["confirm"] + timedelta(days=5), ctx.end)
    steps = [("OPEN", po["order_date"]), ("CONFIRMED", po["confirm"]), ("SHIPPED", po["etd"])]
    steps += [("RECEIVED", po["receipt"])] if po.get("receipt") else []
    status, day = steps[0]
    for name, when in steps:
        if ctx.in_range(when):
            status, day = name, when
    return status, day


def _emit_po(ctx: Context, rng, po: dict) -> None:
    po_rows, line_rows = ctx.rows("purchase_orders"), ctx.rows("purchase_order_lines")
    po["row"] = {
        "po_id": po["po_id"],
        "supplier_id": po["supplier"]["supplier_id"],
        "order_date": po["order_date"],
        "currency": po["supplier"]["currency"],
        "incoterm": po["incoterm"],
        "transport_mode": po["mode"],
        "status": "OPEN",
        "total_amount": po["total"],
        "expected_arrival_date": po["eta"],
        "updated_at": ctx.stamp(po["order_date"], rng),
        "deleted_at": None,
    }
    po_rows.append(po["row"])
    for line in po["lines"]:
        line_rows.append({**line, "updated_at": po["row"]["updated_at"], "deleted_at": None})
    booking = po["etd"] - timedelta(days=7)
    if po["cancelled"] or not ctx.in_range(booking):
        return
    arrived = ctx.in_range(po["actual"])
    kg = po["kg"]
    po["shipment_id"] = ctx.next_id("SHP-", 6)
    po["shipment"] = {
        "shipment_id": po["shipment_id"],
        "po_id": po["po_id"],
        "transport_mode": po["mode"],
        "origin_country": po["supplier"]["country"],
        "customs_unit": po["customs_unit"],
        "bill_of_lading": _bill_of_lading(rng, po["mode"]),
        "etd": po["etd"],
        "eta": po["eta"],
        "actual_arrival": po["actual"] if arrived else None,
        "gross_weight_kg": (kg * Decimal("1.08")).quantize(Decimal("0.0001")),
        "currency": po["supplier"]["currency"],
        "freight_amount": po["freight"],
        "insurance_amount": po["insurance"],
        "status": "BOOKED" if not ctx.in_range(po["etd"]) else ("ARRIVED" if arrived else "IN_TRANSIT"),
        "updated_at": ctx.stamp(
            min(po["actual"] if arrived else po["etd"], ctx.end) if ctx.in_range(po["etd"]) else booking, rng
        ),
        "deleted_at": None,
    }
    ctx.rows("shipments").append(po["shipment"])


def finish_purchase_orders(ctx: Context) -> None:
    """Set each PO's status and updated_at once receipts and supplier payments are known."""
    rng = ctx.rng("po_status")
    invoices = {p["po_id"]: p for p in ctx.rows("payables") if p["document_type"] == "SUPPLIER_INVOICE"}
    for po in ctx.catalog["po"].values():
        status, day = _status(ctx, po)
        invoice = invoices.get(po["po_id"])
        if status == "RECEIVED" and invoice is not None and invoice["status"] == "PAID":
            status = "CLOSED"  # goods in stock and the supplier paid in full
        po["row"]["status"] = status
        if day > po["order_date"]:
            po["row"]["updated_at"] = ctx.stamp(day, rng)
    cancelled = [po for po in ctx.catalog["po"].values() if po["cancelled"]]
    if cancelled:  # a PO keyed twice by mistake, cancelled and then soft-deleted in the ERP
        row = cancelled[0]["row"]
        row["deleted_at"] = row["updated_at"] + timedelta(hours=2)
        row["updated_at"] = row["deleted_at"]
