"""The baseline serves until a model beats it (ml_assets/common/baseline.py), on a real MLflow store (SQLite in a
temp dir). The served baseline is the cash-flow seasonal naive's pyfunc, so what the registry serves is real."""

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

from ml_assets.cash_flow.pyfunc import SeasonalNaiveModel
from ml_assets.common import baseline, registry, tracking
from ml_assets.common.training import TrainingResult, record_training


def _served(name: str, seasons: int) -> baseline.ServedBaseline:
    model = SeasonalNaiveModel(seasons)
    example = pd.DataFrame({column: [10.0, -20.0, 30.0] for column in model.columns})
    return baseline.ServedBaseline(name, model, example, model.forecast(example))


def _train(name: str, store, mae: float, baseline_mae: float, served: baseline.ServedBaseline | None):
    x = pd.DataFrame({"x": np.arange(20, dtype=float)})
    result = TrainingResult(
        LinearRegression().fit(x, 2 * x["x"]), x.head(3), {"mae": mae}, {"mae": baseline_mae}, served_baseline=served
    )
    tags = tracking.run_tags(name, dagster_run_id="run-0001", partition_key=None, sha="abc123")
    return record_training(name, result, store, tags).version


def _versions(client, name: str) -> list[str]:
    return sorted(str(v.version) for v in client.search_model_versions(f"name = '{name}'"))


def _gate(name: str) -> registry.PromotionDecision:
    return baseline.review_or_serve_baseline(name, "mae", higher_is_better=False)


def test_a_refused_first_challenger_leaves_its_baseline_serving(mlflow_store, mlflow_client):
    name = "toy_fallback"
    first = _train(name, mlflow_store, mae=1.3, baseline_mae=1.2, served=_served("seasonal_naive_1w", 1))

    decision = _gate(name)

    assert not decision.promote and decision.previous_champion is None
    assert any("does not beat the baseline" in reason for reason in decision.reasons)
    assert decision.serving_kind == registry.KIND_BASELINE and decision.serving_baseline == "seasonal_naive_1w"
    champion = registry.version_by_alias(name, registry.CHAMPION)
    assert str(champion.version) == decision.serving_version == "2"
    assert champion.run_id == first.run_id  # registered from the refused challenger's run
    assert champion.tags[registry.TAG_KIND] == registry.KIND_BASELINE
    assert champion.tags[baseline.TAG_BASELINE_OF] == first.version
    assert champion.tags[registry.TAG_PROMOTION].startswith("serving as the baseline seasonal_naive_1w")
    assert registry.version_metrics(name, "2") == ({"mae": 1.2}, {"mae": 1.2})  # its metrics are the baseline's
    assert str(registry.version_by_alias(name, registry.CHALLENGER).version) == first.version
    metadata = decision.as_metadata()
    assert metadata["champion_version"] == "2" and metadata["champion_kind"] == "baseline"

    served = registry.load_served(name)
    assert (served.version, served.kind, served.baseline) == ("2", registry.KIND_BASELINE, "seasonal_naive_1w")
    rows = pd.DataFrame({"x": [1.0, 2.0], "seasonal_lag_1_brl": [5.0, -3.0], "seasonal_lag_2_brl": [9.0, 9.0]})
    assert registry.signature_inputs(served.model, rows).columns.tolist() == ["seasonal_lag_1_brl"]
    assert served.model.predict(registry.signature_inputs(served.model, rows)).tolist() == [5.0, -3.0]


def test_the_baseline_is_registered_only_when_needed_and_a_better_model_replaces_it(mlflow_store, mlflow_client):
    name = "toy_fallback_lifecycle"
    _train(name, mlflow_store, mae=1.3, baseline_mae=1.2, served=_served("seasonal_naive_1w", 1))
    assert _gate(name).serving_version == "2"

    # the gate again on the same challenger: the baseline keeps serving, nothing is registered
    again = _gate(name)
    assert (again.serving_version, again.serving_kind) == ("2", registry.KIND_BASELINE)
    assert "the baseline seasonal_naive_1w keeps serving (version 2)" in again.reasons
    assert _versions(mlflow_client, name) == ["1", "2"]

    # a new challenger that loses to the same baseline: only the challenger is new
    _train(name, mlflow_store, mae=1.25, baseline_mae=1.2, served=_served("seasonal_naive_1w", 1))
    assert _gate(name).serving_version == "2"
    assert _versions(mlflow_client, name) == ["1", "2", "3"]

    # the latest backtest prefers the other naive: it replaces the serving baseline, with its metric
    _train(name, mlflow_store, mae=1.1, baseline_mae=1.0, served=_served("seasonal_naive_4w", 4))
    decision = _gate(name)
    assert not decision.promote and (decision.serving_version, decision.serving_baseline) == ("5", "seasonal_naive_4w")
    assert any("replacing the baseline seasonal_naive_1w (version 2)" in reason for reason in decision.reasons)
    assert registry.version_metrics(name, "5")[0] == {"mae": 1.0}

    # a challenger that beats its own baseline and the serving baseline's metric is promoted by the normal rule
    better = _train(name, mlflow_store, mae=0.9, baseline_mae=1.0, served=_served("seasonal_naive_4w", 4))
    decision = _gate(name)
    assert decision.promote and decision.previous_champion == "5"
    assert any("beats the champion: mae 0.9 vs 1" in reason for reason in decision.reasons)
    assert (decision.serving_version, decision.serving_kind) == (better.version, registry.KIND_MODEL)
    assert registry.load_served(name).kind == registry.KIND_MODEL

    # once a trained model serves, a losing challenger leaves it serving: no baseline is registered again
    _train(name, mlflow_store, mae=1.5, baseline_mae=1.0, served=_served("seasonal_naive_4w", 4))
    decision = _gate(name)
    assert not decision.promote and (decision.serving_version, decision.serving_kind) == ("6", registry.KIND_MODEL)
    assert _versions(mlflow_client, name) == ["1", "2", "3", "4", "5", "6", "7"]


def test_without_a_logged_baseline_nothing_serves(mlflow_store, mlflow_client):
    name = "toy_fallback_none"
    _train(name, mlflow_store, mae=1.3, baseline_mae=1.2, served=None)
    decision = _gate(name)
    assert decision.serving_version is None and decision.as_metadata()["champion_version"] == "none"
    assert "the run of version 1 logged no baseline to serve" in decision.reasons
    assert registry.version_by_alias(name, registry.CHAMPION) is None
