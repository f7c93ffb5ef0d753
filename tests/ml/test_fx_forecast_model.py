"""The FX forecaster on the real PTAX history: conformal quantile, determinism, no look-ahead, backtest quality."""

from datetime import date

import numpy as np
import pandas as pd

from ml_assets.fx_forecast.backtest import walk_forward
from ml_assets.fx_forecast.features import HORIZONS, targets
from ml_assets.fx_forecast.model import ForecastParams, conformal_quantile
from ml_assets.fx_forecast.train import MAX_T_STAT, MIN_BLOCKS, train


def test_conformal_quantile_is_the_finite_sample_rank():
    scores = np.array([9, 1, 8, 2, 7, 3, 6, 4, 5], dtype=float)  # n = 9
    assert conformal_quantile(scores, alpha=0.1) == 9.0  # rank ceil(10 * 0.9) = 9
    assert conformal_quantile(scores, alpha=0.2) == 8.0  # rank ceil(10 * 0.8) = 8
    assert conformal_quantile(scores[:5], alpha=0.1) == float("inf")  # rank ceil(6 * 0.9) = 6 > 5


def _recent(features: pd.DataFrame, since: date) -> pd.DataFrame:
    return features[features["date"] >= since].reset_index(drop=True)


def test_training_is_deterministic_with_a_seed(fx_features):
    recent = _recent(fx_features, date(2021, 1, 1))
    first = train(recent, seed=7, step=60)
    again = train(recent.sample(frac=1.0, random_state=3), seed=7, step=60)  # row order must not matter either
    assert first.metrics == again.metrics
    assert first.baseline_metrics == again.baseline_metrics
    assert first.params == again.params
    pd.testing.assert_frame_equal(first.output_example, again.output_example, check_exact=True)
    first_q = {h: m.quantile for h, m in first.model.forecaster.horizons.items()}
    assert first_q == {h: m.quantile for h, m in again.model.forecaster.horizons.items()}
    assert first.params["seed"] == 7


def test_backtest_never_sees_the_future(fx_features):
    """Cut the history at E: every forecast both runs make must be identical, so no fold used data after E."""
    params = ForecastParams()
    recent = _recent(fx_features, date(2020, 1, 1))
    horizons = (1, 5, 20)
    full = walk_forward(targets(recent, horizons), params, min_train_dates=250, step=60, horizons=horizons)
    cut = recent[recent["date"] <= date(2023, 6, 30)]
    truncated = walk_forward(targets(cut, horizons), params, min_train_dates=250, step=60, horizons=horizons)
    assert len(truncated) > 1000 and len(full) > len(truncated)
    merged = truncated.merge(full, on=["currency", "date", "horizon"], suffixes=("", "_full"), validate="1:1")
    assert len(merged) == len(truncated)
    for column in ("point", "lower", "upper", "ridge_point", "baseline_lower", "baseline_upper", "actual"):
        np.testing.assert_array_equal(merged[column], merged[f"{column}_full"], err_msg=column)


def test_backtest_over_real_ptax(fx_trained):
    """The served model's intervals cover close to 90 % and beat the baseline's; the point source is honest."""
    per_h = fx_trained.tables["backtest_by_horizon"]
    print(per_h[["horizon", "mae_ratio", "ridge_mae_ratio", "coverage", "baseline_coverage", "interval_score_ratio"]])
    assert list(per_h["horizon"]) == list(HORIZONS)
    assert per_h["n"].min() > 3000  # both currencies, ~2,000 origins each
    assert per_h["coverage"].between(0.85, 0.95).all()
    assert fx_trained.metrics["interval_score_ratio"] < 1.0
    assert fx_trained.params["backtest_dates"] > 1900  # 2,448 origin dates, the first 500 train only
    blocks = -(-fx_trained.params["backtest_dates"] // 20)
    ridge_wins = fx_trained.metrics["ridge_edge_t_stat"] < MAX_T_STAT and blocks >= MIN_BLOCKS
    assert fx_trained.params["point_source"] == ("ridge" if ridge_wins else "random_walk")
    if fx_trained.params["point_source"] == "random_walk":
        assert (per_h["mae_ratio"] == 1.0).all()
        assert any("does NOT beat the random walk" in note for note in fx_trained.notes)
    forecast = fx_trained.output_example
    assert (forecast["lower_bound"] < forecast["point_forecast"]).all()
    assert (forecast["point_forecast"] < forecast["upper_bound"]).all()


def test_intervals_widen_with_the_horizon(fx_trained):
    example = fx_trained.output_example.assign(width=lambda f: f["upper_bound"] - f["lower_bound"])
    model = fx_trained.model.forecaster
    last = fx_trained.input_example.iloc[[0]]
    rows = pd.concat([last.assign(horizon=h) for h in HORIZONS], ignore_index=True)
    widths = model.predict(rows).eval("upper_bound - lower_bound").to_numpy()
    assert (np.diff(widths) > 0).sum() >= 17, widths  # nearly monotone: each horizon is calibrated on its own
    assert widths[-1] > 3 * widths[0]
    assert (example["width"] > 0).all()
