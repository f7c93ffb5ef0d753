"""The delay-risk Pipeline: one-hot route and season, scaled history numbers, a logistic regression whose
probabilities are recalibrated by CalibratedClassifierCV (sigmoid: a few hundred shipments are too few for an
isotonic fit, which overfits below ~1,000 rows, as the scikit-learn user guide warns).

Deterministic, and nothing in it is random: the calibration folds are consecutive blocks of the shipments in key
order, not shuffled. Shuffled folds made the backtest Brier move by more than the model's whole edge over the base
rate from one seed to the next (0.1775..0.1810 over five seeds on the demo), so a lucky seed could pass the gate;
the seed is accepted for the common interface only."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ml_assets.supplier_delay.features import CATEGORICAL, KEY, LABEL, NUMERIC, labelled, model_input

if TYPE_CHECKING:  # sklearn is imported where a model is built: loading the definitions skips it
    from sklearn.pipeline import Pipeline

CALIBRATION_FOLDS = 5
# MLflow saves sklearn models with skops, which loads only types it trusts by default; these are the calibration
# internals of this Pipeline (reviewed: plain parameters and arrays). tests/ml/test_supplier_delay.py checks the list.
SKOPS_TRUSTED_TYPES = [
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.model_selection._split.StratifiedKFold",
]


def build_pipeline(seed: int = 42, folds: int = CALIBRATION_FOLDS) -> Pipeline:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    del seed  # nothing random to seed (see the module docstring)
    features = ColumnTransformer(
        [
            # categories seen fewer than 3 times share one "infrequent" column; unseen ones at scoring too
            ("categorical", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=3), CATEGORICAL),
            ("numeric", StandardScaler(), NUMERIC),
        ]
    )
    classifier = CalibratedClassifierCV(
        LogisticRegression(C=0.3, max_iter=2000),
        method="sigmoid",
        cv=StratifiedKFold(n_splits=folds),
    )
    return Pipeline([("features", features), ("classifier", classifier)])


def fit(frame: pd.DataFrame, seed: int = 42) -> Pipeline:
    """Fit on the shipments of `frame` whose outcome is known, in key order: the calibration folds are blocks of
    consecutive rows, so the same shipments read in another order must not give another model."""
    train = labelled(frame).sort_values(KEY, kind="stable")
    positives = int(train[LABEL].sum())
    folds = min(CALIBRATION_FOLDS, positives, len(train) - positives)
    if folds < 2:
        raise ValueError(f"need at least 2 late and 2 on-time shipments to train, got {positives}/{len(train)}")
    return build_pipeline(seed, folds).fit(model_input(train), train[LABEL].to_numpy())


def late_probability(model: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    """P(late) for each row of `frame`."""
    return model.predict_proba(model_input(frame))[:, 1]
