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
import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import pytest
import yaml

import ml_assets
from ml_assets.common.scores import ScoresTable
from sandboxes.demo_company.calendar_fx import is_business_day, next_business_day, ptax_sell
from tests.dbt.dbt_harness import PROJECT_DIR, REPO, dbt_env, query, run_dbt
from tests.marts.conftest import demo_company

CENT = Decimal("0.01")
LAST_DAY = date(2024, 12, 31)  # the demo year's end: the ERP is known up to it, and it has a PTAX
ML_SOURCES = PROJECT_DIR / "models" / "staging" / "ml" / "_ml__sources.yml"
ML_TYPES = ("fx_payment_timing", "single_source_risk", "anomaly_investigation")


RATE = Decimal("0.00000001")
VERSIONS = {"fx_forecast": "t-fx", "cash_flow": "t-cash", "supplier_delay": "t-delay", "transaction_anomaly": "t-anom"}


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
    company = demo_company()
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
    company = demo_company()
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
        assert all(set(model) == {"name", "version", "kind"} for model in evidence["models"])
        assert row["subject_id"] in row["action"]
        assert Decimal(row["effect_low_brl"]) <= Decimal(row["expected_effect_brl"]) <= Decimal(row["effect_high_brl"])
        if row["recommendation_type"] in ("fx_exposure_limit", "declaration_timing", "fx_payment_timing"):
            assert date.fromisoformat(row["expires_on"]) == next_business_day(LAST_DAY + timedelta(days=1))
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
    assert set(written) == set(declared)  # a source per scores table, and no source nobody writes
    for name, table in written.items():
        assert declared[name] == table.all_columns, name


def test_ml_sources_have_a_staging_view_each():
    source = yaml.safe_load(ML_SOURCES.read_text())["sources"][0]
    for table in source["tables"]:
        model = table["name"].removesuffix("__scores")
        view = ML_SOURCES.parent / f"stg_ml__{model}_scores.sql"
        assert view.exists(), view
        assert f"ml_latest_version_scores('{table['name']}')" in view.read_text()  # the macro reads ml_scores_relation


def test_policy_vars_are_declared_once_in_the_project():
    names = ["fx_exposure_limit_brl", "fx_exposure_horizon_business_days", "min_cash_buffer_brl"]
    names += ["fx_hedge_min_swing_brl", "delay_risk_threshold", "anomaly_top_k"]
    used = "".join(p.read_text() for p in (PROJECT_DIR / "models" / "intermediate" / "recommendations").glob("*.sql"))
    for name in names:
        assert project_var(name) is not None
        assert f"var('{name}')" in used, name


