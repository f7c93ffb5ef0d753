"""FX figures for the Dagster metadata and the MLflow run: the fan chart and the backtest by horizon."""

import numpy as np
import pandas as pd

from ml_assets.common import plots


def fan_chart(history: pd.DataFrame, forecast: pd.DataFrame, level: float, history_days: int = 120):
    """Per currency: the last `history_days` PTAX quotes, then the point forecast and its interval band.

    `history`: currency, date, ptax_sell. `forecast`: currency, target_date, point_forecast, lower_bound,
    upper_bound (one row per horizon).
    """
    currencies = sorted(forecast["currency"].unique())
    fig = plots.figure(7.0, 2.6 * len(currencies))
    axes = fig.subplots(len(currencies), 1, squeeze=False)[:, 0]
    for ax, currency in zip(axes, currencies, strict=True):
        past = history[history["currency"] == currency].sort_values("date").tail(history_days)
        ahead = forecast[forecast["currency"] == currency].sort_values("target_date")
        last = past.iloc[-1]
        x = [pd.Timestamp(last["date"]), *pd.to_datetime(ahead["target_date"])]
        ax.plot(pd.to_datetime(past["date"]), past["ptax_sell"].astype(float), color="#333333", lw=1.2, label="PTAX")
        band_low = [float(last["ptax_sell"]), *ahead["lower_bound"].astype(float)]
        band_high = [float(last["ptax_sell"]), *ahead["upper_bound"].astype(float)]
        ax.fill_between(x, band_low, band_high, color="#4C72B0", alpha=0.25, label=f"{level:.0%} interval")
        ax.plot(x, [float(last["ptax_sell"]), *ahead["point_forecast"].astype(float)], color="#4C72B0", lw=1.5,
                label="forecast")  # fmt: skip
        ax.set_title(f"{currency}/BRL PTAX sell: forecast from {last['date']}")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    return fig


def backtest_by_horizon(per_horizon: pd.DataFrame, level: float):
    """Left: MAE ratio vs the random walk (served point and ridge candidate). Right: interval coverage."""
    fig = plots.figure(8.0, 3.2)
    left, right = fig.subplots(1, 2)
    h = per_horizon["horizon"].to_numpy()
    left.plot(h, per_horizon["mae_ratio"], marker="o", ms=3, label="served point")
    left.plot(h, per_horizon["ridge_mae_ratio"], marker="s", ms=3, label="ridge candidate")
    left.axhline(1.0, color="#C44E52", ls="--", label="random walk")
    left.set_title("MAE / random-walk MAE")
    left.set_xlabel("horizon (business days)")
    left.legend(fontsize=8)
    right.plot(h, per_horizon["coverage"], marker="o", ms=3, label="model")
    right.plot(h, per_horizon["baseline_coverage"], marker="s", ms=3, label="baseline")
    right.axhline(level, color="#C44E52", ls="--", label=f"nominal {level:.0%}")
    right.set_ylim(max(0.0, float(np.nanmin(per_horizon[["coverage", "baseline_coverage"]].to_numpy())) - 0.05), 1.0)
    right.set_title("interval coverage")
    right.set_xlabel("horizon (business days)")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    return fig
