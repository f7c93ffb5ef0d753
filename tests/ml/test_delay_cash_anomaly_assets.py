"""The supplier-delay, cash-flow and anomaly Dagster assets end to end on the session chDB and a real MLflow store:
each trains (metadata with metrics and its plot), passes the blocking promotion check and writes its scores table
with the model version on every row. The anomaly model reads its known anomalies from `<data_dir>/demo/
ground_truth.json` through the factory's `load_known_outcomes`; without that file nothing can be promoted and its
scores are blocked. A cash-flow model that loses to its seasonal naive leaves that naive serving until a model
beats it."""

import json
import math
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from functools import partial

import dagster as dg
import pandas as pd

from ml_assets.cash_flow import data as cash_data
from ml_assets.common import registry
from ml_assets.supplier_delay import data as delay_data
from ml_assets.transaction_anomaly import data as anomaly_data
from orchestration.defs.ml import cash_flow, supplier_delay, transaction_anomaly
from orchestration.defs.ml.factory import build
from orchestration.resources.mlflow import MLflowResource
from orchestration.resources.warehouse import ClickHouseResource
from tests.ml.synthetic import (
    ANOMALY_TYPES,
    CASH_TYPES,
    DELAY_TYPES,
    load_frame,
    synthetic_cash_flow,
    synthetic_movements,
    synthetic_shipments,
)


def _spec(spec, name: str, table: str, data_module):
    return replace(
        spec,
        name=name,
        load_training_data=partial(data_module.features, table=table),
        load_scoring_data=partial(data_module.features, table=table),
        scores_table=replace(spec.scores_table, model_name=name),
    )


