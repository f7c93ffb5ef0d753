"""Delay-risk entry points: train + backtest (-> TrainingResult) and score (-> rows of ml.supplier_delay__scores).

The rolling backtest refits every 30 days on the outcomes known by then and scores the shipments departing until
the next refit; the served model is then refitted on every known outcome. The promotion metric is the backtest
Brier score (lower is better) against the base rate's Brier on the same shipments.
"""

import pandas as pd

from ml_assets.common.scores import ScoresTable
from ml_assets.common.training import TrainingResult
from ml_assets.supplier_delay import plots
from ml_assets.supplier_delay.evaluation import Backtest, rolling_backtest
from ml_assets.supplier_delay.features import FEATURES, KEY, labelled, model_input
from ml_assets.supplier_delay.model import SKOPS_TRUSTED_TYPES, fit, late_probability

MODEL_NAME = "supplier_delay"
PROMOTION_METRIC = "brier"
HIGHER_IS_BETTER = False

SCORES_TABLE = ScoresTable(
    model_name=MODEL_NAME,
    columns=(
        ("shipment_id", "String"),
        ("supplier_id", "String"),
        ("as_of_date", "Date"),
        ("late_probability", "Float64"),
    ),
    order_by=("as_of_date", "shipment_id"),
    replace_by=("as_of_date",),
)


def _notes(result: Backtest) -> list[str]:
    verdict = (
        f"beats the base rate (Brier skill {result.brier_skill:+.3f})"
        if result.brier < result.base_rate_brier
        else f"does NOT beat the base rate (Brier skill {result.brier_skill:+.3f})"
    )
    low, high = result.brier_difference_interval
    evidence = (
        "contains 0: these shipments cannot tell the model from the base rate"
        if low <= 0 <= high
        else ("lies below 0: the model is better" if high < 0 else "lies above 0: the model is worse")
    )
    return [
        f"Rolling backtest: from {result.cutoff} (first fit on {result.n_train} shipments), refitted at "
        f"{result.origins} monthly cutoffs on the outcomes known by then, it scored the {result.n_test} shipments "
        f"that departed from then on ({result.test_late_rate:.1%} of them late).",
        f"Brier {result.brier:.4f} vs {result.base_rate_brier:.4f} for the base rate "
        f"(the late share known at each cutoff, {result.base_rate:.1%} on average): the model {verdict}.",
        f"95 % bootstrap interval of the Brier difference [{low:+.4f}, {high:+.4f}] {evidence}.",
    ]


def train(features: pd.DataFrame, seed: int = 42) -> TrainingResult:
    """Backtest, then fit on every known outcome; `features` as ml.ml_supplier_delay__features has them."""
    result = rolling_backtest(features, seed=seed)
    model = fit(features, seed)
    known = labelled(features)
    return TrainingResult(
        model=model,
        input_example=model_input(known.head(5)).reset_index(drop=True),
        metrics=result.metrics(),
        baseline_metrics=result.baseline_metrics(),
        params={
            "seed": seed,
            "cutoff": str(result.cutoff),
            "features": ",".join(FEATURES),
            "trained_on": len(known),
            "estimator": "LogisticRegression(C=0.3) + CalibratedClassifierCV(sigmoid)",
        },
        figures={"reliability_curve": plots.reliability_curve(result)},
        notes=_notes(result),
        tables={"reliability": pd.DataFrame(result.reliability)},
        skops_trusted_types=SKOPS_TRUSTED_TYPES,
    )


def _pipeline(model):
    """The sklearn Pipeline inside a pyfunc-loaded champion (or the Pipeline itself)."""
    return model.get_raw_model() if hasattr(model, "get_raw_model") else model


def score(model, features: pd.DataFrame) -> list[dict]:
    """Rows of ml.supplier_delay__scores: every open shipment, P(late), as of the ERP snapshot."""
    open_shipments = features[features["is_open"].astype(bool)]
    if open_shipments.empty:
        return []
    probabilities = late_probability(_pipeline(model), open_shipments)
    return [
        {
            "shipment_id": str(row[KEY]),
            "supplier_id": str(row["supplier_id"]),
            "as_of_date": pd.Timestamp(row["data_as_of_date"]).date(),
            "late_probability": float(p),
        }
        for (_, row), p in zip(open_shipments.iterrows(), probabilities, strict=True)
    ]
