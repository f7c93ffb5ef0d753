"""The delay-risk Pipeline: one-hot route and season, scaled history numbers, a logistic regression whose
probabilities are recalibrated by CalibratedClassifierCV (sigmoid: a few hundred shipments are too few for an
isotonic fit, which overfits below ~1,000 rows, as the scikit-learn user guide warns). Deterministic for a seed."""

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ml_assets.supplier_delay.features import CATEGORICAL, LABEL, NUMERIC, labelled, model_input

CALIBRATION_FOLDS = 5


def build_pipeline(seed: int = 42, folds: int = CALIBRATION_FOLDS) -> Pipeline:
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
        cv=StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed),
    )
    return Pipeline([("features", features), ("classifier", classifier)])


def fit(frame: pd.DataFrame, seed: int = 42) -> Pipeline:
    """Fit on the shipments of `frame` whose outcome is known."""
    train = labelled(frame)
    positives = int(train[LABEL].sum())
    folds = min(CALIBRATION_FOLDS, positives, len(train) - positives)
    if folds < 2:
        raise ValueError(f"need at least 2 late and 2 on-time shipments to train, got {positives}/{len(train)}")
    return build_pipeline(seed, folds).fit(model_input(train), train[LABEL].to_numpy())


def late_probability(model: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    """P(late) for each row of `frame`."""
    return model.predict_proba(model_input(frame))[:, 1]
