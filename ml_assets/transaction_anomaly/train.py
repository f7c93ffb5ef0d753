"""Anomaly entry points: fit + evaluate (-> TrainingResult) and score (-> rows of ml.transaction_anomaly__scores).

The isolation forest is unsupervised: it is fitted on every movement, and the known anomalies (the demo's planted
ones) only grade its ranking. The promotion metric is precision at k = the number of known anomalies (higher is
better) against the |amount z-score| ranking. Without known anomalies the model is still fitted and registered,
but has no metric to be promoted on.
"""

import numpy as np
import pandas as pd

from ml_assets.common.scores import ScoresTable
from ml_assets.common.training import TrainingResult
from ml_assets.transaction_anomaly import plots
from ml_assets.transaction_anomaly.data import TrainingData
from ml_assets.transaction_anomaly.evaluation import AT_KNOWN, KS, AnomalyEvaluation, evaluate_scores
from ml_assets.transaction_anomaly.features import FEATURES, KEY, model_input
from ml_assets.transaction_anomaly.model import SKOPS_TRUSTED_TYPES, anomaly_score, fit

MODEL_NAME = "transaction_anomaly"
PROMOTION_METRIC = AT_KNOWN
HIGHER_IS_BETTER = True

SCORES_TABLE = ScoresTable(
    model_name=MODEL_NAME,
    columns=(
        ("bank_transaction_id", "String"),
        ("booking_date", "Date"),
        ("anomaly_score", "Float64"),
        ("is_anomaly", "Bool"),
    ),
    order_by=("booking_date", "bank_transaction_id"),
    replace_by=(),  # every movement is rescored by each version: the table holds the latest scoring only
)


def _notes(evaluation: AnomalyEvaluation) -> list[str]:
    model, base, flags = evaluation.model, evaluation.baseline, evaluation.red_flags
    key = PROMOTION_METRIC
    verdict = "beats" if model[key] > base[key] else "does NOT beat"
    ranks = ", ".join(str(rank) for rank in sorted(evaluation.ranks.values()))
    return [
        f"{evaluation.n_known_found} known anomalies among {evaluation.n_movements} movements; the model ranks them "
        f"{ranks}.",
        f"{key} {model[key]:.2f} vs {base[key]:.2f} for |amount z-score|: the model {verdict} the baseline.",
        f"Reference (not gated): counting red flags gives {key} {flags[key]:.2f}, precision_at_4 "
        f"{flags['precision_at_4']:.2f} (model {model['precision_at_4']:.2f}): the hand-made flags do much of "
        "the work.",
        "The forest never sees the labels, but it is fitted on the same movements it ranks (unsupervised), so this "
        "is an in-sample ranking, not a forecast of next year's anomalies.",
    ]


def train(data: TrainingData, seed: int = 42) -> TrainingResult:
    frame = data.features
    model = fit(frame, seed)
    scores = anomaly_score(model, frame)
    example = model_input(frame.head(5)).reset_index(drop=True)
    params = {"seed": seed, "features": ",".join(FEATURES), "estimator": "IsolationForest(300 trees, max_samples=1.0)"}
    if not data.known_anomaly_ids:
        return TrainingResult(
            model=model,
            input_example=example,
            metrics={"n_movements": float(len(frame))},
            baseline_metrics={},
            params=params,
            notes=["No known anomalies (no demo ground truth): nothing to evaluate, so no version can be promoted."],
            skops_trusted_types=SKOPS_TRUSTED_TYPES,
        )
    evaluation = evaluate_scores(frame, scores, data.known_anomaly_ids, KS)
    keys = frame[KEY].astype(str)
    known_scores = scores[keys.isin(set(data.known_anomaly_ids)).to_numpy()]
    return TrainingResult(
        model=model,
        input_example=example,
        metrics=evaluation.metrics(),
        baseline_metrics=evaluation.baseline_metrics(),
        params={**params, "known_anomalies": len(data.known_anomaly_ids)},
        figures={"precision_at_k": plots.evaluation_chart(evaluation, scores, known_scores, KS)},
        notes=_notes(evaluation),
        tables={"known_anomaly_ranks": pd.DataFrame(sorted(evaluation.ranks.items()), columns=[KEY, "rank"])},
        skops_trusted_types=SKOPS_TRUSTED_TYPES,
    )


def _pipeline(model):
    """The sklearn Pipeline inside a pyfunc-loaded champion (or the Pipeline itself)."""
    return model.get_raw_model() if hasattr(model, "get_raw_model") else model


def score(model, frame: pd.DataFrame) -> list[dict]:
    """Rows of ml.transaction_anomaly__scores: every movement's score, and the forest's own outlier flag
    (score above 0.5, `contamination="auto"`)."""
    if frame.empty:
        return []
    pipeline = _pipeline(model)
    scores = anomaly_score(pipeline, frame)
    flags = pipeline.predict(model_input(frame)) == -1
    return [
        {
            "bank_transaction_id": str(row[KEY]),
            "booking_date": pd.Timestamp(row["booking_date"]).date(),
            "anomaly_score": float(value),
            "is_anomaly": bool(flag),
        }
        for (_, row), value, flag in zip(frame.iterrows(), scores, np.asarray(flags), strict=True)
    ]