def write_test_scores(warehouse: str) -> None:
    """Run in a subprocess on a copy of the demo warehouse: score rows written by the models' own writer
    (`write_scores` with each model's SCORES_TABLE), as the Dagster scores assets do, with made-up values:
    - fx_forecast, origin 2024-12-31, horizons 1..20: USD forecast spot x (1 + 0.002 h) in
      [spot x (1 + 0.001 h), spot x (1 + 0.003 h)] (a rise even at the low end), EUR spot in spot x (1 -/+ 0.005 h);
    - cash_flow, origin 2024-12-31: zero net flow on each of the next 90 days (cash stays at today's balance);
    - supplier_delay, 2024-12-31: every open shipment late with probability 0.9;
    - transaction_anomaly: every posted movement, the 3 latest flagged with 0.9, 0.8, 0.7, and a movement of
      2024-10-01 flagged with 0.99 (outside the 30-day window); the others 0.1, not flagged."""
    import clickhouse_connect

    from ml_assets.cash_flow.train import SCORES_TABLE as CASH
    from ml_assets.common.scores import write_scores
    from ml_assets.fx_forecast.train import SCORES_TABLE as FX
    from ml_assets.supplier_delay.train import SCORES_TABLE as DELAY
    from ml_assets.transaction_anomaly.train import SCORES_TABLE as ANOMALY

    client = clickhouse_connect.get_client(interface="chdb", path=warehouse)
    try:
        spot = dict(
            client.query(
                "SELECT currency, argMax(ptax_sell, date) FROM marts.fct_fx_rates_daily "
                "WHERE date <= '2024-12-31' GROUP BY currency"
            ).result_rows
        )
        days = [
            row[0]
            for row in client.query(
                "SELECT date FROM marts.dim_calendar WHERE is_business_day AND date > '2024-12-31' ORDER BY date "
                "LIMIT 20"
            ).result_rows
        ]
        fx = []
        for h, day in enumerate(days, start=1):
            for currency, (low, mid, high) in {
                "USD": (Decimal("0.001") * h, Decimal("0.002") * h, Decimal("0.003") * h),
                "EUR": (Decimal("-0.005") * h, Decimal(0), Decimal("0.005") * h),
            }.items():
                rate = spot[currency]
                fx.append(
                    {
                        "currency": currency,
                        "origin_date": LAST_DAY,
                        "horizon_days": h,
                        "target_date": day,
                        "forecast_rate": (rate * (1 + mid)).quantize(RATE),
                        "lower_rate": (rate * (1 + low)).quantize(RATE),
                        "upper_rate": (rate * (1 + high)).quantize(RATE),
                        "interval_level": 0.9,
                    }
                )
        write_scores(client, FX, fx, VERSIONS["fx_forecast"])
        cash = [
            {
                "origin_date": LAST_DAY,
                "target_date": date.fromordinal(LAST_DAY.toordinal() + h),
                "horizon_days": h,
                "predicted_net_cash_flow_brl": Decimal(0),
            }
            for h in range(1, 91)
        ]
        write_scores(client, CASH, cash, VERSIONS["cash_flow"])
        shipments = client.query(
            "SELECT s.shipment_id, p.supplier_id FROM staging.stg_erp__shipments AS s "
            "INNER JOIN staging.stg_erp__purchase_orders AS p ON p.po_id = s.po_id "
            "WHERE s.actual_arrival IS NULL AND NOT s.is_deleted AND NOT p.is_deleted AND p.status != 'CANCELLED'"
        ).result_rows
        delay = [
            {"shipment_id": s, "supplier_id": p, "as_of_date": LAST_DAY, "late_probability": 0.9} for s, p in shipments
        ]
        write_scores(client, DELAY, delay, VERSIONS["supplier_delay"])
        movements = client.query(
            "SELECT transaction_id, booking_date FROM staging.stg_open_finance__transactions "
            "WHERE status = 'TRANSACAO_EFETIVADA' ORDER BY booking_date DESC, transaction_id"
        ).result_rows
        flagged = dict(zip([m[0] for m in movements[:3]], (0.9, 0.8, 0.7), strict=True))
        old = next(m[0] for m in movements if m[1] == date(2024, 10, 1))
        flagged[old] = 0.99
        anomaly = [
            {
                "bank_transaction_id": movement,
                "booking_date": day,
                "anomaly_score": flagged.get(movement, 0.1),
                "is_anomaly": movement in flagged,
            }
            for movement, day in movements
        ]
        write_scores(client, ANOMALY, anomaly, VERSIONS["transaction_anomaly"])
    finally:
        client.close()


@pytest.fixture(scope="module")
def scored(demo_built, tmp_path_factory) -> dict[str, list[dict]]:
    """A copy of the demo warehouse with score tables from the real writers, then `dbt build` of everything
    downstream of the ML staging views (data tests included): the main path after the first scoring run."""
    data_dir = tmp_path_factory.mktemp("recommendations_scored")
    # symlinks=True: chDB's metadata/<database> entries are relative symlinks into store/
    shutil.copytree(demo_built.data_dir / "warehouse", data_dir / "warehouse", symlinks=True)
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from tests.marts.test_recommendations import write_test_scores as w; w(sys.argv[1])",
            str(data_dir / "warehouse"),
        ],
        env=dbt_env(data_dir),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-5000:]
    run = run_dbt(data_dir, "build", "--select", "staging.ml+", "--exclude", "test_type:unit", timeout=1200)
    assert run.returncode == 0, run.output[-5000:]
    return query(
        data_dir,
        rows="SELECT * FROM marts.fct_recommendations ORDER BY recommendation_type, subject_id",
        fx="SELECT currency, target_date, forecast_rate, lower_rate, upper_rate FROM ml.fx_forecast__scores",
        anomalies="SELECT bank_transaction_id FROM ml.transaction_anomaly__scores WHERE is_anomaly "
        "ORDER BY anomaly_score DESC",
        amounts="SELECT transaction_id, amount FROM staging.stg_open_finance__transactions",
    )


def by_type(rows: list[dict], recommendation_type: str) -> dict[str, dict]:
    return {r["subject_id"]: r for r in rows if r["recommendation_type"] == recommendation_type}


