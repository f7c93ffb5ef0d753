"""The demo company hangs together: every reference points at a row that exists, every ground-truth link at
a real bank movement and ERP document, and the hard cases the reconciliation must face are all there."""

from collections import Counter
from decimal import Decimal

from sandboxes.demo_company import reference


def _keys(rows: list[dict], *names: str) -> set:
    return {tuple(row[n] for n in names) if len(names) > 1 else row[names[0]] for row in rows}


def test_every_payable_references_an_existing_po_and_supplier(erp_rows):
    pos, suppliers = _keys(erp_rows["purchase_orders"], "po_id"), _keys(erp_rows["suppliers"], "supplier_id")
    assert erp_rows["payables"]
    for payable in erp_rows["payables"]:
        assert payable["po_id"] in pos and payable["supplier_id"] in suppliers, payable


def test_references_between_erp_entities(erp_rows):
    e = erp_rows
    suppliers, skus = _keys(e["suppliers"], "supplier_id"), _keys(e["products"], "sku")
    pos, lines = (
        _keys(e["purchase_orders"], "po_id"),
        _keys(e["purchase_order_lines"], "po_id", "line_number"),
    )
    assert all(r["supplier_id"] in suppliers for r in e["purchase_orders"])
    assert all(r["po_id"] in pos and r["sku"] in skus for r in e["purchase_order_lines"])
    assert all(r["po_id"] in pos for r in e["shipments"])
    shipments = _keys(e["shipments"], "shipment_id")
    assert all(r["shipment_id"] in shipments for r in e["import_declarations"])
    declarations = _keys(e["import_declarations"], "declaration_id")
    for item in e["import_declaration_items"]:
        assert item["declaration_id"] in declarations and (item["po_id"], item["po_line_number"]) in lines
    payables = _keys(e["payables"], "payable_id")
    assert all(r["payable_id"] in payables for r in e["payable_settlements"])
    customers, invoices = _keys(e["customers"], "customer_id"), _keys(e["sales_invoices"], "invoice_id")
    assert all(r["customer_id"] in customers and r["sku"] in skus for r in e["sales_invoices"])
    assert all(r["invoice_id"] in invoices and r["customer_id"] in customers for r in e["receivables"])
    refs = {"IMPORT_DECLARATION": declarations, "SALES_INVOICE": invoices}
    for movement in e["inventory_movements"]:
        assert movement["sku"] in skus
        if movement["reference_type"] in refs:
            assert movement["reference_id"] in refs[movement["reference_type"]]


def test_settlements_add_up_to_payable_status(erp_rows):
    paid = Counter()
    for row in erp_rows["payable_settlements"]:
        paid[row["payable_id"]] += row["amount"]
    for payable in erp_rows["payables"]:
        expected = (
            "PAID"
            if paid[payable["payable_id"]] >= payable["amount"]
            else ("PARTIALLY_PAID" if paid[payable["payable_id"]] else "OPEN")
        )
        assert payable["status"] == expected, payable


def test_every_match_references_a_bank_movement_and_an_erp_document(company, erp_rows, truth):
    transactions = {r["transaction_id"]: r for r in company.bank["bank_transactions"].to_pylist()}
    operations = {r["operation_id"]: r for r in company.bank["fx_operations"].to_pylist()}
    documents = {
        "PAYABLE": _keys(erp_rows["payables"], "payable_id"),
        "RECEIVABLE": _keys(erp_rows["receivables"], "receivable_id"),
        "IMPORT_DECLARATION": _keys(erp_rows["import_declarations"], "declaration_id"),
    }
    settlements = _keys(erp_rows["payable_settlements"], "settlement_id")
    assert len(truth["matches"]) > 1000
    for m in truth["matches"]:
        tx = transactions[m["bank_transaction_id"]]
        assert tx["amount"] == m["bank_amount_brl"]
        assert m["erp_document_id"] in documents[m["erp_document_type"]], m
        if m["fx_operation_id"] is not None:
            assert m["fx_operation_id"] in operations and tx["fx_operation_id"] == m["fx_operation_id"]
        if m["erp_settlement_id"] is not None:
            assert m["erp_settlement_id"] in settlements
    for a in truth["anomalies"]:
        assert a["bank_transaction_id"] in transactions


