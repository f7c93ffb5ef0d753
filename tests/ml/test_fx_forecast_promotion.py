"""The FX gate on a real MLflow store: a challenger with worse backtest intervals is refused, the champion stays."""

import numpy as np

from ml_assets.common import registry, tracking
from ml_assets.common.training import record_training
from ml_assets.fx_forecast.train import HIGHER_IS_BETTER, PROMOTION_METRIC, train

NAME = "fx_forecast_gate_test"


def _record(result, store):
    tags = tracking.run_tags(NAME, dagster_run_id="pytest-gate", partition_key=None, sha="test")
    return record_training(NAME, result, store, tags).version


def test_worse_fx_challenger_is_refused(mlflow_store, mlflow_client, fx_features, fx_trained):
    champion = _record(fx_trained, mlflow_store)
    assert registry.review_challenger(NAME, PROMOTION_METRIC, HIGHER_IS_BETTER).promote

    # Same model, but trained and backtested on volatility features shuffled across days: its intervals no longer
    # follow the market's calm and stress, so their interval score must be worse.
    rng = np.random.default_rng(0)
    shuffled = fx_features.copy()
    for column in ("volatility_20d", "volatility_60d"):
        shuffled[column] = rng.permutation(shuffled[column].to_numpy())
    worse = train(shuffled, seed=42, step=60)
    assert worse.metrics[PROMOTION_METRIC] > fx_trained.metrics[PROMOTION_METRIC]

    challenger = _record(worse, mlflow_store)
    decision = registry.review_challenger(NAME, PROMOTION_METRIC, HIGHER_IS_BETTER)
    assert not decision.promote
    assert any("does not beat the champion" in reason for reason in decision.reasons), decision.reasons
    assert str(registry.version_by_alias(NAME, registry.CHAMPION).version) == champion.version
    assert str(registry.version_by_alias(NAME, registry.CHALLENGER).version) == challenger.version
    _, served = registry.load_by_alias(NAME)
    assert served == champion.version
