"""marts.fct_recommendations (models/marts/recommendations/) on the demo company, and the ML score sources.

The session build (`demo_built`) runs dbt only, with no ML training or scoring, so it exercises the rules that
need no model: the FX exposure limit and the declaration timing (whose next rate is published on the demo's last
day). It also exercises the ML-fed types on their empty "no scores yet" path. These tests recompute the exposure
recommendations in Python from the generator's payables and settlements and the warehouse's PTAX quotes, check
every row's id, evidence and dates, and check that `_ml__sources.yml` mirrors the scores tables the models write.
The ML-fed rules have hand-computed dbt unit tests (models/intermediate/recommendations/).
"""

import hashlib
import importlib
import json
import pkgutil
from collections import defaultdict
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import pytest
import yaml

import ml_assets
from ingestion.erp.demo import generate
from ingestion.erp.demo.calendar_fx import next_business_day, ptax_sell
from ml_assets.common.scores import ScoresTable
from tests.dbt.dbt_harness import PROJECT_DIR, query
from tests.marts.conftest import SCALE, SEED

CENT = Decimal("0.01")
LAST_DAY = date(2024, 12, 31)  # the demo year's end: the ERP is known up to it, and it has a PTAX
ML_SOURCES = PROJECT_DIR / "models" / "staging" / "ml" / "_ml__sources.yml"
ML_TYPES = ("fx_payment_timing", "single_source_risk", "anomaly_investigation")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def project_var(name: str):
    return yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"][name]


@pytest.fixture(scope="module")
def recommendations(demo_built) -> dict[str, list[dict]]:
    statuses = {
        r["unique_id"]: r["status"]
        for r in demo_built.run.run_results.get("results", [])
        if r["unique_id"] == "model.importau.fct_recommendations"
    }
    assert statuses == {"model.importau.fct_recommendations": "success"}, demo_built.run.output[-5000:]
    return query(
        demo_built.data_dir,
        rows="SELECT * FROM marts.fct_recommendations ORDER BY recommendation_type, subject_id",
        rates="SELECT currency, date, ptax_sell FROM marts.fct_fx_rates_daily WHERE date <= '2024-12-31' "
        "ORDER BY currency, date",
        ml_tables="SELECT name FROM system.tables WHERE database = 'ml' AND name LIKE '%\\_\\_scores'",
    )


@pytest.mark.integration
def test_exposure_over_the_limit_is_recomputed_from_the_generator(recommendations):
    company = generate(SEED, SCALE)
    settled = defaultdict(Decimal)
    for row in company.erp["payable_settlements"].to_pylist():
        if row["deleted_at"] is None and row["settled_date"] <= LAST_DAY:
            settled[row["payable_id"]] += row["amount"]
    exposure, counts = defaultdict(Decimal), defaultdict(int)
    for payable in company.erp["payables"].to_pylist():
        if payable["deleted_at"] is not None or payable["currency"] == "BRL" or payable["invoice_date"] > LAST_DAY:
            continue
        open_amount = payable["amount"] - settled[payable["payable_id"]]
        if open_amount > 0:  # receivables are all in BRL in the demo: no foreign receivable offsets this
            exposure[payable["currency"]] += money(open_amount * ptax_sell(payable["currency"], LAST_DAY))
            counts[payable["currency"]] += 1
    limit = Decimal(str(project_var("fx_exposure_limit_brl")))
    horizon = project_var("fx_exposure_horizon_business_days")
    expected = {currency: brl for currency, brl in exposure.items() if abs(brl) > limit}
    assert expected, "the demo company should have a currency over the default exposure limit"

    rows = {r["subject_id"]: r for r in recommendations["rows"] if r["recommendation_type"] == "fx_exposure_limit"}
    assert set(rows) == set(expected)
    quotes = defaultdict(list)
    for rate in recommendations["rates"]:
        quotes[rate["currency"]].append(Decimal(rate["ptax_sell"]))
    for currency, net_brl in expected.items():
        row, evidence = rows[currency], json.loads(rows[currency]["evidence"])
        inputs = evidence["inputs"]
        assert evidence["models"] == []  # no model behind this rule
        assert Decimal(str(inputs["net_exposure_brl"])) == net_brl
        assert inputs["open_payables_count"] == counts[currency]
        excess = abs(net_brl) - limit
        assert Decimal(str(inputs["excess_brl"])) == excess
        # moves of the PTAX sell over `horizon` quotes, the last 252 quotes; Decimal division truncates to 8 places
        series = quotes[currency][::-1]  # newest first
        moves = sorted(
            (series[age] / series[age + horizon]).quantize(Decimal("0.00000001"), ROUND_DOWN) - 1
            for age in range(min(252, len(series) - horizon))
        )
        p05, p95 = moves[int(0.05 * len(moves))], moves[int(0.95 * len(moves))]
        assert inputs["history_moves"] == len(moves) == 252
        assert (Decimal(str(inputs["move_p05"])), Decimal(str(inputs["move_p95"]))) == (p05, p95)
        sign = 1 if net_brl > 0 else -1
        low, high = sorted((money(sign * excess * p05), money(sign * excess * p95)))
        assert (Decimal(row["effect_low_brl"]), Decimal(row["effect_high_brl"])) == (low, high)
        assert Decimal(row["expected_effect_brl"]) == 0
        assert row["action_code"] == ("hedge_buy_forward" if net_brl > 0 else "hedge_sell_forward")
        hedge = money(excess / ptax_sell(currency, LAST_DAY))
        assert f"Hedge about {currency} {hedge}" in row["action"]


