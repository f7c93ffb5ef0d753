"""The demo generator's signal, checked on its output alone (no warehouse): delays depend on the route and the
supplier, customers keep their own payment habits, and every planted anomaly kind is there and recorded. If a
change made these draws independent again, the ML models would have nothing to learn; these tests fail first."""

from collections import Counter, defaultdict
from datetime import timedelta

from scipy.stats import chi2_contingency

from sandboxes.demo_company.anomalies import APPROVAL_LIMIT_BRL, PER_KIND
from sandboxes.demo_company.purchasing import ASIA


def _late(shipment) -> bool:
    return shipment["actual_arrival"] > shipment["eta"] + timedelta(days=2)


def _arrived(erp_rows) -> list[dict]:
    return [s for s in erp_rows["shipments"] if s["actual_arrival"] is not None]


def _independence_p_value(groups: dict[str, list[bool]]) -> float:
    """Chi-square test that the late share is the same in every group (groups of fewer than 5 left out)."""
    table = [[sum(v), len(v) - sum(v)] for v in groups.values() if len(v) >= 5]
    return chi2_contingency(table).pvalue


def test_asian_sea_freight_is_late_far_more_often_than_air(erp_rows):
    by_lane = defaultdict(list)
    for s in _arrived(erp_rows):
        asian_sea = s["transport_mode"] == "SEA" and s["origin_country"] in ASIA
        by_lane["asian sea" if asian_sea else s["transport_mode"]].append(_late(s))
    share = {lane: sum(v) / len(v) for lane, v in by_lane.items()}
    assert share["asian sea"] > 0.5 > 0.1 > share["AIR"], share
    assert _independence_p_value(by_lane) < 1e-6


def test_suppliers_differ_in_punctuality_beyond_chance(erp_rows):
    supplier_of = {p["po_id"]: p["supplier_id"] for p in erp_rows["purchase_orders"]}
    by_supplier = defaultdict(list)
    for s in _arrived(erp_rows):
        if s["transport_mode"] == "SEA":  # one mode, so the route does not stand in for the supplier
            by_supplier[supplier_of[s["po_id"]]].append(_late(s))
    assert _independence_p_value(by_supplier) < 0.01


def test_customers_keep_their_own_payment_habits(erp_rows, truth):
    customer_of = {r["receivable_id"]: r["customer_id"] for r in erp_rows["receivables"]}
    by_customer = defaultdict(list)
    for m in truth["matches"]:
        if m["erp_document_type"] == "RECEIVABLE" and m["match_type"] in ("EXACT", "DATE_OFFSET"):
            by_customer[customer_of[m["erp_document_id"]]].append(m["match_type"] == "DATE_OFFSET")
    assert _independence_p_value(by_customer) < 1e-6


def test_every_planted_anomaly_kind_is_recorded_with_its_movement(company, truth):
    movements = {r["transaction_id"]: r for r in company.bank["bank_transactions"].to_pylist()}
    kinds = Counter(a["kind"] for a in truth["anomalies"])
    for kind in ("AMOUNT_OUTLIER", "NEW_COUNTERPARTY", "OFF_HOURS", "ROUND_AMOUNT"):
        assert kinds[kind] == PER_KIND, kind
    assert kinds["SPLIT_BELOW_LIMIT"] == 3 * PER_KIND
    splits = [movements[a["bank_transaction_id"]] for a in truth["anomalies"] if a["kind"] == "SPLIT_BELOW_LIMIT"]
    assert all(APPROVAL_LIMIT_BRL * 9 / 10 <= m["amount"] < APPROVAL_LIMIT_BRL for m in splits)
    rounds = [movements[a["bank_transaction_id"]] for a in truth["anomalies"] if a["kind"] == "ROUND_AMOUNT"]
    assert all(m["amount"] % 5000 == 0 for m in rounds)
    bank_only = {"AMOUNT_OUTLIER", "NEW_COUNTERPARTY", "OFF_HOURS", "ROUND_AMOUNT", "SPLIT_BELOW_LIMIT"}
    planted = {a["bank_transaction_id"] for a in truth["anomalies"] if a["kind"] in bank_only}
    assert not planted & {m["bank_transaction_id"] for m in truth["matches"]}  # they settle no ERP document
