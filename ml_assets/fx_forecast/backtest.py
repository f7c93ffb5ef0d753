"""Walk-forward backtest of the FX forecaster against the random walk, over the dates it never trained on.

Folds: the first forecast origin is the `min_train_dates`-th business day; every `step` business days the models
are refitted on the origins whose h-day target was already known (target date < the fold's first origin), then
forecast every origin of the next `step` days. Nothing from the future leaks in: features are as of the origin,
targets are only used once they are in the past.

The baseline is the random walk (tomorrow = today, y_hat = 0), with the interval a forecaster without a model would
give: the empirical alpha/2 and 1-alpha/2 quantiles of the currency's h-day log returns over the same recent
calibration window the model uses. Per horizon we report:
- `mae` (BRL per unit) and `mae_ratio` = model MAE / random-walk MAE (below 1 beats the random walk);
- `coverage`: share of actual rates inside the interval (nominal 1 - alpha);
- `interval_score`: the Winkler / Gneiting-Raftery interval score (width + 2/alpha x the miss), lower is better,
  which rewards narrow intervals that still cover; `interval_score_ratio` = model / baseline.
The ridge point model is always backtested as a candidate; the served model uses it only if it beats the random
walk on average (train.py).
"""

from dataclasses import replace

import numpy as np
import pandas as pd

from ml_assets.fx_forecast.baseline import quantile_bounds
from ml_assets.fx_forecast.features import HORIZONS
from ml_assets.fx_forecast.model import Design, ForecastParams, design, fit_horizon


def fold_starts(dates: np.ndarray, min_train_dates: int, step: int) -> list[int]:
    """Indices (into the sorted unique origin dates) of each fold's first forecast origin."""
    return list(range(min_train_dates, len(dates), step))


def interval_score(actual, lower, upper, alpha: float) -> np.ndarray:
    actual, lower, upper = (np.asarray(a, float) for a in (actual, lower, upper))
    return (upper - lower) + (2 / alpha) * (np.maximum(lower - actual, 0) + np.maximum(actual - upper, 0))


def _baseline_bounds(train: Design, test: Design, params: ForecastParams) -> tuple[np.ndarray, np.ndarray]:
    """Per currency, the empirical alpha/2 and 1-alpha/2 quantiles of y over the calibration window (the served
    baseline takes them the same way: baseline.quantile_bounds)."""
    bounds = quantile_bounds(train, params)
    lower, upper = np.full(len(test), np.nan), np.full(len(test), np.nan)
    for currency in np.unique(test.currency):
        if str(currency) in bounds:
            rows = test.currency == currency
            lower[rows], upper[rows] = bounds[str(currency)]
    return lower, upper