def _materialize(specs, chdb_url, store, data_dir):
    definitions = []
    for spec in specs:
        assets, checks = build(spec)
        definitions += [*assets, *checks]
    return dg.materialize(
        definitions,
        resources={
            "warehouse": ClickHouseResource(url=chdb_url, data_dir=str(data_dir)),
            "mlflow": MLflowResource(tracking_uri=store.tracking_uri),
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def test_train_promote_and_score_the_three_models(warehouse, chdb_url, mlflow_store, tmp_path):
    shipments, cash = synthetic_shipments(), synthetic_cash_flow()
    movements, planted = synthetic_movements()
    load_frame(warehouse, "ml.test_delay__features", shipments, DELAY_TYPES)
    load_frame(warehouse, "ml.test_cash__features", cash, CASH_TYPES)
    load_frame(warehouse, "ml.test_anomaly__features", movements, ANOMALY_TYPES)
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "ground_truth.json").write_text(
        json.dumps({"anomalies": [{"bank_transaction_id": i, "kind": "PLANTED"} for i in planted]})
    )
    specs = [
        _spec(supplier_delay.spec, "delay_assets_test", "ml.test_delay__features", delay_data),
        _spec(cash_flow.spec, "cash_assets_test", "ml.test_cash__features", cash_data),
        _spec(transaction_anomaly.spec, "anomaly_assets_test", "ml.test_anomaly__features", anomaly_data),
    ]
    for spec in specs:
        warehouse.command(f"DROP TABLE IF EXISTS {spec.scores_table.qualified}")

    result = _materialize(specs, chdb_url, mlflow_store, tmp_path)

    assert result.success
    checks = {check.asset_key.path[-1]: check for check in result.get_asset_check_evaluations()}
    plots = {"delay_assets_test": "reliability_curve", "cash_assets_test": "backtest_by_horizon"}
    plots["anomaly_assets_test"] = "precision_at_k"
    for spec in specs:
        metadata = result.asset_materializations_for_node(spec.model_key.to_python_identifier())[0].metadata
        assert metadata["model_version"].value == "1"
        assert metadata[f"plot/{plots[spec.name]}"].value.startswith(f"![{plots[spec.name]}](data:image/png;base64,")
        assert f"| {spec.metric} |" in metadata["metrics"].value
        check = checks[f"{spec.name}__model"]
        assert check.passed and check.metadata["promoted"].value is True, check.metadata["reasons"].value

    delay = warehouse.query_rows(
        "SELECT shipment_id, late_probability, model_version FROM ml.delay_assets_test__scores"
    )
    assert {r[0] for r in delay} == set(shipments.loc[shipments["is_open"], "shipment_id"])
    assert {r[2] for r in delay} == {"1"} and all(0 <= r[1] <= 1 for r in delay)
    cash_rows = warehouse.query_rows("SELECT horizon_days, model_version FROM ml.cash_assets_test__scores")
    assert sorted(r[0] for r in cash_rows) == list(range(1, 91)) and {r[1] for r in cash_rows} == {"1"}
    top = warehouse.query_rows(
        "SELECT bank_transaction_id FROM ml.anomaly_assets_test__scores WHERE model_version = '1' "
        f"ORDER BY anomaly_score DESC LIMIT {len(planted)}"
    )
    assert {r[0] for r in top} == set(planted)


def test_without_known_anomalies_nothing_is_promoted_and_scoring_is_blocked(
    warehouse, chdb_url, mlflow_store, tmp_path
):
    movements, _ = synthetic_movements(n=200)
    load_frame(warehouse, "ml.test_anomaly_unlabelled__features", movements, ANOMALY_TYPES)
    spec = _spec(
        transaction_anomaly.spec, "anomaly_unlabelled_test", "ml.test_anomaly_unlabelled__features", anomaly_data
    )
    warehouse.command(f"DROP TABLE IF EXISTS {spec.scores_table.qualified}")

    result = _materialize([spec], chdb_url, mlflow_store, tmp_path)  # no demo/ground_truth.json under tmp_path

    (check,) = result.get_asset_check_evaluations()
    assert not check.passed and check.metadata["champion_version"].value == "none"
    assert "precision_at_known" in check.metadata["reasons"].value
    assert not result.asset_materializations_for_node(spec.scores_key.to_python_identifier())


def _seasonal_naive_by_hand(frame: pd.DataFrame, weeks: int) -> dict:
    """For each target day of the last origin: the mean of the movements on its weekday in the `weeks` most recent
    weeks on or before the origin (a day without a movement counts as 0), straight from the labelled rows."""
    observed = {
        row["target_date"].date(): float(row["net_cash_flow_brl"])
        for row in frame.to_dict("records")
        if row["net_cash_flow_brl"] is not None
    }
    origin = frame["origin_date"].max().date()
    expected = {}
    for target in frame.loc[frame["origin_date"] == frame["origin_date"].max(), "target_date"]:
        target = target.date()
        back = math.ceil((target - origin).days / 7)  # weeks back to the latest same weekday on or before the origin
        lags = [observed.get(target - timedelta(days=7 * (back + k)), 0.0) for k in range(weeks)]
        expected[target] = sum(lags) / weeks
    return expected


def test_the_cash_flow_baseline_serves_until_a_model_beats_it(warehouse, chdb_url, mlflow_store, tmp_path):
    weekly = synthetic_cash_flow(weekly=True)  # the dues explain nothing: the 4-week naive wins the backtest
    table = "ml.test_cash_fallback__features"
    spec = _spec(cash_flow.spec, "cash_fallback_test", table, cash_data)
    assert spec.baseline_fallback is not None  # model_spec read BASELINE_FALLBACK from cash_flow/train.py
    warehouse.command(f"DROP TABLE IF EXISTS {spec.scores_table.qualified}")
    load_frame(warehouse, table, weekly, CASH_TYPES)

    def run_and_read():
        result = _materialize([spec], chdb_url, mlflow_store, tmp_path)
        assert result.success
        (check,) = result.get_asset_check_evaluations()
        rows = warehouse.query_rows(
            f"SELECT target_date, predicted_net_cash_flow_brl, model_version, model_kind "
            f"FROM {spec.scores_table.qualified} ORDER BY target_date"
        )
        scores_metadata = result.asset_materializations_for_node(spec.scores_key.to_python_identifier())[0].metadata
        return check, rows, scores_metadata

    # a fresh registry and a challenger that loses: its baseline becomes champion (version 2) and scores
    check, rows, scores_metadata = run_and_read()
    assert check.passed and check.metadata["promoted"].value is False
    assert "does not beat the baseline" in check.metadata["reasons"].value
    assert check.metadata["champion_version"].value == "2" and check.metadata["champion_kind"].value == "baseline"
    assert check.metadata["serving_baseline"].value == "seasonal_naive_4w"
    assert scores_metadata["model_kind"].value == "baseline"
    assert scores_metadata["serving_baseline"].value == "seasonal_naive_4w"
    assert {(version, kind) for _, _, version, kind in rows} == {("2", "baseline")}
    expected = _seasonal_naive_by_hand(weekly, weeks=4)
    assert len(rows) == 90 and [target for target, *_ in rows] == sorted(expected)
    for target, predicted, *_ in rows:
        assert predicted == Decimal(f"{expected[target]:.2f}"), target

    # trained again on the same data: the challenger (version 3) loses again, the same baseline keeps serving
    check, rows, _ = run_and_read()
    assert check.passed and check.metadata["champion_version"].value == "2"
    versions = registry.mlflow_client().search_model_versions("name = 'cash_fallback_test'")
    assert sorted(str(v.version) for v in versions) == ["1", "2", "3"]  # no second baseline version
    assert {(version, kind) for _, _, version, kind in rows} == {("2", "baseline")}

    # the dues now drive the flows: the model beats its own baseline and the serving baseline's MAE, and replaces it
    load_frame(warehouse, table, synthetic_cash_flow(), CASH_TYPES)
    check, rows, scores_metadata = run_and_read()
    assert check.passed and check.metadata["promoted"].value is True, check.metadata["reasons"].value
    assert check.metadata["champion_version"].value == "4" and check.metadata["champion_kind"].value == "model"
    assert "serving_baseline" not in scores_metadata and scores_metadata["model_kind"].value == "model"
    assert {(version, kind) for _, _, version, kind in rows} == {("4", "model")}
