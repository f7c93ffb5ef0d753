"""ml_assets/evaluation.py, pure: each model against its baseline with a bootstrap interval, on synthetic frames
with planted signal (skill shown) and without it (no skill claimed)."""

import json

import numpy as np
import pytest

from ml_assets.evaluation import _verdict, evaluate_models, precision_at_k_interval
from ml_assets.supplier_delay.evaluation import backtest, rolling_backtest, rolling_cutoffs
from tests.ml.synthetic import synthetic_cash_flow, synthetic_movements, synthetic_shipments


def test_verdict_reads_the_interval_in_the_metric_direction():
    assert _verdict((-0.03, -0.01), lower_is_better=True) == "yes"
    assert _verdict((0.01, 0.03), lower_is_better=True) == "no"
    assert _verdict((0.2, 0.5), lower_is_better=False) == "yes"
    assert _verdict((-0.01, 0.02), lower_is_better=True) == "undecided"


def test_precision_interval_of_identical_rankings_is_zero():
    scores = np.arange(200, dtype=float)
    labels = scores >= 190
    keys = np.array([f"k{i:03d}" for i in range(200)])
    assert precision_at_k_interval(scores, scores, labels, keys, 10, resamples=200) == (0.0, 0.0)


def test_precision_interval_separates_a_perfect_ranking_from_a_blind_one():
    rng = np.random.default_rng(1)
    labels = np.zeros(1000, dtype=bool)
    labels[rng.choice(1000, 20, replace=False)] = True
    keys = np.array([f"k{i:04d}" for i in range(1000)])
    perfect = labels.astype(float) + rng.random(1000) * 0.1
    blind = rng.random(1000)
    low, high = precision_at_k_interval(perfect, blind, labels, keys, 20, resamples=500)
    assert 0.5 < low <= high <= 1.0


def _movements_with_more_oddities():
    """The synthetic movements with 12 more planted oddities: a handful cannot exclude luck, a dozen can."""
    frame, planted = synthetic_movements()
    for offset, row in enumerate(range(100, 112)):
        flag = ("is_off_hours", "is_round_amount", "is_unknown_counterparty", "is_just_below_limit")[offset % 4]
        frame.loc[row, flag] = True
        planted.append(frame.loc[row, "bank_transaction_id"])
    return frame, planted


def test_models_with_planted_signal_beat_their_baselines():
    frame, planted = _movements_with_more_oddities()
    report = evaluate_models(
        supplier_delay=synthetic_shipments(signal=True),
        cash_flow=synthetic_cash_flow(),
        transaction_anomaly=frame,
        known_anomalies=[{"bank_transaction_id": key, "kind": "PLANTED"} for key in planted],
        resamples=500,
    )
    json.dumps(report)  # plain JSON, as `importau evaluate --json` prints it
    models = report["models"]
    delay = models["supplier_delay"]
    assert delay["better"] == "yes" and delay["model"] < delay["baseline"] and delay["interval"][1] < 0
    assert models["cash_flow"]["better"] == "yes"
    anomaly = models["transaction_anomaly"]["at_n_known"]
    assert anomaly["k"] == len(planted) and anomaly["better"] == "yes"
    assert anomaly["recall_by_kind"] == {"PLANTED": pytest.approx(anomaly["model"])}


def test_no_skill_is_claimed_when_delays_are_coin_flips():
    delay = evaluate_models(supplier_delay=synthetic_shipments(signal=False), resamples=500)["models"]
    assert delay["supplier_delay"]["better"] in ("undecided", "no")


def test_a_model_that_cannot_be_evaluated_says_why():
    frame, _ = synthetic_movements()
    report = evaluate_models(transaction_anomaly=frame, known_anomalies=[], resamples=100)
    assert "none of the known anomalies" in report["models"]["transaction_anomaly"]["error"]


def test_rolling_backtest_scores_more_held_out_shipments_than_one_split():
    frame = synthetic_shipments(signal=True)
    cutoffs = rolling_cutoffs(frame)
    assert all((later - earlier).days == 30 for earlier, later in zip(cutoffs, cutoffs[1:], strict=False))
    rolling, single = rolling_backtest(frame), backtest(frame)
    assert rolling.origins > 3 and rolling.n_test > single.n_test
    assert rolling.cutoff == cutoffs[0] and len(rolling.base_rates) == rolling.n_test
    assert rolling.brier < rolling.base_rate_brier