def walk_forward(
    data: pd.DataFrame,
    params: ForecastParams,
    min_train_dates: int = 500,
    step: int = 20,
    horizons=HORIZONS,
) -> pd.DataFrame:
    """Out-of-sample forecasts, one row per currency x origin date x horizon whose actual is known.

    `data` = features with targets (features.targets). Columns: currency, date, horizon, ptax_sell, actual,
    point (served point source), lower, upper, ridge_point (the candidate), baseline_lower, baseline_upper.
    """
    data = data.sort_values(["date", "currency"], kind="stable").reset_index(drop=True)
    dates = np.unique(pd.to_datetime(data["date"]).to_numpy().astype("datetime64[D]"))
    ridge_params = replace(params, point_source="ridge")
    starts = fold_starts(dates, min_train_dates, step)
    if not starts:
        raise ValueError(f"no backtest fold: {len(dates)} origin dates, min_train_dates={min_train_dates}")
    frames = []
    for h in horizons:
        full = design(data, h)
        known = ~np.isnan(full.y)
        for start in starts:
            cut = dates[start]
            in_test = (full.date >= cut) & known
            if start + step < len(dates):
                in_test &= full.date < dates[start + step]
            if not in_test.any():
                continue
            train, test = full.subset(full.target_date < cut), full.subset(in_test)
            served = fit_horizon(train, h, params)
            candidate = served if params.point_source == "ridge" else fit_horizon(train, h, ridge_params)
            center, lower, upper = served.predict_log_return(test)
            base_lower, base_upper = _baseline_bounds(train, test, params)
            frames.append(
                pd.DataFrame(
                    {
                        "currency": test.currency,
                        "date": test.date,
                        "horizon": h,
                        "ptax_sell": test.rate,
                        "actual": test.rate * np.exp(test.y),
                        "point": test.rate * np.exp(center),
                        "lower": test.rate * np.exp(lower),
                        "upper": test.rate * np.exp(upper),
                        "ridge_point": test.rate * np.exp(candidate.center(test)),
                        "baseline_lower": test.rate * np.exp(base_lower),
                        "baseline_upper": test.rate * np.exp(base_upper),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True).sort_values(["horizon", "date", "currency"], ignore_index=True)


def horizon_metrics(predictions: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """One row per horizon: MAE vs the random walk, coverage and interval score vs the baseline, fold sizes."""
    p = predictions
    frame = pd.DataFrame(
        {
            "horizon": p["horizon"],
            "abs_error": (p["point"] - p["actual"]).abs(),
            "ridge_abs_error": (p["ridge_point"] - p["actual"]).abs(),
            "rw_abs_error": (p["ptax_sell"] - p["actual"]).abs(),
            "covered": (p["actual"] >= p["lower"]) & (p["actual"] <= p["upper"]),
            "baseline_covered": (p["actual"] >= p["baseline_lower"]) & (p["actual"] <= p["baseline_upper"]),
            "width": p["upper"] - p["lower"],
            "baseline_width": p["baseline_upper"] - p["baseline_lower"],
            "interval_score": interval_score(p["actual"], p["lower"], p["upper"], alpha),
            "baseline_interval_score": interval_score(p["actual"], p["baseline_lower"], p["baseline_upper"], alpha),
        }
    )
    m = frame.groupby("horizon").mean()
    out = pd.DataFrame(
        {
            "n": frame.groupby("horizon").size(),
            "mae": m["abs_error"],
            "rw_mae": m["rw_abs_error"],
            "mae_ratio": m["abs_error"] / m["rw_abs_error"],
            "ridge_mae_ratio": m["ridge_abs_error"] / m["rw_abs_error"],
            "coverage": m["covered"],
            "baseline_coverage": m["baseline_covered"],
            "width": m["width"],
            "baseline_width": m["baseline_width"],
            "interval_score": m["interval_score"],
            "baseline_interval_score": m["baseline_interval_score"],
            "interval_score_ratio": m["interval_score"] / m["baseline_interval_score"],
        }
    )
    return out.reset_index()


def ridge_vs_random_walk(predictions: pd.DataFrame, block_dates: int = 20) -> tuple[float, float, int]:
    """Is the ridge's edge over the random walk more than noise? (mean loss difference, t statistic, blocks).

    Loss difference per forecast: (|ridge - actual| - |random walk - actual|) / rate, averaged per origin date over
    currencies and horizons, then per block of `block_dates` consecutive origin dates (forecasts of neighbouring
    days overlap, so single days are not independent); t = mean / (sd / sqrt(blocks)) of the block means. Negative
    means the ridge is better; a Diebold-Mariano-style test with blocks instead of a HAC variance.
    """
    p = predictions
    diff = ((p["ridge_point"] - p["actual"]).abs() - (p["ptax_sell"] - p["actual"]).abs()) / p["ptax_sell"]
    by_date = diff.groupby(p["date"]).mean().sort_index()
    blocks = by_date.groupby(np.arange(len(by_date)) // block_dates).mean()
    if len(blocks) < 2 or blocks.std(ddof=1) == 0:
        return float(blocks.mean()), float("nan"), len(blocks)
    t = blocks.mean() / (blocks.std(ddof=1) / np.sqrt(len(blocks)))
    return float(blocks.mean()), float(t), len(blocks)
