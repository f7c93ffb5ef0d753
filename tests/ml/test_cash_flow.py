"""Cash-flow forecast, pure code: seasonal-naive lags and MAE by hand, a walk-forward that never looks past its
origin, determinism, and the rows it scores. The run on the demo company is in tests/marts/test_ml_models.py."""

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from ml_assets.cash_flow.evaluation import mean_absolute_error, seasonal_naive, walk_forward
from ml_assets.cash_flow.features import HORIZON
from ml_assets.cash_flow.model import fit, forecast
from ml_assets.cash_flow.train import SCORES_TABLE, score, train
from tests.ml.synthetic import synthetic_cash_flow as synthetic_features


def test_mean_absolute_error_by_hand():
    assert mean_absolute_error([10, -20, 5], [7, -10, 5]) == pytest.approx((3 + 10 + 0) / 3)


def test_seasonal_naive_uses_the_same_weekday_on_or_before_the_origin():
    days = pd.date_range("2024-01-01", "2024-01-14")  # origin 01-14, a Sunday
    series = pd.Series(np.arange(1.0, 15.0), index=days)  # 01-01 -> 1.0 ... 01-14 -> 14.0
    targets = ["2024-01-15", "2024-01-21", "2024-01-22"]
    # 01-15 -> 01-08 (8.0); 01-21 -> 01-14 (14.0, the origin itself); 01-22 (8 days ahead) -> 01-08, two weeks back
    assert seasonal_naive(series, date(2024, 1, 14), targets).tolist() == [8.0, 14.0, 8.0]
    # mean of the last two weeks: 01-15 -> (8 + 1) / 2; 01-22 -> (8 + 1) / 2; a lag before the data counts as 0
    assert seasonal_naive(series, date(2024, 1, 14), targets, seasons=2).tolist() == [4.5, 10.5, 4.5]
    assert seasonal_naive(series, date(2024, 1, 14), ["2024-01-29"], seasons=3).tolist() == [(8.0 + 1.0 + 0.0) / 3]


def test_walk_forward_never_trains_on_a_day_after_its_origin():
    frame = synthetic_features()
    result = walk_forward(frame)
    predictions = result.predictions
    assert (predictions["target_date"] > predictions["origin_date"]).all()
    # warm-up: 90 days after the first observed day, 01-02 (the first origin's first target); 2024 is a leap year
    assert result.origins[0] == date(2024, 4, 1)
    # the last origin still has its whole horizon observed
    last_observed = pd.to_datetime(frame.loc[frame["net_cash_flow_brl"].notna(), "target_date"]).max().date()
    assert result.origins[-1] + timedelta(days=HORIZON) <= last_observed
    # the scheduled amounts explain the flows: the model beats both seasonal naives by far
    assert result.mae_ratio < 0.5
    best_naive = min(result.mae_seasonal_naive_1w, result.mae_seasonal_naive_4w)
    assert result.mae_ratio == pytest.approx(result.mae / best_naive)
    assert result.metrics()["mae"] == result.mae and result.baseline_metrics()["mae"] == result.baseline_mae


def test_training_is_deterministic_and_ignores_row_order():
    frame = synthetic_features(days=150)
    first = forecast(fit(frame, seed=1), frame)
    assert np.array_equal(first, forecast(fit(frame.sample(frac=1.0, random_state=1), seed=1), frame))


def test_the_saved_model_needs_no_extra_skops_types():
    import skops.io

    assert skops.io.get_untrusted_types(data=skops.io.dumps(fit(synthetic_features(days=150)))) == []


def test_train_and_score_the_last_origin():
    frame = synthetic_features()
    result = train(frame, seed=42)
    assert result.metrics["mae"] < result.baseline_metrics["mae"]
    assert {"backtest_by_horizon", "forecast"} <= set(result.figures)
    rows = score(result.model, frame)
    last_origin = pd.to_datetime(frame["origin_date"]).max().date()
    assert len(rows) == HORIZON
    assert {row["origin_date"] for row in rows} == {last_origin}
    assert [row["horizon_days"] for row in rows] == list(range(1, HORIZON + 1))
    assert all(isinstance(row["predicted_net_cash_flow_brl"], Decimal) for row in rows)
    assert list(rows[0]) == [name for name, _ in SCORES_TABLE.columns]
