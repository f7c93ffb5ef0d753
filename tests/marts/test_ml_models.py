"""The three ML feature tables on the demo company (ml.ml_supplier_delay__features, ml_cash_flow__features,
ml_transaction_anomaly__features, built by the session's full dbt build) and each model judged against its baseline
there, with the pure code of ml_assets/. The generator's ground truth grades the anomaly ranking only; no model
reads it. The numbers these tests pin down are the ones the models' READMEs and run notes report.
"""

from collections import defaultdict
from decimal import Decimal

import pandas as pd
import pytest

from ml_assets.cash_flow.evaluation import walk_forward
from ml_assets.supplier_delay.evaluation import backtest
from ml_assets.transaction_anomaly.evaluation import evaluate
from tests.dbt.dbt_harness import query

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tables(demo_built) -> dict[str, list[dict]]:
    return query(
        demo_built.data_dir,
        delay="SELECT * FROM ml.ml_supplier_delay__features",
        cash="SELECT * FROM ml.ml_cash_flow__features",
        anomaly="SELECT * FROM ml.ml_transaction_anomaly__features",
        bank_days="""
            SELECT booking_date, sum(signed_amount) AS net FROM staging.stg_open_finance__transactions
            WHERE status = 'TRANSACAO_EFETIVADA' GROUP BY booking_date
        """,
    )


@pytest.fixture(scope="module")
def planted(demo_built) -> list[str]:
    return [row["bank_transaction_id"] for row in demo_built.ground_truth["anomalies"] if row["bank_transaction_id"]]


def test_the_planted_anomalies_are_open_finance_movements(tables, planted):
    ids = {row["bank_transaction_id"] for row in tables["anomaly"]}
    assert len(planted) == 4 and set(planted) <= ids


@pytest.fixture(scope="module")
def made_unknown(demo_built) -> set[str]:
    """Movements the demo's messiness left with a missing or mistyped counterparty CNPJ: to the model they are
    payments from or to a new counterparty, as odd as a planted anomaly, so they are no ordinary movement."""
    cases = demo_built.ground_truth.get("planted_cases", [])
    return {c["bank_transaction_id"] for c in cases if c["kind"] in ("CNPJ_MISSING", "CNPJ_MISTYPED")}


def test_the_forest_ranks_the_planted_anomalies_on_top(tables, planted, made_unknown):
    ordinary_or_planted = [row for row in tables["anomaly"] if row["bank_transaction_id"] not in made_unknown]
    evaluation = evaluate(pd.DataFrame(ordinary_or_planted), planted)
    print("transaction anomalies on the demo:", evaluation.model, evaluation.baseline, evaluation.ranks)
    assert evaluation.model["precision_at_4"] == 1.0  # all four planted movements are the top four
    assert evaluation.model["precision_at_10"] > evaluation.baseline["precision_at_10"]


def test_supplier_history_counts_only_outcomes_known_before_departure(tables):
    rows = tables["delay"]
    known = [r for r in rows if r["label_known_date"] is not None]
    by_supplier = defaultdict(list)
    for r in known:
        by_supplier[r["supplier_id"]].append(r["label_known_date"])
    for r in rows:
        expected = sum(day < r["as_of_date"] for day in by_supplier[r["supplier_id"]])
        assert r["supplier_prior_shipments"] == expected, r["shipment_id"]
    assert sum(r["supplier_prior_shipments"] > 0 for r in rows) > 100  # most shipments do have a history


def test_delay_risk_is_no_better_than_the_base_rate_on_random_delays(tables):
    # The generator draws each delay independently of supplier, route and season (purchasing.py: 25 % are 3-21
    # days late), so an honest model cannot beat the base rate by more than noise.
    result = backtest(pd.DataFrame(tables["delay"]))
    print("supplier delay on the demo:", result.metrics(), result.baseline_metrics())
    assert result.n_test > 40 and result.n_train > 100
    assert abs(result.brier_skill) < 0.05
    low, high = result.brier_difference_interval
    assert low <= 0 <= high


def test_cash_flow_label_is_the_bank_movement_of_the_day(tables):
    bank = {row["booking_date"]: Decimal(row["net"]) for row in tables["bank_days"]}
    labelled = [r for r in tables["cash"] if r["net_cash_flow_brl"] is not None]
    assert labelled
    for r in labelled[:: max(1, len(labelled) // 500)]:
        assert Decimal(r["net_cash_flow_brl"]) == bank.get(r["target_date"], Decimal(0)), r["target_date"]
    last_day = max(bank)
    assert all(r["net_cash_flow_brl"] is None for r in tables["cash"] if r["target_date"] > last_day)


def test_cash_flow_beats_the_seasonal_naive(tables):
    result = walk_forward(pd.DataFrame(tables["cash"]))
    print("cash flow on the demo:", result.metrics(), result.baseline_metrics())
    assert len(result.origins) >= 10
    assert result.mae_ratio < 0.9
