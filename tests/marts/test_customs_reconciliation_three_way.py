"""`marts.fct_customs_reconciliation` on the demo company: ERP vs official declaration vs bank debit.

The generator plants mistakes in the ERP's copy of a few declarations (ground truth `erp_errors`, with the recorded
and the correct value); the broker's DI XML / DUIMP JSON files and the bank's debits carry the correct figures. So
every planted tax error must come out as the ERP differing, the other side holding exactly the correct value, and
every other (declaration, tax) must agree on all the sides it has: no false alarm.
"""

from decimal import Decimal

import pytest

from tests.dbt.dbt_harness import query

pytestmark = pytest.mark.integration

# erp_errors field -> the mart's tax row, and the column holding the correct value on that row
TAX_OF_FIELD = {
    "ii_brl": ("II", "declared_amount_brl"),
    "ipi_brl": ("IPI", "declared_amount_brl"),
    "pis_brl": ("PIS", "declared_amount_brl"),
    "cofins_brl": ("COFINS", "declared_amount_brl"),
    "siscomex_fee_brl": ("SISCOMEX_FEE", "declared_amount_brl"),
    "afrmm_brl": ("AFRMM", "bank_amount_brl"),
    "icms_brl": ("ICMS", "bank_amount_brl"),
}
FEDERAL = ("ii_brl", "ipi_brl", "pis_brl", "cofins_brl", "siscomex_fee_brl")


@pytest.fixture(scope="module")
def reconciliation(demo_built):
    rows = query(
        demo_built.data_dir,
        rows="SELECT * FROM marts.fct_customs_reconciliation",
        erp="SELECT count() AS n FROM staging.stg_erp__import_declarations WHERE NOT is_deleted",
    )
    return rows["rows"], rows["erp"][0]["n"]


def _money(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def test_every_erp_declaration_has_its_official_declaration_and_eight_tax_rows(reconciliation):
    rows, erp_declarations = reconciliation
    assert len(rows) == erp_declarations * 8
    assert all(r["in_erp"] and r["has_official_declaration"] for r in rows)
    assert {r["official_file"].split("_")[0] for r in rows} == {"DI", "DUIMP"}
    # the broker's files carry the ERP's items (the planted errors are amounts, never items): every declaration
    # pairs, so the official figures feed the landed cost
    assert {(r["item_match_status"], r["official_feeds_landed_cost"]) for r in rows} == {("MATCHED", True)}


def test_every_planted_erp_error_is_found_with_the_correct_value_and_nothing_else(reconciliation, demo_built):
    rows, _ = reconciliation
    by_key = {(r["declaration_id"], r["tax"]): r for r in rows}
    errors = [e for e in demo_built.ground_truth["erp_errors"] if e["field"] in TAX_OF_FIELD]
    assert len(errors) >= 6
    expected_flags = set()
    for error in errors:
        tax, correct_column = TAX_OF_FIELD[error["field"]]
        row = by_key[(error["declaration_id"], tax)]
        assert row["status"] in ("ERP_DIFFERS", "ERP_DIFFERS_FROM_BANK"), row
        assert _money(row["erp_amount_brl"]) == Decimal(error["recorded_value"])
        assert _money(row[correct_column]) == Decimal(error["correct_value"])
        assert f"recorded {Decimal(error['recorded_value']):.2f}" in row["reason"]
        expected_flags.add((error["declaration_id"], tax))
        if error["field"] in FEDERAL:
            # the Siscomex debit (the five federal amounts as one) differs too; the bank sides with the declaration
            total = by_key[(error["declaration_id"], "SISCOMEX_DEBIT")]
            assert total["status"] == "ERP_DIFFERS"
            assert _money(total["bank_amount_brl"]) == _money(total["declared_amount_brl"])
            expected_flags.add((error["declaration_id"], "SISCOMEX_DEBIT"))
    flagged = {(r["declaration_id"], r["tax"]) for r in rows if r["status"] != "AGREED"}
    assert flagged == expected_flags


def test_the_bank_debits_equal_the_declarations(reconciliation):
    rows, _ = reconciliation
    for row in rows:
        if row["tax"] == "SISCOMEX_DEBIT":
            assert row["bank_debits"] == 1 and _money(row["bank_minus_declared_brl"]) == 0, row
