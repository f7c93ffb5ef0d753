"""Cash-flow figures for the Dagster metadata and the MLflow run: backtest error by horizon, and the forecast."""

import pandas as pd

from ml_assets.common import plots


def backtest_by_horizon(predictions: pd.DataFrame, baseline: str):
    """Mean absolute error per horizon day (7-day rolling mean) of the model, the gate's seasonal-naive baseline and
    the scheduled-dues reference, over every walk-forward origin."""
    errors = pd.DataFrame(
        {
            "model": (predictions["actual"] - predictions["model"]).abs(),
            baseline: (predictions["actual"] - predictions[baseline]).abs(),
            "scheduled_dues": (predictions["actual"] - predictions["scheduled_dues"]).abs(),
            "horizon_days": predictions["horizon_days"],
        }
    )
    by_horizon = errors.groupby("horizon_days").mean().rolling(7, min_periods=1).mean()
    return plots.line_chart(
        by_horizon.index.to_list(),
        {column: (by_horizon[column] / 1000).to_list() for column in ("model", baseline, "scheduled_dues")},
        f"Walk-forward MAE by horizon ({predictions['origin_date'].nunique()} origins, 7-day rolling mean)",
        ylabel="MAE, thousand BRL per day",
    )


def forecast_chart(history: pd.Series, forecast: pd.DataFrame, history_days: int = 60):
    """The observed daily net movement of the last `history_days` days, then the forecast (thousand BRL)."""
    fig = plots.figure(7.0, 3.2)
    ax = fig.add_subplot()
    past = history.tail(history_days)
    ax.bar(past.index, past.to_numpy() / 1000, color="#999999", width=0.8, label="observed")
    ax.bar(
        pd.to_datetime(forecast["target_date"]),
        forecast["forecast"].astype(float) / 1000,
        color="#4C72B0",
        width=0.8,
        label="forecast",
    )
    ax.axhline(0, color="#333333", linewidth=0.6)
    origin = pd.to_datetime(forecast["origin_date"]).max()
    ax.set_title(f"Daily net bank movement: forecast from {origin.date()}", fontsize=9)
    ax.set_ylabel("thousand BRL")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return fig
