"""`marts.fct_import_landed_cost` against the demo generator's truth (sandboxes/demo_company/customs.py, taxes.py).

The generator records most declarations in the ERP exactly as the law computes them and corrupts a few, listing
each corrupted field in the ground truth's `erp_errors` with the recorded and the correct value. So, per
declaration, the mart must equal the ERP to the centavo, except on the `erp_errors` fields, where it must equal
the correct value; and it must flag exactly the declarations whose correct values differ from the ERP.

Both take the ICMS rate of the clearance date, the taxable event of ICMS on imports (LC 87/1996, art. 12, IX;
models/intermediate/customs/README.md); the demo has a declaration registered before and cleared after PR's
rate change of 2024-03-13, so the equality below covers that case too.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from sandboxes.demo_company.taxes import icms_rate_pct
from tests.dbt.dbt_harness import query
from tests.marts.conftest import demo_company

pytestmark = pytest.mark.integration

# erp_errors field -> how the mart holds it per declaration (`mart_*` columns of DECLARATIONS_SQL)
AMOUNT_FIELDS = (
    "customs_value_brl",
    "ii_brl",
    "ipi_brl",
    "pis_brl",
    "cofins_brl",
    "siscomex_fee_brl",
    "afrmm_brl",
    "icms_brl",
)
FIELDS = ("exchange_rate", *AMOUNT_FIELDS)
ITEM_FIELDS = ("customs_value_brl", "ii_brl", "ipi_brl", "pis_brl", "cofins_brl", "icms_brl")
FOUR_PLACES = Decimal("0.0001")

DECLARATIONS_SQL = f"""
select
    d.declaration_id as declaration_id,
    toString(d.registration_date) as registration_date,
    toString(d.clearance_date) as clearance_date,
    d.destination_state as destination_state,
    d.currency as currency,
    d.freight_amount as freight_amount,
    d.customs_expenses_brl as customs_expenses_brl,
    s.transport_mode as transport_mode,
    d.exchange_rate as erp_exchange_rate,
    {", ".join(f"d.{f} as erp_{f}" for f in AMOUNT_FIELDS)},
    m.rows as mart_rows,
    m.siscomex_rate as mart_exchange_rate,
    {", ".join(f"m.{f} as mart_{f}" for f in AMOUNT_FIELDS)},
    m.flagged as mart_flagged,
    m.items_flagged as mart_items_flagged,
    m.missing as mart_missing
from staging.stg_erp__import_declarations as d
left join staging.stg_erp__shipments as s on s.shipment_id = d.shipment_id
left join (
    select
        declaration_id,
        count() as rows,
        any(siscomex_rate) as siscomex_rate,
        {", ".join(f"sum({f}) as {f}" for f in AMOUNT_FIELDS)},
        max(declaration_has_erp_difference) as flagged,
        countIf(has_erp_difference) as items_flagged,
        max(has_missing_rate) as missing
    from marts.fct_import_landed_cost
    group by declaration_id
) as m on m.declaration_id = d.declaration_id
where not d.is_deleted
order by d.declaration_id
"""

ITEMS_SQL = f"""
select
    i.declaration_id as declaration_id,
    i.item_number as item_number,
    i.ncm as ncm,
    i.fob_amount as fob_amount,
    i.freight_amount as freight_amount,
    i.insurance_amount as insurance_amount,
    {", ".join(f"i.{f} as erp_{f}" for f in ITEM_FIELDS)},
    {", ".join(f"m.{f} as mart_{f}" for f in ITEM_FIELDS)}
from staging.stg_erp__import_declaration_items as i
left join marts.fct_import_landed_cost as m
    on m.declaration_id = i.declaration_id and m.item_number = i.item_number
where not i.is_deleted
order by i.declaration_id, i.item_number
"""

RECEIPTS_SQL = """
select
    r.movement_id as movement_id,
    r.unit_cost_brl as unit_cost_brl,
    m.quantity as quantity,
    m.landed_cost_net_of_credits_brl as net_cost,
    m.landed_cost_net_of_credits_per_unit_brl as net_cost_per_unit
