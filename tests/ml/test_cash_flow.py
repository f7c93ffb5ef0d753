"""Cash-flow forecast, pure code: seasonal-naive lags and MAE by hand, a walk-forward that never looks past its
origin, determinism, and the rows it scores. The run on the demo company is in tests/marts/test_ml_models.py."""

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from ml_assets.cash_flow.evaluation import mean_absolute_error, seasonal_naive, walk_forward
from ml_assets.cash_flow.features import HORIZON, NAIVE, model_input
from ml_assets.cash_flow.model import fit, forecast
from ml_assets.cash_flow.train import SCORES_TABLE, score, train
from tests.ml.synthetic import synthetic_cash_flow as synthetic_features
from tests.ml.synthetic import synthetic_steady_cash_flow


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
    # the scheduled amounts explain the flows: the model beats both seasonal naives, though 90 days of history are
    # too few to choose the penalty on the training rows' own last 90 days, so it takes the strongest shrinkage
    assert result.mae_ratio < 0.85
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


def _tiny_frame() -> pd.DataFrame:
    """Origins 2024-01-01..01-31 x horizons 1..3 (as the table, HORIZON aside): the movement of day d is its day
    of the month x 1000; receivables due on d are d x 10, known from the origin on."""
    rows = []
    for o in pd.date_range("2024-01-01", "2024-01-31"):
        for h in (1, 2, 3):
            target = o + pd.Timedelta(days=h)
            rows.append(
                {
                    "origin_date": o,
                    "target_date": target,
                    "horizon_days": h,
                    "target_is_business_day": target.weekday() < 5,
                    "receivables_due_brl": Decimal(target.day * 10),
                    "payables_due_brl": Decimal(0),
                    "imports_arriving_brl": Decimal(0),
                    "net_cash_flow_brl": Decimal(target.day * 1000) if target <= pd.Timestamp("2024-01-31") else None,
                }
            )
    return pd.DataFrame(rows)


def test_the_naive_level_and_the_lag_dues_by_hand():
    frame = _tiny_frame()
    inputs = model_input(frame)
    # origin 01-30, target 01-31 (h 1): lag days 01-24, 01-17, 01-10, 01-03 (01-02 is the first observed day)
    row = inputs[(frame["origin_date"] == "2024-01-30") & (frame["horizon_days"] == 1)].iloc[0]
    assert row[NAIVE] == pytest.approx((24 + 17 + 10 + 3) * 1000 / 4)
    assert row["seasonal_naive_1w"] == 24_000
    assert row["lag_business_day_share"] == 1.0  # four Wednesdays
    # origin 01-15, target 01-16: lags 01-09 and 01-02 have data, 12-26 and 12-19 do not and are left out, where
    # the gate's seasonal naive counts them as zero movement
    row = inputs[(frame["origin_date"] == "2024-01-15") & (frame["horizon_days"] == 1)].iloc[0]
    assert row[NAIVE] == pytest.approx((9 + 2) * 1000 / 2)
    series = pd.Series([d * 1000.0 for d in range(2, 32)], index=pd.date_range("2024-01-02", "2024-01-31"))
    assert seasonal_naive(series, date(2024, 1, 15), ["2024-01-16"], seasons=4)[0] == pytest.approx(11_000 / 4)


def test_the_inputs_use_nothing_after_the_origin():
    frame = synthetic_steady_cash_flow(days=160)
    cut = pd.Timestamp("2024-04-01")
    changed = frame.copy()
    later_day = changed["target_date"] > cut
    changed.loc[later_day, "net_cash_flow_brl"] = Decimal("123456789")
    later_origin = changed["origin_date"] > cut
    for column in ("receivables_due_brl", "payables_due_brl", "imports_arriving_brl"):
        changed.loc[later_origin, column] = Decimal("987654321")
    known = (frame["origin_date"] <= cut).to_numpy()
    pd.testing.assert_frame_equal(model_input(frame)[known], model_input(changed)[known])


def test_a_steady_level_with_scheduled_lumps_beats_both_naives():
    result = walk_forward(synthetic_steady_cash_flow())
    assert result.mae < 0.8 * result.baseline_mae
    assert result.mae < result.mae_scheduled_dues  # the dues alone miss the steady level


def test_without_a_schedule_the_forecast_stays_near_the_naive():
    """Dues unrelated to the movement: the correction (shrunk, robust) moves the naive by little."""
    result = walk_forward(synthetic_steady_cash_flow(scheduled=False))
    predictions = result.predictions
    moved = (predictions["model"] - predictions["seasonal_naive_4w"]).abs().mean()
    assert moved < 0.2 * result.mae_seasonal_naive_4w
    assert result.mae < 1.05 * result.mae_seasonal_naive_4w