@pytest.mark.integration
def test_declaration_timing_lists_exactly_the_arrived_undeclared_shipments(recommendations):
    company = generate(SEED, SCALE)
    declared = {d["shipment_id"] for d in company.erp["import_declarations"].to_pylist() if d["deleted_at"] is None}
    live = {p["po_id"] for p in company.erp["purchase_orders"].to_pylist() if p["status"] != "CANCELLED"}
    waiting = {
        s["shipment_id"]
        for s in company.erp["shipments"].to_pylist()
        if s["actual_arrival"] is not None
        and s["actual_arrival"] <= LAST_DAY
        and s["po_id"] in live
        and s["shipment_id"] not in declared
    }
    rows = [r for r in recommendations["rows"] if r["recommendation_type"] == "declaration_timing"]
    assert {r["subject_id"] for r in rows} == waiting
    for row in rows:  # the demo's last day has its PTAX: the next Siscomex rate is known, no model is needed
        evidence = json.loads(row["evidence"])
        assert evidence["models"] == [] and evidence["inputs"]["next_rate_source"] == "ptax"


@pytest.mark.integration
def test_ml_fed_types_are_empty_while_no_scores_exist(recommendations):
    assert recommendations["ml_tables"] == []  # the session build trains and scores nothing
    types = {r["recommendation_type"] for r in recommendations["rows"]}
    assert not types & set(ML_TYPES)
    assert "fx_exposure_limit" in types


@pytest.mark.integration
def test_every_recommendation_has_a_stable_id_json_evidence_and_an_expiry(recommendations):
    rows = recommendations["rows"]
    assert rows
    for row in rows:
        key = f"{row['recommendation_type']}|{row['subject_type']}|{row['subject_id']}|{row['as_of_date']}"
        assert row["recommendation_id"] == hashlib.md5(key.encode()).hexdigest()
        assert date.fromisoformat(row["as_of_date"]) == LAST_DAY
        evidence = json.loads(row["evidence"])
        assert set(evidence) == {"models", "inputs"} and isinstance(evidence["inputs"], dict)
        assert all(set(model) == {"name", "version"} for model in evidence["models"])
        assert row["subject_id"] in row["action"]
        assert Decimal(row["effect_low_brl"]) <= Decimal(row["expected_effect_brl"]) <= Decimal(row["effect_high_brl"])
        if row["recommendation_type"] in ("fx_exposure_limit", "declaration_timing", "fx_payment_timing"):
            assert date.fromisoformat(row["expires_on"]) == next_business_day(LAST_DAY)  # 2025-01-02
        assert row["priority"] in (1, 2, 3)


def scores_tables() -> dict[str, ScoresTable]:
    """Every ScoresTable the model packages define (module-level constants), by table name."""
    found = {}
    for module in pkgutil.walk_packages(ml_assets.__path__, "ml_assets."):
        if module.name.startswith("ml_assets.common"):
            continue
        for value in vars(importlib.import_module(module.name)).values():
            if isinstance(value, ScoresTable):
                found[value.name] = value
    return found


def test_ml_sources_mirror_the_scores_tables_the_models_write():
    """Before the first scoring run the staging views read an empty relation with the source's declared columns:
    they must be exactly the writer's, names and types in order, or the views would change shape after scoring."""
    source = yaml.safe_load(ML_SOURCES.read_text())["sources"][0]
    assert source["name"] == "ml" and source["schema"] == "ml"
    declared = {table["name"]: [(c["name"], c["data_type"]) for c in table["columns"]] for table in source["tables"]}
    for table in source["tables"]:
        assert table["config"]["meta"]["dagster"]["asset_key"] == ["ml", table["name"]]
    written = scores_tables()
    assert "fx_forecast__scores" in written
    for name, table in written.items():
        assert name in declared, f"{table.qualified} has no source in {ML_SOURCES.name}"
        assert declared[name] == table.all_columns, name


def test_ml_sources_have_a_staging_view_each():
    source = yaml.safe_load(ML_SOURCES.read_text())["sources"][0]
    for table in source["tables"]:
        model = table["name"].removesuffix("__scores")
        view = ML_SOURCES.parent / f"stg_ml__{model}_scores.sql"
        assert view.exists(), view
        assert f"ml_scores_relation('{table['name']}')" in view.read_text()


def test_policy_vars_are_declared_once_in_the_project():
    names = ["fx_exposure_limit_brl", "fx_exposure_horizon_business_days", "min_cash_buffer_brl"]
    names += ["fx_hedge_min_swing_brl", "delay_risk_threshold", "anomaly_top_k"]
    used = "".join(p.read_text() for p in (PROJECT_DIR / "models" / "intermediate" / "recommendations").glob("*.sql"))
    for name in names:
        assert project_var(name) is not None
        assert f"var('{name}')" in used, name
