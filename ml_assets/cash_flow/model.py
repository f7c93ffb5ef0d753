"""The cash-flow Pipeline: a robust linear regression (Huber loss) of the CHANGE from the 4-week seasonal naive.

On a business day the forecast is `naive_level_4w + correction`, the correction a Huber regression on the
receivables, payables and customs-bound imports due on the target day, the business-day flag and the naive itself
(`features.model_input`); on a day the bank does not work it is the part of the naive from closed lag days.
Predicting the change rather than the level keeps the naive's steady level (a large company's thousands of small
flows) and lets the scheduled amounts move it; where the past weeks say little (a small company's lumps), the
naive's own coefficient can take it out. The L2 penalty on the standardised inputs shrinks the correction towards
zero, i.e. towards the naive; it is chosen at each fit among ALPHAS on the training rows' own last 90 days.
A few huge FX payments and customs debits dominate the squared error, so Huber keeps them from dragging every
coefficient. Deterministic: L-BFGS from a fixed start, no sampling.

The fitted Pipeline (what MLflow stores and serves) predicts the correction; `predict_inputs` adds the naive.
"""

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.linear_model import HuberRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ml_assets.cash_flow.features import FEATURES, LABEL, NAIVE, ORIGIN, TARGET_DATE, has_history, model_input

# L2 penalties on the standardised inputs tried at each fit: the shrinkage of the correction towards the naive.
# The largest leaves little more than a constant correction.
ALPHAS = (1.0, 100.0, 10_000.0)
VALIDATION_DAYS = 90  # the most recent target days of the training rows that choose the penalty


def build_pipeline(seed: int = 42, alpha: float = ALPHAS[0]) -> Pipeline:
    """Inputs and the correction both standardised, so a penalty means the same at any company size."""
    del seed  # nothing random to seed
    huber = TransformedTargetRegressor(
        regressor=HuberRegressor(epsilon=1.35, alpha=alpha, max_iter=1000), transformer=StandardScaler()
    )
    return Pipeline([("features", ColumnTransformer([("numeric", StandardScaler(), FEATURES)])), ("regressor", huber)])


def training_rows(frame: pd.DataFrame) -> pd.Series:
    """Rows to learn from: a business-day target observed, and at least one naive lag day with bank data."""
    business = pd.to_numeric(frame["target_is_business_day"], errors="coerce").fillna(0).astype(bool)
    return frame[LABEL].notna() & business & has_history(frame)


def choose_alpha(inputs: pd.DataFrame, actual: np.ndarray, seed: int = 42) -> float:
    """The penalty whose correction did best on the training rows' own last VALIDATION_DAYS target days (origins
    after the cut, fitted on the target days up to it): chosen inside the training data, never on what it forecasts.
    Too little data for a split: the largest penalty."""
    target = inputs.attrs.get("target_dates")
    if target is None:
        return ALPHAS[-1]
    target, origin = pd.to_datetime(pd.Series(target)), pd.to_datetime(pd.Series(inputs.attrs["origin_dates"]))
    cut = target.max() - pd.Timedelta(days=VALIDATION_DAYS)
    fit_rows, check_rows = (target <= cut).to_numpy(), (origin > cut).to_numpy()
    if fit_rows.sum() < 30 * 7 or check_rows.sum() < 7:
        return ALPHAS[-1]
    residual = actual - inputs[NAIVE].to_numpy()
    errors = []
    for alpha in ALPHAS:
        model = build_pipeline(seed, alpha).fit(inputs[fit_rows][FEATURES], residual[fit_rows])
        errors.append(np.mean(np.abs(residual[check_rows] - model.predict(inputs[check_rows][FEATURES]))))
    return ALPHAS[int(np.argmin(errors))]


def fit_inputs(inputs: pd.DataFrame, actual, seed: int = 42) -> Pipeline:
    """Fit on precomputed `model_input` rows and their observed movements, the penalty chosen by `choose_alpha`
    when `inputs.attrs` carries the rows' `origin_dates` and `target_dates` (`with_dates`)."""
    if len(inputs) == 0:
        raise ValueError("no observed target day with a naive behind it to train on")
    actual = np.asarray(actual, dtype=float)
    alpha = choose_alpha(inputs, actual, seed)
    residual = actual - inputs[NAIVE].to_numpy()
    return build_pipeline(seed, alpha).fit(inputs[FEATURES], residual)


def with_dates(inputs: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """`inputs` carrying the origin and target dates of `frame`'s rows (same rows, same order) in `attrs`."""
    dated = inputs.copy()
    dated.attrs["origin_dates"] = pd.to_datetime(frame[ORIGIN]).to_numpy()
    dated.attrs["target_dates"] = pd.to_datetime(frame[TARGET_DATE]).to_numpy()
    return dated


def fit(frame: pd.DataFrame, seed: int = 42) -> Pipeline:
    """Fit on the labelled rows of `frame` with a full naive history, in key order (whatever order they came in)."""
    ordered = frame.sort_values([ORIGIN, TARGET_DATE], kind="stable")
    inputs = model_input(ordered)
    rows = training_rows(ordered).to_numpy()
    return fit_inputs(with_dates(inputs[rows], ordered[rows]), ordered.loc[rows, LABEL].astype(float).to_numpy(), seed)


def predict_inputs(model, inputs: pd.DataFrame) -> np.ndarray:
    """For precomputed `model_input` rows (`model`: the Pipeline or its pyfunc): on a business day the naive plus
    the model's correction; on a day the bank does not work, the part of the naive that came from lag days that
    were closed too (a weekend repeats past weekends; a holiday on a weekday moves nothing)."""
    correction = np.asarray(model.predict(inputs[FEATURES]), dtype=float).reshape(-1)
    naive = inputs[NAIVE].to_numpy()
    business = inputs["target_is_business_day"].to_numpy() > 0
    return np.where(business, naive + correction, naive * (1.0 - inputs["lag_business_day_share"].to_numpy()))


def forecast(model, frame: pd.DataFrame) -> np.ndarray:
    """The forecast for every row of `frame`; the rows' history (earlier target days) must be in `frame` too."""
    return predict_inputs(model, model_input(frame))
