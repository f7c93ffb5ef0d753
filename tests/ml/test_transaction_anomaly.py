"""Transaction anomalies, pure code: precision@k and recall@k by hand, a stable ranking, determinism, a forest that
finds planted oddities a |z-score| ranking misses, the ground-truth reader, and the rows it scores. The run on the
demo company is in tests/marts/test_ml_models.py."""

import json

import numpy as np
import pytest

from ml_assets.transaction_anomaly.data import TrainingData
from ml_assets.transaction_anomaly.evaluation import evaluate, precision_at_k, ranking, recall_at_k
from ml_assets.transaction_anomaly.labels import known_anomaly_ids
from ml_assets.transaction_anomaly.model import SKOPS_TRUSTED_TYPES, anomaly_score, fit
from ml_assets.transaction_anomaly.train import PROMOTION_METRIC, SCORES_TABLE, score, train
from tests.ml.synthetic import synthetic_movements


def test_precision_and_recall_at_k_by_hand():
    scores = [0.9, 0.1, 0.8, 0.7, 0.2]
    labels = [True, False, False, True, True]
    # top 2: rows 0 and 2 -> one anomaly; top 3: rows 0, 2, 3 -> two
    assert precision_at_k(scores, labels, 2) == 0.5
    assert precision_at_k(scores, labels, 3) == pytest.approx(2 / 3)
    assert recall_at_k(scores, labels, 3) == pytest.approx(2 / 3)
    assert recall_at_k(scores, labels, 5) == 1.0
    with pytest.raises(ValueError):
        precision_at_k(scores, labels, 0)


def test_ranking_breaks_ties_by_key():
    assert ranking([0.5, 0.9, 0.5], ["b", "z", "a"]).tolist() == [1, 2, 0]


def test_forest_is_deterministic_for_a_seed_and_ignores_row_order():
    frame, _ = synthetic_movements()
    scores = anomaly_score(fit(frame, seed=3), frame)
    assert np.array_equal(scores, anomaly_score(fit(frame.sample(frac=1.0, random_state=1), seed=3), frame))
    assert not np.array_equal(scores, anomaly_score(fit(frame, seed=4), frame))  # the seed does matter


def test_the_saved_model_needs_only_the_reviewed_skops_types():
    import skops.io

    frame, _ = synthetic_movements(n=100)
    untrusted = skops.io.get_untrusted_types(data=skops.io.dumps(fit(frame)))
    assert set(untrusted) <= set(SKOPS_TRUSTED_TYPES)


def test_forest_finds_the_planted_oddities_the_zscore_baseline_misses():
    frame, planted = synthetic_movements()
    evaluation = evaluate(frame, planted)
    assert evaluation.model["precision_at_4"] >= 0.75  # at least 3 of the top 4
    assert evaluation.model["recall_at_10"] == 1.0
    assert evaluation.baseline["recall_at_10"] < 1.0  # their amounts are ordinary
    assert sorted(evaluation.ranks) == planted and max(evaluation.ranks.values()) <= 10


def test_known_anomaly_ids_come_from_the_ground_truth_file(tmp_path):
    path = tmp_path / "demo" / "ground_truth.json"
    assert known_anomaly_ids(path) == []  # production: no file
    path.parent.mkdir()
    path.write_text(
        json.dumps(
            {
                "anomalies": [
                    {"kind": "ODD_TIMING", "bank_transaction_id": "b"},
                    {"kind": "UNKNOWN_COUNTERPARTY", "bank_transaction_id": "a"},
                    {"kind": "OTHER", "bank_transaction_id": None},
                ]
            }
        )
    )
    assert known_anomaly_ids(path) == ["a", "b"]


def test_train_and_score_every_movement():
    frame, planted = synthetic_movements()
    result = train(TrainingData(frame, planted), seed=42)
    assert result.metrics[PROMOTION_METRIC] > result.baseline_metrics[PROMOTION_METRIC]
    assert "precision_at_k" in result.figures
    unlabelled = train(TrainingData(frame, []), seed=42)
    assert PROMOTION_METRIC not in unlabelled.metrics  # nothing to evaluate: the promotion will refuse
    rows = score(result.model, frame)
    assert [row["bank_transaction_id"] for row in rows] == frame["bank_transaction_id"].tolist()
    assert list(rows[0]) == [name for name, _ in SCORES_TABLE.columns]
    flagged = {row["bank_transaction_id"] for row in rows if row["is_anomaly"]}
    assert set(planted) <= flagged and len(flagged) < len(frame) // 10