@pytest.mark.integration
def test_scored_fx_forecast_drives_payment_timing(scored):
    """USD's interval is above spot on every horizon and the cash allows (zero net flows on R$ ~17 million):
    every USD payable paid within the 20 forecast business days is `pay_early`, with (F - S), (L - S), (U - S)
    x open amount; EUR's straddles spot: `consider_hedge` where the swing (U - L) x amount reaches R$ 10,000."""
    company = demo_company()
    forecasts = {
        (f["currency"], date.fromisoformat(f["target_date"])): tuple(
            Decimal(f[k]) for k in ("forecast_rate", "lower_rate", "upper_rate")
        )
        for f in scored["fx"]
    }
    settled = defaultdict(Decimal)
    for row in company.erp["payable_settlements"].to_pylist():
        if row["deleted_at"] is None and row["settled_date"] <= LAST_DAY:
            settled[row["payable_id"]] += row["amount"]
    expected = {}
    for payable in company.erp["payables"].to_pylist():
        if payable["deleted_at"] is not None or payable["currency"] == "BRL" or payable["invoice_date"] > LAST_DAY:
            continue
        open_amount = payable["amount"] - settled[payable["payable_id"]]
        due = payable["due_date"]
        pay_date = due if is_business_day(due) else next_business_day(due)
        if open_amount <= 0 or pay_date <= LAST_DAY or (payable["currency"], pay_date) not in forecasts:
            continue
        spot = ptax_sell(payable["currency"], LAST_DAY)
        point, low, high = forecasts[(payable["currency"], pay_date)]
        if payable["currency"] == "EUR" and (high - low) * open_amount < project_var("fx_hedge_min_swing_brl"):
            continue
        code = "pay_early" if payable["currency"] == "USD" else "consider_hedge"
        effects = tuple(money((rate - spot) * open_amount) for rate in (point, low, high))
        expected[payable["payable_id"]] = (code, *effects)
    rows = by_type(scored["rows"], "fx_payment_timing")
    assert {code for code, *_ in expected.values()} == {"pay_early", "consider_hedge"}
    assert {
        k: (r["action_code"], *(Decimal(r[c]) for c in ("expected_effect_brl", "effect_low_brl", "effect_high_brl")))
        for k, r in rows.items()
    } == expected
    for row in rows.values():
        models = json.loads(row["evidence"])["models"]
        assert {"name": "fx_forecast", "version": "t-fx", "kind": "model"} in models
        cash = {"name": "cash_flow", "version": "t-cash", "kind": "model"}
        assert (cash in models) == (row["action_code"] == "pay_early")


@pytest.mark.integration
def test_scored_supplier_delay_flags_every_single_sourced_product_of_a_supplier_with_open_shipments(scored):
    company = demo_company()
    live = {
        p["po_id"]: p["supplier_id"]
        for p in company.erp["purchase_orders"].to_pylist()
        if p["deleted_at"] is None and p["status"] != "CANCELLED"
    }
    suppliers_of = defaultdict(set)
    for line in company.erp["purchase_order_lines"].to_pylist():
        if line["deleted_at"] is None and line["po_id"] in live:
            suppliers_of[line["sku"]].add(live[line["po_id"]])
    risky = {
        live[s["po_id"]]
        for s in company.erp["shipments"].to_pylist()
        if s["deleted_at"] is None and s["actual_arrival"] is None and s["po_id"] in live
    }
    expected = {sku for sku, suppliers in suppliers_of.items() if len(suppliers) == 1 and suppliers <= risky}
    rows = by_type(scored["rows"], "single_source_risk")
    assert expected and set(rows) == expected
    for row in rows.values():
        evidence = json.loads(row["evidence"])
        assert evidence["models"] == [{"name": "supplier_delay", "version": "t-delay", "kind": "model"}]
        average = Decimal(str(evidence["inputs"]["avg_order_line_brl"]))
        assert Decimal(row["expected_effect_brl"]) == money(average * Decimal("0.9"))
        assert row["action_code"] == "diversify_supplier" and evidence["inputs"]["mean_late_probability"] == 0.9


@pytest.mark.integration
def test_scored_anomalies_are_the_flagged_movements_of_the_window(scored):
    flagged = [r["bank_transaction_id"] for r in scored["anomalies"]]  # by score: the 2024-10-01 one first
    amounts = {r["transaction_id"]: Decimal(r["amount"]) for r in scored["amounts"]}
    rows = by_type(scored["rows"], "anomaly_investigation")
    assert set(rows) == set(flagged[1:])  # the October one is outside the 30-day window
    for rank, movement in enumerate(flagged[1:], start=1):
        row = rows[movement]
        assert json.loads(row["evidence"])["inputs"]["anomaly_rank"] == rank
        assert Decimal(row["expected_effect_brl"]) == Decimal(row["effect_high_brl"]) == amounts[movement]
        assert row["priority"] == 1
