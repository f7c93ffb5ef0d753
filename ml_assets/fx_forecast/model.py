"""The FX forecaster: per horizon, a point forecast of the log return and a conformal prediction interval around it.

For each horizon h (business days) and forecast origin t, with P_t the PTAX selling rate and
y = ln(P_{t+h} / P_t):
- point: the random walk (y_hat = 0: the rate stays where it is) or, as a candidate, an sklearn Pipeline
  (StandardScaler + Ridge) on volatility-scaled momentum (log_return_kd / (volatility_20d * sqrt(k)),
  k = 1, 5, 20) predicting y / (volatility_20d * sqrt(h)). train.py serves the ridge only if it beats the random
  walk in the backtest;
- scale: a Pipeline (LinearRegression) of ln(|y - y_hat| + c) on ln(volatility_20d), ln(volatility_60d) and the
  currency: how far the rate is likely to move in h days given the recent volatility;
- interval: split conformal. The latest `calibration_days` origins with a known target are held out, the point and
  scale models fit on the earlier ones, and q_h is the ceil((n+1)(1-alpha))/n empirical quantile of
  |y - y_hat| / scale over the held-out origins. Interval: y_hat +/- q_h * scale, in rates P_t * exp(.).
Everything is closed-form (Ridge, OLS, an empirical quantile), so the same data and params give the same model;
`seed` is part of the params (logged with the run) and seeds the one random generator the fit creates, so adding a
stochastic part later keeps runs reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ml_assets.fx_forecast.features import CURRENCIES, HORIZONS

if TYPE_CHECKING:  # sklearn is imported where a model is built: loading the definitions skips it
    from sklearn.pipeline import Pipeline

POINT_SOURCES = ("random_walk", "ridge")
INPUT_COLUMNS = (
    "currency",
    "horizon",
    "ptax_sell",
    "log_return_1d",
    "log_return_5d",
    "log_return_20d",
    "volatility_20d",
    "volatility_60d",
)
OUTPUT_COLUMNS = ("horizon", "point_forecast", "lower_bound", "upper_bound")
VOLATILITY_FLOOR = 1e-6  # an unchanged stretch of quotes must not make a scale zero
MIN_FIT_ROWS = 20


@dataclass(frozen=True)
class ForecastParams:
    alpha: float = 0.10  # 90 % prediction intervals
    ridge_alpha: float = 100.0
    calibration_days: int = 250  # the latest ~year of origins calibrates the intervals ...
    calibration_fraction: float = 0.3  # ... or this share of the history when that is shorter
    min_calibration_rows: int = 40
    point_source: str = "random_walk"
    seed: int = 42

    def __post_init__(self):
        if self.point_source not in POINT_SOURCES:
            raise ValueError(f"point_source must be one of {POINT_SOURCES}")
        if not 0 < self.alpha < 1:
            raise ValueError("alpha must be in (0, 1)")


@dataclass(frozen=True)
class Design:
    """The arrays one horizon needs, row-aligned: built once, sliced by boolean masks in the backtest."""

    date: np.ndarray  # datetime64[D] forecast origin
    currency: np.ndarray
    rate: np.ndarray
    momentum: np.ndarray  # n x 3
    scale_x: np.ndarray  # n x (2 + currencies - 1)
    vol20: np.ndarray
    y: np.ndarray  # NaN where the target is not known yet
    target_date: np.ndarray  # datetime64[D], NaT where unknown

    def __len__(self) -> int:
        return len(self.date)

    def subset(self, mask: np.ndarray) -> Design:
        return Design(*(getattr(self, name)[mask] for name in self.__dataclass_fields__))


def design(frame: pd.DataFrame, h: int | None = None) -> Design:
    """Arrays of `frame` (features, with `target_h<h>`/`target_date_h<h>` when h is given)."""
    vol20 = np.maximum(frame["volatility_20d"].to_numpy(float), VOLATILITY_FLOOR)
    vol60 = np.maximum(frame["volatility_60d"].to_numpy(float), VOLATILITY_FLOOR)
    momentum = np.column_stack([frame[f"log_return_{k}d"].to_numpy(float) / (vol20 * np.sqrt(k)) for k in (1, 5, 20)])
    currency = frame["currency"].to_numpy(str)
    dummies = [(currency == code).astype(float) for code in CURRENCIES[1:]]
    scale_x = np.column_stack([np.log(vol20), np.log(vol60), *dummies])
    n = len(frame)
    if h is None:
        y, target_date = np.full(n, np.nan), np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    else:
        y = frame[f"target_h{h}"].to_numpy(float)
        target_date = pd.to_datetime(frame[f"target_date_h{h}"]).to_numpy().astype("datetime64[D]")
    if "date" in frame.columns:
        dates = pd.to_datetime(frame["date"]).to_numpy().astype("datetime64[D]")
    else:  # the served model's input: origins need no date
        dates = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    return Design(dates, currency, frame["ptax_sell"].to_numpy(float), momentum, scale_x, vol20, y, target_date)


def conformal_quantile(scores: np.ndarray, alpha: float) -> float:
    """The split-conformal quantile: the ceil((n+1)(1-alpha))-th smallest score (inf when n is too small)."""
    scores = np.sort(np.asarray(scores, float))
    rank = int(np.ceil((len(scores) + 1) * (1 - alpha)))
    return float(scores[rank - 1]) if 1 <= rank <= len(scores) else float("inf")


@dataclass
class HorizonModel:
    horizon: int
    point: Pipeline | None  # None: the random walk
    scale: Pipeline | None  # None only while fitting
    quantile: float
    calibration_rows: int

    def center(self, d: Design) -> np.ndarray:
        """The point forecast of the h-day log return."""
        if self.point is None:
            return np.zeros(len(d))
        return self.point.predict(d.momentum) * d.vol20 * np.sqrt(self.horizon)

    def spread(self, d: Design) -> np.ndarray:
        """The predicted size of |y - y_hat| (the half-width before the conformal quantile)."""
        return np.exp(self.scale.predict(d.scale_x))

    def predict_log_return(self, d: Design) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(point, lower, upper) of the h-day log return."""
        center, width = self.center(d), self.quantile * self.spread(d)
        return center, center - width, center + width


