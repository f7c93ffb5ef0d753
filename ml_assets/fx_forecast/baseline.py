"""The FX baseline as a servable forecaster: the random walk with empirical-quantile intervals.

The backtest grades the model's intervals against this baseline (backtest.py): point = today's PTAX (the random
walk), interval = today's PTAX x exp of the alpha/2 and 1 - alpha/2 empirical quantiles of the currency's h-day
log returns over the calibration window the model uses (its latest origins with a known target). While no model
beats it, it serves (ml_assets/common/baseline.py). `quantile_bounds` is the one computation of those quantiles:
the backtest takes them per fold, `RandomWalkQuantiles.fit` on the whole history. No Dagster.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml_assets.common.baseline import ServedBaseline
from ml_assets.fx_forecast.features import HORIZONS
from ml_assets.fx_forecast.model import INPUT_COLUMNS, Design, ForecastParams, calibration_split, design

NAME = "random_walk_quantiles"


def quantile_bounds(d: Design, params: ForecastParams) -> dict[str, tuple[float, float]]:
    """Per currency, the alpha/2 and 1 - alpha/2 quantiles of the h-day log return over the calibration window of
    `d` (the latest origins with a known target, as the model's conformal calibration takes them)."""
    _, calibration = calibration_split(d, params)
    bounds = {}
    for currency in np.unique(calibration.currency):
        returns = calibration.y[calibration.currency == currency]
        low, high = np.quantile(returns, [params.alpha / 2, 1 - params.alpha / 2])
        bounds[str(currency)] = (float(low), float(high))
    return bounds


@dataclass
class RandomWalkQuantiles:
    """Per horizon and currency, the bounds of the h-day log return; `predict` answers like FxForecaster."""

    params: ForecastParams
    bounds: dict[int, dict[str, tuple[float, float]]] = field(default_factory=dict)

    @classmethod
    def fit(cls, data: pd.DataFrame, params: ForecastParams, horizons=HORIZONS) -> "RandomWalkQuantiles":
        """`data` = features with targets (features.targets); only rows whose target is known are used."""
        return cls(params, {h: quantile_bounds(design(data, h), params) for h in horizons})

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows of INPUT_COLUMNS -> horizon, point_forecast (today's PTAX), lower_bound, upper_bound, same order."""
        missing = [column for column in INPUT_COLUMNS if column not in frame.columns]
        if missing:
            raise ValueError(f"input lacks columns {missing}")
        frame = frame.reset_index(drop=True)
        rate = frame["ptax_sell"].astype(float).to_numpy()
        low, high = np.full(len(frame), np.nan), np.full(len(frame), np.nan)
        keys = zip(frame["currency"].astype(str), frame["horizon"].astype(int), strict=True)
        for i, (currency, h) in enumerate(keys):
            if currency not in self.bounds.get(h, {}):
                raise ValueError(f"no baseline interval for {currency} at horizon {h}")
            low[i], high[i] = self.bounds[h][currency]
        return pd.DataFrame(
            {
                "horizon": frame["horizon"].astype("int64").to_numpy(),
                "point_forecast": rate,
                "lower_bound": rate * np.exp(low),
                "upper_bound": rate * np.exp(high),
            }
        )


def served_baseline(data: pd.DataFrame, params: ForecastParams, example: pd.DataFrame) -> ServedBaseline:
    """The baseline fitted on the whole history, as a pyfunc; `example` = a few rows of the model's input."""
    from ml_assets.fx_forecast.pyfunc import FxForecastModel

    forecaster = RandomWalkQuantiles.fit(data, params)
    return ServedBaseline(NAME, FxForecastModel(forecaster), example, forecaster.predict(example))