from staging.stg_erp__inventory_movements as r
inner join marts.fct_import_landed_cost as m on m.declaration_id = r.reference_id and m.sku = r.sku
where r.movement_type = 'RECEIPT' and r.reference_type = 'IMPORT_DECLARATION' and not r.is_deleted
"""


def dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@dataclass(frozen=True)
class Landed:
    declarations: dict[str, dict]
    items: dict[str, list[dict]]
    receipts: list[dict]
    erp_errors: list[dict]


def load(data_dir: Path, erp_errors: list[dict]) -> Landed:
    rows = query(data_dir, declarations=DECLARATIONS_SQL, items=ITEMS_SQL, receipts=RECEIPTS_SQL)
    items = defaultdict(list)
    for item in rows["items"]:
        items[item["declaration_id"]].append(item)
    return Landed({d["declaration_id"]: d for d in rows["declarations"]}, dict(items), rows["receipts"], erp_errors)


def icms_rate_changed(declaration: dict) -> bool:
    if declaration["clearance_date"] is None:
        return False
    state = declaration["destination_state"]
    registration = date.fromisoformat(declaration["registration_date"])
    return icms_rate_pct(state, registration) != icms_rate_pct(state, date.fromisoformat(declaration["clearance_date"]))


def expected_values(landed: Landed) -> dict[str, dict[str, Decimal]]:
    """Per declaration, what the law gives: the ERP's values, corrected by `erp_errors`."""
    expected = {
        declaration_id: {field: dec(row[f"erp_{field}"]) for field in FIELDS}
        for declaration_id, row in landed.declarations.items()
    }
    for error in landed.erp_errors:
        expected[error["declaration_id"]][error["field"]] = Decimal(error["correct_value"])
    return expected


@pytest.fixture(scope="module")
def landed(demo_built) -> Landed:
    return load(demo_built.data_dir, demo_built.ground_truth["erp_errors"])


def test_one_row_per_erp_item_and_no_missing_rate(landed):
    assert len(landed.declarations) >= 100
    for declaration_id, row in landed.declarations.items():
        assert row["mart_rows"] == len(landed.items[declaration_id]), declaration_id
        assert not row["mart_missing"], declaration_id


def test_the_demo_has_the_cases_the_rules_are_about(landed):
    """Otherwise the other tests would pass without exercising them."""
    assert {e["error_kind"] for e in landed.erp_errors} >= {
        "RATE_OF_REGISTRATION_DAY",
        "IPI_BASE_WITHOUT_II",
        "ICMS_NOT_GROSSED_UP",
        "OLD_PIS_COFINS_RATES",
        "AFRMM_MISSING",
        "SISCOMEX_ADDITIONS_MISSING",
    }
    rows = landed.declarations.values()
    assert any(date.fromisoformat(r["registration_date"]).weekday() == 0 for r in rows)  # Monday
    assert any(len(items) >= 3 for items in landed.items.values())  # Siscomex tiers and allocation rests
    assert any(r["transport_mode"] == "SEA" for r in rows) and any(r["transport_mode"] != "SEA" for r in rows)
    assert any(icms_rate_changed(r) for r in rows)


def test_every_declaration_equals_the_law_to_the_centavo(landed):
    expected = expected_values(landed)
    wrong = {}
    for declaration_id, row in landed.declarations.items():
        for field in FIELDS:
            if dec(row[f"mart_{field}"]) != expected[declaration_id][field]:
                wrong[(declaration_id, field)] = (row[f"mart_{field}"], str(expected[declaration_id][field]))
    assert not wrong


def test_exactly_the_declarations_the_erp_got_wrong_are_flagged(landed):
    expected = expected_values(landed)
    should_flag = {
        declaration_id
        for declaration_id, row in landed.declarations.items()
        if any(expected[declaration_id][field] != dec(row[f"erp_{field}"]) for field in FIELDS)
    }
    flagged = {declaration_id for declaration_id, row in landed.declarations.items() if row["mart_flagged"]}
    assert should_flag == {e["declaration_id"] for e in landed.erp_errors}
    assert flagged == should_flag
    for declaration_id in flagged:
        assert landed.declarations[declaration_id]["mart_items_flagged"] >= 1, declaration_id