def test_fx_settlements_carry_the_bank_contract(company, erp_rows):
    by_number = {r["operation_number"]: r for r in company.bank["fx_operations"].to_pylist()}
    foreign = [s for s in erp_rows["payable_settlements"] if s["currency"] != "BRL"]
    assert foreign
    for s in foreign:
        op = by_number[s["fx_contract_id"]]
        assert op["fx_rate"] == s["exchange_rate"] and op["settlement_date"] == s["settled_date"]
        assert op["foreign_currency"] == s["currency"]


def test_hard_cases_are_present_at_scale_one(truth):
    kinds = Counter((m["erp_document_type"], m["match_type"]) for m in truth["matches"] if m["role"] == "PRINCIPAL")
    for case in ("PARTIAL", "ONE_TO_MANY", "FEE_DEDUCTED", "DATE_OFFSET"):
        assert kinds["PAYABLE", case] >= 2 and kinds["RECEIVABLE", case] >= 2, case
    assert kinds["PAYABLE", "DUPLICATE"] >= 1 and kinds["PAYABLE", "FX_OPERATION"] > 20
    one_to_many = Counter(
        m["bank_transaction_id"]
        for m in truth["matches"]
        if m["match_type"] == "ONE_TO_MANY" and m["role"] == "PRINCIPAL"
    )
    assert all(count >= 2 for count in one_to_many.values())
    partial = Counter(
        m["erp_document_id"] for m in truth["matches"] if m["match_type"] == "PARTIAL" and m["role"] == "PRINCIPAL"
    )
    assert max(partial.values()) >= 2
    fee = [m for m in truth["matches"] if m["match_type"] == "FEE_DEDUCTED" and m["erp_document_type"] == "RECEIVABLE"]
    assert all(Decimal(0) < m["erp_amount"] - m["bank_amount_brl"] < Decimal(5) for m in fee)
    assert {a["kind"] for a in truth["anomalies"]} == {
        "DUPLICATE_PAYMENT",
        "UNUSUAL_AMOUNT",
        "ODD_TIMING",
        "UNKNOWN_COUNTERPARTY",
        "AMOUNT_OUTLIER",
        "NEW_COUNTERPARTY",
        "OFF_HOURS",
        "ROUND_AMOUNT",
        "SPLIT_BELOW_LIMIT",
    }


def test_payments_off_the_due_date_are_a_few_days_off(erp_rows, truth):
    due = {p["payable_id"]: p["due_date"] for p in erp_rows["payables"]}
    settled = {s["settlement_id"]: s["settled_date"] for s in erp_rows["payable_settlements"]}
    offsets = [
        abs((settled[m["erp_settlement_id"]] - due[m["erp_document_id"]]).days)
        for m in truth["matches"]
        if m["match_type"] == "DATE_OFFSET" and m["erp_document_type"] == "PAYABLE"
    ]
    assert offsets and all(0 < days <= 14 for days in offsets)  # up to 5 business days, holidays included


def test_some_shipments_are_late_and_some_rows_soft_deleted(erp_rows):
    late = [s for s in erp_rows["shipments"] if s["actual_arrival"] and s["actual_arrival"] > s["eta"]]
    assert len(late) >= 0.1 * len(erp_rows["shipments"])
    assert any(r["deleted_at"] for r in erp_rows["purchase_orders"])
    assert any(r["deleted_at"] for r in erp_rows["customers"])


def test_grounded_in_the_real_reference_rows(erp_rows):
    templates = reference.comex_templates()
    assert {p["ncm"] for p in erp_rows["products"]} <= {t.ncm for t in templates}
    assert {s["customs_unit"] for s in erp_rows["shipments"]} <= {t.customs_unit for t in templates}
    foreign = {s["country"] for s in erp_rows["suppliers"] if s["country"] != "BRA"}
    assert foreign <= {t.country.iso3 for t in templates} and {"CHN", "USA", "DEU"} <= foreign
    assert {s["currency"] for s in erp_rows["suppliers"]} == {"USD", "EUR", "CNY", "BRL"}
    rates = reference.ncm_rates()
    for item in erp_rows["import_declaration_items"]:
        assert item["ii_rate_pct"] == rates[item["ncm"]].ii_pct and item["ipi_rate_pct"] == rates[item["ncm"]].ipi_pct
