"""The cash-flow baseline as a servable forecaster: the better seasonal naive of the walk-forward.

The gate compares the model with the better of two seasonal naives (`evaluation.py`); while no model beats it,
that naive serves (ml_assets/common/baseline.py). It forecasts a target day from the movements on the same weekday
in the last observed weeks, which the scoring rows do not carry: `seasonal_input` adds them as columns
(`LAG_COLUMNS`, computed from the labelled rows of the same features by `evaluation.seasonal_lags`, so they are
exactly what the backtest used), and the pyfunc (`pyfunc.py`) averages the first one or four. No Dagster.
"""

import numpy as np
import pandas as pd

from ml_assets.cash_flow.evaluation import WalkForward, seasonal_lags
from ml_assets.cash_flow.features import ORIGIN, TARGET_DATE, daily_series
from ml_assets.common.baseline import ServedBaseline

MAX_SEASONS = 4  # the 4-week naive reads the most weeks
# the movement on the target day's weekday in the k-th most recent week on or before the origin (BRL), k = 1..4
LAG_COLUMNS = tuple(f"seasonal_lag_{k}_brl" for k in range(1, MAX_SEASONS + 1))


def seasonal_input(features: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """`LAG_COLUMNS` for each of `rows` (origin x target rows of `features`), indexed like `rows`.

    The lags come from every labelled row of `features`; each is on or before its row's origin."""
    series = daily_series(features)
    lags = np.zeros((len(rows), MAX_SEASONS))
    origins = pd.to_datetime(rows[ORIGIN]).to_numpy()
    for origin in np.unique(origins):
        at_origin = origins == origin
        targets = rows.loc[at_origin, TARGET_DATE]
        lags[at_origin] = seasonal_lags(series, pd.Timestamp(origin).date(), targets, seasons=MAX_SEASONS)
    return pd.DataFrame(lags, columns=list(LAG_COLUMNS), index=rows.index)


def served_baseline(result: WalkForward, features: pd.DataFrame, latest: pd.DataFrame) -> ServedBaseline:
    """The walk-forward's better seasonal naive as a pyfunc, its example from the rows of the latest origin."""
    from ml_assets.cash_flow.pyfunc import SeasonalNaiveModel

    model = SeasonalNaiveModel(result.baseline_seasons)
    example = seasonal_input(features, latest.head(5)).reset_index(drop=True)[model.columns]
    return ServedBaseline(result.baseline_name, model, example, model.forecast(example))
