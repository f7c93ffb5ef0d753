"""Walk-forward backtest of the cash-flow forecast against seasonal-naive forecasts.

At each origin the model is refitted on the rows whose target day was already observed at that origin, then
forecasts the next `HORIZON` days; the baselines repeat the same weekday of the last observed week
(`seasonal_naive_1w`) or average it over the last four weeks (`seasonal_naive_4w`). The gate compares the model
with the better (lower MAE) of the two, so it never wins against a straw man. One more reference is reported but
not gated on: `scheduled_dues`, the receivables minus the payables due that day, exactly as the ERP has them
("everyone pays on the due date").
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ml_assets.cash_flow.features import HORIZON, LABEL, ORIGIN, SCHEDULED, TARGET_DATE, daily_series, model_input
from ml_assets.cash_flow.model import fit, forecast

HORIZON_BUCKETS = ((1, 7), (8, 30), (31, 90))


def mean_absolute_error(actual, predicted) -> float:
    a, p = np.asarray(actual, dtype=float), np.asarray(predicted, dtype=float)
    if a.size == 0:
        raise ValueError("nothing to score")
    return float(np.mean(np.abs(a - p)))


def seasonal_lags(series: pd.Series, origin: date, targets, season_days: int = 7, seasons: int = 1) -> np.ndarray:
    """For each target day after `origin`, the movement on its weekday in each of the last `seasons` observed
    weeks: an array of len(targets) rows x `seasons` columns, the most recent week first.

    Lag k (0, 1, ...) of target d is d - 7 * (ceil((d - origin) / 7) + k) days, always on or before the origin,
    so the forecast only uses what was known there. A lag day without an observation counts as zero movement.
    """
    origin_ts = pd.Timestamp(origin)
    target_ts = pd.to_datetime(pd.Series(targets)).reset_index(drop=True)
    steps = -(-(target_ts - origin_ts).dt.days // season_days)  # ceil
    lags = [
        series.reindex(target_ts - pd.to_timedelta(season_days * (steps + k), unit="D")).fillna(0.0).to_numpy()
        for k in range(seasons)
    ]
    return np.column_stack(lags) if lags else np.empty((len(target_ts), 0))


def seasonal_naive(series: pd.Series, origin: date, targets, season_days: int = 7, seasons: int = 1) -> np.ndarray:
    """For each target day after `origin`: the mean of the same weekday over the last `seasons` observed weeks
    (`seasonal_lags`)."""
    return seasonal_lags(series, origin, targets, season_days, seasons).mean(axis=1)


def scheduled_dues(frame: pd.DataFrame) -> np.ndarray:
    """Receivables minus payables due on the target day, as the ERP knew them at the origin."""
    features = model_input(frame)
    receivable, payable = SCHEDULED
    return (features[receivable] - features[payable]).to_numpy()


@dataclass(frozen=True)
class WalkForward:
    origins: list[date]
    n_forecasts: int
    mae: float
    mae_seasonal_naive_1w: float
    mae_seasonal_naive_4w: float
    mae_scheduled_dues: float
    mae_by_horizon: dict[str, float] = field(default_factory=dict)
    baseline_mae_by_horizon: dict[str, float] = field(default_factory=dict)
    predictions: pd.DataFrame | None = None  # origin, target, actual, model, baselines

    @property
    def baseline_mae(self) -> float:
        return min(self.mae_seasonal_naive_1w, self.mae_seasonal_naive_4w)

    @property
    def baseline_name(self) -> str:
        return "seasonal_naive_1w" if self.mae_seasonal_naive_1w <= self.mae_seasonal_naive_4w else "seasonal_naive_4w"

    @property
    def baseline_seasons(self) -> int:
        """How many weeks the better seasonal naive averages: 1 or 4."""
        return 1 if self.baseline_name == "seasonal_naive_1w" else 4

    @property
    def mae_ratio(self) -> float:
        """Model MAE / best baseline MAE: below 1 the model wins."""
        return self.mae / self.baseline_mae if self.baseline_mae > 0 else float("nan")

    def metrics(self) -> dict[str, float]:
        out = {"mae": self.mae, "mae_ratio": self.mae_ratio, "n_forecasts": self.n_forecasts}
        out.update({f"mae_h{bucket}": value for bucket, value in self.mae_by_horizon.items()})
        return out

    def baseline_metrics(self) -> dict[str, float]:
        out = {
            "mae": self.baseline_mae,
            "mae_ratio": 1.0,
            "mae_seasonal_naive_1w": self.mae_seasonal_naive_1w,
            "mae_seasonal_naive_4w": self.mae_seasonal_naive_4w,
            "mae_scheduled_dues": self.mae_scheduled_dues,
        }
        out.update({f"mae_h{bucket}": value for bucket, value in self.baseline_mae_by_horizon.items()})
        return out


def walk_forward_origins(frame: pd.DataFrame, step_days: int = 14, warmup_days: int = 90) -> list[date]:
    """Origins every `step_days` from `warmup_days` after the first observed day, while the whole horizon after
    the origin has been observed."""
    observed = pd.to_datetime(frame.loc[frame[LABEL].notna(), TARGET_DATE])
    first, last = observed.min().date(), observed.max().date()
    origin, origins = first + timedelta(days=warmup_days), []
    while origin + timedelta(days=HORIZON) <= last:
        origins.append(origin)
        origin += timedelta(days=step_days)
    return origins


def _bucket_mae(frame: pd.DataFrame, column: str) -> dict[str, float]:
    out = {}
    for low, high in HORIZON_BUCKETS:
        rows = frame[(frame["horizon_days"] >= low) & (frame["horizon_days"] <= high)]
        if not rows.empty:
            out[f"{low}_{high}"] = mean_absolute_error(rows["actual"], rows[column])
    return out


def walk_forward(frame: pd.DataFrame, origins: list[date] | None = None, seed: int = 42) -> WalkForward:
    origins = origins if origins is not None else walk_forward_origins(frame)
    if not origins:
        raise ValueError("no origin with a fully observed horizon: not enough history for a walk-forward")
    series = daily_series(frame)
    origin_dates = pd.to_datetime(frame[ORIGIN])
    target_dates = pd.to_datetime(frame[TARGET_DATE])
    parts = []
    for origin in origins:
        cut = pd.Timestamp(origin)
        train = frame[(target_dates <= cut) & frame[LABEL].notna()]
        test = frame[(origin_dates == cut) & frame[LABEL].notna()]
        if train.empty or test.empty:
            continue
        model = fit(train, seed)
        parts.append(
            pd.DataFrame(
                {
                    "origin_date": cut,
                    "target_date": pd.to_datetime(test[TARGET_DATE]).to_numpy(),
                    "horizon_days": test["horizon_days"].astype(int).to_numpy(),
                    "actual": test[LABEL].astype(float).to_numpy(),
                    "model": forecast(model, test),
                    "seasonal_naive_1w": seasonal_naive(series, origin, test[TARGET_DATE], seasons=1),
                    "seasonal_naive_4w": seasonal_naive(series, origin, test[TARGET_DATE], seasons=4),
                    "scheduled_dues": scheduled_dues(test),
                }
            )
        )
    if not parts:
        raise ValueError("no origin had both training rows and observed targets")
    predictions = pd.concat(parts, ignore_index=True)
    naive_1w = mean_absolute_error(predictions["actual"], predictions["seasonal_naive_1w"])
    naive_4w = mean_absolute_error(predictions["actual"], predictions["seasonal_naive_4w"])
    best = "seasonal_naive_1w" if naive_1w <= naive_4w else "seasonal_naive_4w"
    return WalkForward(
        origins=[pd.Timestamp(o).date() for o in predictions["origin_date"].unique()],
        n_forecasts=len(predictions),
        mae=mean_absolute_error(predictions["actual"], predictions["model"]),
        mae_seasonal_naive_1w=naive_1w,
        mae_seasonal_naive_4w=naive_4w,
        mae_scheduled_dues=mean_absolute_error(predictions["actual"], predictions["scheduled_dues"]),
        mae_by_horizon=_bucket_mae(predictions, "model"),
        baseline_mae_by_horizon=_bucket_mae(predictions, best),
        predictions=predictions,
    )