def calibration_split(d: Design, params: ForecastParams) -> tuple[Design, Design]:
    """(fit part, calibration part) of the origins with a known target; the calibration part is the latest."""
    d = d.subset(~np.isnan(d.y))
    dates = np.unique(d.date)
    if len(dates) == 0:
        raise ValueError("no origin with a known target")
    n_cal_dates = max(min(params.calibration_days, int(len(dates) * params.calibration_fraction)), 1)
    split_date = dates[-n_cal_dates]
    return d.subset(d.date < split_date), d.subset(d.date >= split_date)


def _fit_point(d: Design, h: int, params: ForecastParams) -> Pipeline | None:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    if params.point_source == "random_walk":
        return None
    pipeline = Pipeline([("scale", StandardScaler()), ("ridge", Ridge(alpha=params.ridge_alpha))])
    return pipeline.fit(d.momentum, d.y / (d.vol20 * np.sqrt(h)))


def _fit_scale(d: Design, residual: np.ndarray) -> Pipeline:
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import Pipeline

    size = np.abs(residual)
    # ln|r| explodes for the rare r ~ 0 (an unchanged quote): offset by a tenth of the typical size
    target = np.log(size + 0.1 * max(float(np.median(size)), 1e-12))
    return Pipeline([("ols", LinearRegression())]).fit(d.scale_x, target)


def fit_horizon(d: Design, h: int, params: ForecastParams) -> HorizonModel:
    """Fit one horizon on the origins of `d` whose target is known."""
    fit_part, calibration = calibration_split(d, params)
    if len(fit_part) < MIN_FIT_ROWS or len(calibration) < params.min_calibration_rows:
        raise ValueError(
            f"horizon {h}: too little history to fit and calibrate ({len(fit_part)} fit rows, {len(calibration)} "
            f"calibration rows; need {MIN_FIT_ROWS} and {params.min_calibration_rows})"
        )
    model = HorizonModel(h, _fit_point(fit_part, h, params), None, 1.0, len(calibration))
    model.scale = _fit_scale(fit_part, fit_part.y - model.center(fit_part))
    scores = np.abs(calibration.y - model.center(calibration)) / model.spread(calibration)
    model.quantile = conformal_quantile(scores, params.alpha)
    return model


@dataclass
class FxForecaster:
    """One HorizonModel per horizon; `predict` maps (currency, horizon, features) rows to rate forecasts."""

    params: ForecastParams
    horizons: dict[int, HorizonModel] = field(default_factory=dict)

    @classmethod
    def fit(cls, train: pd.DataFrame, params: ForecastParams, horizons=HORIZONS) -> FxForecaster:
        """`train` = features with targets (features.targets); only rows whose target is known are used."""
        np.random.default_rng(params.seed)  # the fit's only generator: nothing draws from it today
        return cls(params, {h: fit_horizon(design(train, h), h, params) for h in horizons})

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows of INPUT_COLUMNS -> horizon, point_forecast, lower_bound, upper_bound (BRL per unit), same order."""
        missing = [column for column in INPUT_COLUMNS if column not in frame.columns]
        if missing:
            raise ValueError(f"input lacks columns {missing}")
        frame = frame.reset_index(drop=True)
        horizon = frame["horizon"].astype("int64").to_numpy()
        point, lower, upper = (np.full(len(frame), np.nan) for _ in range(3))
        for h in np.unique(horizon):
            if int(h) not in self.horizons:
                raise ValueError(f"no model for horizon {h} (trained: {sorted(self.horizons)})")
            rows = horizon == h
            d = design(frame[rows])
            center, low, high = self.horizons[int(h)].predict_log_return(d)
            point[rows], lower[rows], upper[rows] = (d.rate * np.exp(v) for v in (center, low, high))
        return pd.DataFrame({"horizon": horizon, "point_forecast": point, "lower_bound": lower, "upper_bound": upper})


def scoring_input(features: pd.DataFrame, horizons=HORIZONS) -> pd.DataFrame:
    """The model input for the latest feature row of each currency: one row per currency x horizon."""
    latest = features.sort_values(["currency", "date"]).groupby("currency", sort=True).tail(1)
    expanded = latest.loc[latest.index.repeat(len(horizons))].reset_index(drop=True)
    expanded["horizon"] = np.tile(np.asarray(horizons, dtype="int64"), len(latest))
    return expanded