def test_items_of_declarations_the_erp_got_right_equal_the_erp(landed):
    flagged = {declaration_id for declaration_id, row in landed.declarations.items() if row["mart_flagged"]}
    compared = 0
    for declaration_id, items in landed.items.items():
        if declaration_id in flagged:
            continue
        for item in items:
            for field in ITEM_FIELDS:
                assert dec(item[f"mart_{field}"]) == dec(item[f"erp_{field}"]), (declaration_id, item, field)
            compared += 1
    assert compared >= 300


def test_net_landed_cost_is_the_inventory_cost_of_the_stock_receipts(landed):
    """IPI, PIS, COFINS and ICMS are credits, so the receipts carry customs value + II + fees per unit, rounded
    half up to 4 places by the ERP (the generator) and by the mart alike, both derived here from the mart's exact
    net cost."""
    assert len(landed.receipts) >= 300
    for receipt in landed.receipts:
        per_unit = dec(receipt["net_cost"]) / dec(receipt["quantity"])
        assert per_unit.quantize(FOUR_PLACES, ROUND_HALF_UP) == dec(receipt["unit_cost_brl"]), receipt
        assert per_unit.quantize(FOUR_PLACES, ROUND_HALF_UP) == dec(receipt["net_cost_per_unit"]), receipt


SOURCED_SQL = """
select
    declaration_id,
    item_number,
    declaration_source,
    official_match_status,
    customs_value_brl,
    ii_brl,
    ipi_brl,
    pis_brl,
    cofins_brl,
    siscomex_fee_brl,
    afrmm_brl,
    customs_expenses_brl,
    icms_brl,
    landed_cost_brl,
    erp_landed_cost_brl
from marts.fct_import_landed_cost
order by declaration_id, item_number
"""
OFFICIAL_ITEM_FIELDS = ("customs_value_brl", "ii_brl", "ipi_brl", "pis_brl", "cofins_brl")


def test_the_official_declaration_wins_and_the_planted_declarations_equal_the_truth(landed, demo_built):
    """Every ERP declaration of the demo has its broker file, with the same items: the official declaration wins
    (issue 15, point 4). On the declarations whose ERP copy carries a planted error, the landed cost is the truth:
    each item's customs value, II, IPI, PIS and COFINS are the Receita's (the generator's registered figures,
    `DemoCompany.declarations`), the Siscomex fee the one it debited, and the landed cost their sum with the
    AFRMM and ICMS the generator computed (`erp_errors`' correct values where the ERP's were planted), never the
    ERP's recorded landed cost."""

    rows = query(demo_built.data_dir, rows=SOURCED_SQL)["rows"]
    assert rows and {r["declaration_source"] for r in rows} == {"OFFICIAL_DECLARATION"}
    assert {r["official_match_status"] for r in rows} == {"MATCHED"}
    official = {d["declaration"]["declaration_id"]: d for d in demo_company().declarations}
    by_declaration = defaultdict(list)
    for row in rows:
        by_declaration[row["declaration_id"]].append(row)
    expected = expected_values(landed)
    planted = {e["declaration_id"] for e in landed.erp_errors}
    assert len(planted) >= 6
    for declaration_id in planted:
        items, truth = by_declaration[declaration_id], official[declaration_id]
        truth_items = {item["item_number"]: item for item in truth["items"]}
        assert len(items) == len(truth_items), declaration_id
        for item in items:
            for field in OFFICIAL_ITEM_FIELDS:
                assert dec(item[field]) == truth_items[item["item_number"]][field], (declaration_id, item, field)
        fee = next(t["amount_brl"] for t in truth["taxes"] if t["tax"] == "SISCOMEX_FEE")
        assert sum(dec(i["siscomex_fee_brl"]) for i in items) == fee, declaration_id
        true_landed = (
            sum(t[f] for t in truth["items"] for f in OFFICIAL_ITEM_FIELDS)
            + fee
            + expected[declaration_id]["afrmm_brl"]
            + expected[declaration_id]["icms_brl"]
            + dec(landed.declarations[declaration_id]["customs_expenses_brl"])
        )
        mart_landed = sum(dec(i["landed_cost_brl"]) for i in items)
        assert mart_landed == true_landed, declaration_id
        assert sum(dec(i["erp_landed_cost_brl"]) for i in items) != true_landed, declaration_id
