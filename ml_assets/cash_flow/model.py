"""The cash-flow Pipeline: a robust linear regression (Huber loss) of the day's net movement on the receivables,
payables and customs-bound imports due that day and the business-day flag. A few huge FX payments and customs
debits dominate the squared error, so Huber keeps them from dragging every coefficient; trees did worse in the
walk-forward (they forecast the typical day, close to zero, and miss the scheduled lumps). Deterministic: L-BFGS
from a fixed start, no sampling (the seed is accepted for the common interface)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ml_assets.cash_flow.features import FEATURES, LABEL, ORIGIN, TARGET_DATE, model_input

if TYPE_CHECKING:  # sklearn is imported where a model is built: loading the definitions skips it
    from sklearn.pipeline import Pipeline


def build_pipeline(seed: int = 42) -> Pipeline:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import HuberRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    del seed  # nothing random to seed
    return Pipeline(
        [
            ("features", ColumnTransformer([("numeric", StandardScaler(), FEATURES)])),
            ("regressor", HuberRegressor(epsilon=1.35, alpha=1e-4, max_iter=1000)),
        ]
    )


def fit(frame: pd.DataFrame, seed: int = 42) -> Pipeline:
    """Fit on the rows of `frame` whose target day has been observed (in key order, whatever order they came in)."""
    train = frame[frame[LABEL].notna()].sort_values([ORIGIN, TARGET_DATE], kind="stable")
    if train.empty:
        raise ValueError("no observed target day to train on")
    return build_pipeline(seed).fit(model_input(train), train[LABEL].astype(float).to_numpy())


def forecast(model: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    return model.predict(model_input(frame))
