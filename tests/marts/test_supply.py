"""The supply marts (`dim_supplier`, `dim_product`, `fct_product_margin`) against the demo company recomputed in
Python from `demo_company()`, the same rows the `demo_built` warehouse holds.

The expected values come from the generator's ERP tables and its own PTAX function (`calendar_fx.ptax_sell`),
each metric recomputed here from its definition in models/marts/supply/_supply__models.yml, never read back
from the warehouse.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from zoneinfo import ZoneInfo

import pytest

from sandboxes.demo_company import reference
from sandboxes.demo_company.calendar_fx import ptax_sell
from sandboxes.demo_company.taxes import rate_pct
from tests.dbt.dbt_harness import query
from tests.marts.conftest import demo_company

pytestmark = pytest.mark.integration

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
FOUR, EIGHT = Decimal("0.0001"), Decimal("0.00000001")


@dataclass(frozen=True)
class Demo:
    erp: dict[str, list[dict]]

    def live_orders(self) -> dict[str, dict]:
        return {
            po["po_id"]: po
            for po in self.erp["purchase_orders"]
            if po["deleted_at"] is None and po["status"] != "CANCELLED"
        }


@cache
def demo() -> Demo:
    company = demo_company()
    return Demo({name: table.to_pylist() for name, table in company.erp.items()})


def as_of_date(d: Demo) -> date:
    changes = d.erp["purchase_orders"] + d.erp["shipments"]
    return max(row["updated_at"].astimezone(SAO_PAULO).date() for row in changes)


def supplier_delivery(d: Demo) -> dict[str, dict]:
    """Per supplier: measured and on-time orders, received orders and their lead-time days."""
    today = as_of_date(d)
    arrivals = defaultdict(list)
    for shipment in d.erp["shipments"]:
        if shipment["deleted_at"] is None:
            arrivals[shipment["po_id"]].append(shipment["actual_arrival"])
    shipment_po = {s["shipment_id"]: s["po_id"] for s in d.erp["shipments"]}
    declaration_po = {dec["declaration_id"]: shipment_po[dec["shipment_id"]] for dec in d.erp["import_declarations"]}
    received: dict[str, date] = {}
    for move in d.erp["inventory_movements"]:
        if move["movement_type"] == "RECEIPT" and move["reference_type"] == "IMPORT_DECLARATION":
            po_id = declaration_po[move["reference_id"]]
            received[po_id] = max(received.get(po_id, move["movement_date"]), move["movement_date"])
    stats = defaultdict(lambda: {"measured": 0, "on_time": 0, "lead_times": []})
    for po_id, po in d.live_orders().items():
        promised, dates = po["expected_arrival_date"], arrivals.get(po_id, [])
        arrived = max(dates) if dates and all(dates) else None
        on_time = (arrived <= promised) if arrived else (False if promised < today else None)
        row = stats[po["supplier_id"]]
        if on_time is not None:
            row["measured"] += 1
            row["on_time"] += on_time
        if po_id in received:
            row["lead_times"].append((received[po_id] - po["order_date"]).days)
    return stats


def supplier_fob_brl(d: Demo) -> dict[str, Decimal]:
    """FOB in BRL per supplier: each live PO line at the PTAX sell of its order date, rounded to 4 places."""
    orders, fob = d.live_orders(), defaultdict(Decimal)
    for line in d.erp["purchase_order_lines"]:
        po = orders.get(line["po_id"])
        if po is not None and line["deleted_at"] is None:
            rate = ptax_sell(po["currency"], po["order_date"])
            fob[po["supplier_id"]] += (line["line_amount"] * rate).quantize(FOUR, ROUND_HALF_UP)
    return fob


def mart(demo_built, sql: str) -> list[dict]:
    return query(demo_built.data_dir, rows=sql)["rows"]


def test_every_supplier_on_time_rate_lead_time_and_share_of_spend(demo_built):
    d = demo()
    delivery, fob = supplier_delivery(d), supplier_fob_brl(d)
    total = sum(fob.values())
    rows = mart(demo_built, "SELECT * FROM marts.dim_supplier ORDER BY supplier_id")
    assert {row["supplier_id"] for row in rows} == {s["supplier_id"] for s in d.erp["suppliers"]}
    assert {row["as_of_date"] for row in rows} == {as_of_date(d).isoformat()}
    busy = 0
    for row in rows:
        sid, stats = row["supplier_id"], delivery.get(row["supplier_id"])
        assert Decimal(row["fob_brl"]) == fob.get(sid, Decimal(0)), sid
        share = (fob.get(sid, Decimal(0)) * 100 / total).quantize(EIGHT, ROUND_HALF_UP)
        assert abs(Decimal(row["share_of_spend_pct"]) - share) <= EIGHT, sid
        if stats is None:
            assert row["measured_order_count"] == 0 and row["on_time_rate_pct"] is None, sid
            continue
        busy += 1
        assert (row["measured_order_count"], row["on_time_order_count"]) == (stats["measured"], stats["on_time"]), sid
        rate = (Decimal(stats["on_time"]) * 100 / stats["measured"]).quantize(EIGHT, ROUND_HALF_UP)
        assert abs(Decimal(row["on_time_rate_pct"]) - rate) <= EIGHT, sid
        lead = stats["lead_times"]
        assert row["received_order_count"] == len(lead), sid
        assert Decimal(row["avg_lead_time_days"]) == (Decimal(sum(lead)) / len(lead)).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        )
        assert row["max_lead_time_days"] == max(lead), sid
    assert busy >= 15  # the demo has 20 foreign suppliers; every one with orders was checked
    assert abs(sum(Decimal(row["share_of_spend_pct"]) for row in rows) - 100) <= EIGHT * len(rows)
    # the largest supplier is ranked 1 and class A
    top = max(fob, key=fob.get)
    assert next(row for row in rows if row["supplier_id"] == top)["spend_rank"] == 1


def test_products_sourcing_and_ncm_rates(demo_built):
    d = demo()
    orders, suppliers = d.live_orders(), defaultdict(set)
    for line in d.erp["purchase_order_lines"]:
        if line["po_id"] in orders and line["deleted_at"] is None:
            suppliers[line["sku"]].add(orders[line["po_id"]]["supplier_id"])
    rows = mart(demo_built, "SELECT * FROM marts.dim_product ORDER BY sku")
    assert len(rows) == len(d.erp["products"])
    ncm_rates = reference.ncm_rates()
    dual = 0
    for row in rows:
        sources = suppliers.get(row["sku"], set())
        assert row["supplier_count"] == len(sources), row["sku"]
        assert row["is_single_sourced"] is (len(sources) == 1), row["sku"]
        dual += len(sources) > 1
        # the NCM's real II/IPI rates the generator taxes with, and the general PIS/COFINS-Importação
        rates = ncm_rates[row["ncm"]]
        assert (Decimal(row["ii_rate_pct"]), Decimal(row["ipi_rate_pct"])) == (rates.ii_pct, rates.ipi_pct), row["sku"]
        assert Decimal(row["pis_import_rate_pct"]) == rate_pct("PIS_IMPORTACAO")
        assert Decimal(row["cofins_import_rate_pct"]) == rate_pct("COFINS_IMPORTACAO")
    assert dual >= 5  # the demo dual-sources about a quarter of its products


def test_hhi_of_a_dual_sourced_product(demo_built):
    d = demo()
    orders, fob = d.live_orders(), defaultdict(lambda: defaultdict(Decimal))
    for line in d.erp["purchase_order_lines"]:
        po = orders.get(line["po_id"])
        if po is not None and line["deleted_at"] is None:
            brl = (line["line_amount"] * ptax_sell(po["currency"], po["order_date"])).quantize(FOUR, ROUND_HALF_UP)
            fob[line["sku"]][po["supplier_id"]] += brl
    sku = min(s for s, by in fob.items() if len(by) > 1)
    shares = [amount * 100 / sum(fob[sku].values()) for amount in fob[sku].values()]
    row = mart(demo_built, f"SELECT * FROM marts.dim_product WHERE sku = '{sku}'")[0]
    assert abs(Decimal(row["supplier_hhi"]) - sum(share * share for share in shares)) <= Decimal("0.000001")
    assert row["main_supplier_id"] == max(fob[sku], key=fob[sku].get)


def test_margin_of_the_busiest_sku_month_before_december(demo_built):
    """Net revenue from the invoices; COGS at the average cost of every lot cleared up to the month's end.

    The generator's stock receipts carry each lot's landed cost net of credits per unit, rounded to 4 places;
    the mart averages the unrounded totals of fct_import_landed_cost, so the two may differ by 0.00005 per unit.
    Months before December only: a lot cleared in late December can be received in January, outside the data.
    """
    d = demo()
    sales = defaultdict(list)
    for invoice in d.erp["sales_invoices"]:
        if invoice["status"] == "ISSUED" and invoice["deleted_at"] is None and invoice["issue_date"].month < 12:
            sales[(invoice["sku"], invoice["issue_date"].replace(day=1))].append(invoice)
    (sku, month), invoices = max(sales.items(), key=lambda item: (len(item[1]), item[0]))
    month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    cleared = {
        dec["declaration_id"]
        for dec in d.erp["import_declarations"]
        if dec["clearance_date"] is not None and dec["clearance_date"] <= month_end
    }
    lots = [
        move
        for move in d.erp["inventory_movements"]
        if move["movement_type"] == "RECEIPT" and move["sku"] == sku and move["reference_id"] in cleared
    ]
    quantity = sum(invoice["quantity"] for invoice in invoices)
    gross = sum(invoice["gross_amount_brl"] for invoice in invoices)
    taxes = sum(invoice["icms_brl"] + invoice["pis_brl"] + invoice["cofins_brl"] for invoice in invoices)
    average = sum(lot["quantity"] * lot["unit_cost_brl"] for lot in lots) / sum(lot["quantity"] for lot in lots)
    cogs = quantity * average
    issued = {invoice["invoice_id"] for invoice in invoices}
    erp_cogs = sum(
        move["quantity"] * move["unit_cost_brl"]
        for move in d.erp["inventory_movements"]
        if move["movement_type"] == "ISSUE" and move["reference_id"] in issued
    )

    row = mart(
        demo_built, f"SELECT * FROM marts.fct_product_margin WHERE sku = '{sku}' AND month = '{month.isoformat()}'"
    )[0]
    assert row["invoice_count"] == len(invoices) >= 2
    assert Decimal(row["quantity_sold"]) == quantity
    assert Decimal(row["gross_revenue_brl"]) == gross
    assert Decimal(row["sales_taxes_brl"]) == taxes
    assert Decimal(row["net_revenue_brl"]) == gross - taxes
    tolerance = quantity * Decimal("0.00005") + FOUR
    assert abs(Decimal(row["average_landed_cost_per_unit_brl"]) - average) <= Decimal("0.00005")
    assert abs(Decimal(row["cost_of_goods_sold_brl"]) - cogs) <= tolerance
    assert abs(Decimal(row["gross_margin_brl"]) - (gross - taxes - cogs)) <= tolerance
    margin_pct = (gross - taxes - cogs) * 100 / (gross - taxes)
    assert abs(Decimal(row["gross_margin_pct"]) - margin_pct) <= tolerance * 100 / (gross - taxes) + EIGHT
    assert Decimal(row["erp_cost_of_goods_sold_brl"]) == erp_cogs.quantize(FOUR, ROUND_HALF_UP)
