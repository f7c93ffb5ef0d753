"""Supplier delay risk, pure code: Brier score and reliability bins by hand, the time-ordered split, determinism,
a backtest that finds planted signal, and the rows it scores. The run on the demo company is in
tests/marts/test_ml_models.py."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from ml_assets.supplier_delay.evaluation import (
    backtest,
    brier_difference_interval,
    brier_score,
    reliability_curve,
    time_split,
)
from ml_assets.supplier_delay.model import SKOPS_TRUSTED_TYPES, fit, late_probability
from ml_assets.supplier_delay.train import SCORES_TABLE, score, train
from tests.ml.synthetic import synthetic_shipments


def test_brier_score_by_hand():
    # (0.2² + 0.2² + 0.4² + 0.5²) / 4 = (0.04 + 0.04 + 0.16 + 0.25) / 4
    assert brier_score([1, 0, 1, 0], [0.8, 0.2, 0.6, 0.5]) == pytest.approx(0.1225)
    assert brier_score([1, 0], [1.0, 0.0]) == 0.0


def test_brier_difference_interval():
    outcomes = [1, 0, 1, 0, 0, 1, 0, 0]
    assert brier_difference_interval(outcomes, [0.375] * 8, 0.375) == (0.0, 0.0)  # the base rate itself
    low, high = brier_difference_interval(outcomes, outcomes, 0.375)  # a perfect forecast
    assert low < high < 0


def test_reliability_curve_by_hand():
    curve = reliability_curve([0, 0, 1, 1, 0], [0.1, 0.15, 0.5, 0.9, 1.0], bins=5)
    assert curve == [
        {"bin_lower": 0.0, "bin_upper": 0.2, "mean_predicted": pytest.approx(0.125), "observed_rate": 0.0, "count": 2},
        {"bin_lower": 0.4, "bin_upper": 0.6, "mean_predicted": 0.5, "observed_rate": 1.0, "count": 1},
        # a probability of exactly 1 belongs to the last bin
        {"bin_lower": 0.8, "bin_upper": 1.0, "mean_predicted": pytest.approx(0.95), "observed_rate": 0.5, "count": 2},
    ]


def test_time_split_trains_on_known_outcomes_and_tests_on_later_departures():
    frame = pd.DataFrame(
        {
            "shipment_id": ["early", "straddles", "late", "open"],
            "as_of_date": pd.to_datetime(["2024-01-01", "2024-02-20", "2024-03-05", "2024-03-10"]),
            "label_known_date": pd.to_datetime(["2024-02-01", "2024-03-15", "2024-04-01", None]),
            "is_late": [True, False, True, None],
        }
    )
    train_rows, test_rows = time_split(frame, date(2024, 3, 1))
    # "straddles" departed before the cutoff but its outcome came after it: in neither set
    assert train_rows["shipment_id"].tolist() == ["early"]
    assert test_rows["shipment_id"].tolist() == ["late"]


def test_training_is_deterministic_and_ignores_row_order():
    frame = synthetic_shipments()
    first = late_probability(fit(frame, seed=7), frame)
    shuffled = fit(frame.sample(frac=1.0, random_state=1), seed=7)
    assert np.array_equal(first, late_probability(shuffled, frame))


def test_the_saved_model_needs_only_the_reviewed_skops_types():
    import skops.io

    untrusted = skops.io.get_untrusted_types(data=skops.io.dumps(fit(synthetic_shipments())))
    assert set(untrusted) <= set(SKOPS_TRUSTED_TYPES)


def test_backtest_finds_planted_signal_and_not_invented_signal():
    with_signal = backtest(synthetic_shipments(signal=True))
    assert with_signal.n_test > 40 and with_signal.n_train > 100
    assert with_signal.brier < 0.85 * with_signal.base_rate_brier  # the transport mode carries the risk
    assert with_signal.base_rate_brier == pytest.approx(
        float(np.mean((np.full(with_signal.n_test, with_signal.base_rate) - np.array(with_signal.outcomes)) ** 2))
    )
    noise = backtest(synthetic_shipments(signal=False, seed=3))
    assert noise.brier_skill < 0.1  # nothing to learn: no real gain over the base rate


def test_train_and_score_open_shipments_only():
    frame = synthetic_shipments()
    result = train(frame, seed=42)
    assert set(result.metrics) >= {"brier", "brier_skill"} and result.baseline_metrics["brier"] > 0
    assert list(result.input_example.columns)[:2] == ["transport_mode", "origin_country"]
    assert "reliability_curve" in result.figures
    rows = score(result.model, frame)
    open_ids = set(frame.loc[frame["is_open"], "shipment_id"])
    assert {row["shipment_id"] for row in rows} == open_ids and open_ids
    assert all(0.0 <= row["late_probability"] <= 1.0 for row in rows)
    assert {row["as_of_date"] for row in rows} == {date(2024, 12, 31)}
    assert list(rows[0]) == [name for name, _ in SCORES_TABLE.columns]
