"""FX forecast entry points: train + backtest (-> TrainingResult), and score (-> rows of ml.fx_forecast__scores).

Training backtests walk-forward over the whole history it is given (backtest.py) and decides the point source:
the ridge only if its edge over the random walk is more than noise (block t statistic below MAX_T_STAT over at
least MIN_BLOCKS blocks of backtest days), otherwise the random walk (the notes say which, and why). It then fits
the served model on all of the history and returns the backtest metrics of the served model and of the baseline
(random walk with empirical-quantile intervals). The promotion metric is `interval_score_ratio`, the mean over
horizons of model / baseline interval score (lower is better; the baseline is 1 by definition): the intervals are
where this model can add value over the random walk, and a point forecast that does not beat the random walk is
never served. While no model's intervals beat the baseline's, the baseline itself serves (`BASELINE_FALLBACK`,
baseline.py): the same input and output, the random walk with the empirical-quantile interval.
"""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from ml_assets.common.scores import ScoresTable
from ml_assets.common.training import TrainingResult
from ml_assets.fx_forecast import features as fx_features
from ml_assets.fx_forecast import plots
from ml_assets.fx_forecast.backtest import horizon_metrics, ridge_vs_random_walk, walk_forward
from ml_assets.fx_forecast.baseline import served_baseline
from ml_assets.fx_forecast.model import INPUT_COLUMNS, ForecastParams, FxForecaster, scoring_input

MODEL_NAME = "fx_forecast"
PROMOTION_METRIC = "interval_score_ratio"
HIGHER_IS_BETTER = False
# what serves while no model beats it (factory.MlModel.baseline_fallback): train logs it with every run
BASELINE_FALLBACK = (
    "the random walk (today's PTAX) with the empirical 5 %/95 % quantiles of the currency's h-day returns over "
    "the latest calibration window as its 90 % interval (random_walk_quantiles)"
)
MAX_MIN_TRAIN_DATES = 500  # about two years before the first backtest origin ...
BACKTEST_STEP = 20  # ... then refit every 20 business days
# The random walk is the prior: the ridge replaces it only if its edge is more than noise (a few months of trending
# rates make momentum look good; ten years of PTAX say it does not hold): block t statistic of the loss difference
# below -2 over at least 10 blocks of 20 backtest days (backtest.ridge_vs_random_walk).
MAX_T_STAT = -2.0
MIN_BLOCKS = 10

SCORES_TABLE = ScoresTable(
    model_name=MODEL_NAME,
    columns=(
        ("currency", "LowCardinality(String)"),
        ("origin_date", "Date"),
        ("horizon_days", "UInt16"),
        ("target_date", "Date"),
        ("forecast_rate", "Decimal(38, 8)"),
        ("lower_rate", "Decimal(38, 8)"),
        ("upper_rate", "Decimal(38, 8)"),
        ("interval_level", "Float64"),
    ),
    order_by=("currency", "origin_date", "horizon_days"),
    replace_by=("origin_date",),
)


def _summary(per_h: pd.DataFrame) -> tuple[dict, dict]:
    """(model metrics, baseline metrics) from the per-horizon table, same names on both sides."""
    metrics = {
        "mae_ratio": per_h["mae_ratio"].mean(),
        "ridge_mae_ratio": per_h["ridge_mae_ratio"].mean(),
        "coverage": per_h["coverage"].mean(),
        "interval_score_ratio": per_h["interval_score_ratio"].mean(),
        "backtest_rows": float(per_h["n"].sum()),
    }
    baseline = {"mae_ratio": 1.0, "coverage": per_h["baseline_coverage"].mean(), "interval_score_ratio": 1.0}
    for row in per_h.itertuples():
        suffix = f"_h{row.horizon:02d}"
        metrics.update(
            {
                f"mae_ratio{suffix}": row.mae_ratio,
                f"ridge_mae_ratio{suffix}": row.ridge_mae_ratio,
                f"coverage{suffix}": row.coverage,
                f"interval_score_ratio{suffix}": row.interval_score_ratio,
                f"mae{suffix}": row.mae,
            }
        )
        baseline.update(
            {
                f"mae_ratio{suffix}": 1.0,
                f"coverage{suffix}": row.baseline_coverage,
                f"interval_score_ratio{suffix}": 1.0,
                f"mae{suffix}": row.rw_mae,
            }
        )
    return {k: float(v) for k, v in metrics.items()}, {k: float(v) for k, v in baseline.items()}


def _notes(per_h: pd.DataFrame, params: ForecastParams, n_dates: int, test_dates: int, t_stat: float) -> list[str]:
    ridge = per_h["ridge_mae_ratio"]
    level = 1 - params.alpha
    notes = [
        f"Walk-forward backtest over {n_dates} origin dates ({test_dates} forecast), {int(per_h['n'].sum())} "
        "forecasts (currency x origin x horizon).",
    ]
    ridge_text = (
        f"the ridge on volatility-scaled momentum has an MAE ratio of {ridge.min():.4f}..{ridge.max():.4f} over "
        f"horizons 1-20 (mean {ridge.mean():.4f}; block t statistic of its edge {t_stat:.2f})"
    )
    if params.point_source == "ridge":
        notes.append(f"The point forecast beats the random walk by more than noise: {ridge_text}.")
    elif ridge.mean() < 1.0:
        notes.append(
            f"The ridge beats the random walk in this backtest but not by more than noise: {ridge_text}. The served "
            "point forecast stays the random walk (today's PTAX); decisions must rely on the intervals."
        )
    else:
        notes.append(
            f"The learned point forecast does NOT beat the random walk: {ridge_text}. The served point forecast is "
            "therefore the random walk (today's PTAX); decisions must rely on the intervals."
        )
    notes.append(
        f"{level:.0%} intervals: coverage {per_h['coverage'].min():.3f}..{per_h['coverage'].max():.3f} "
        f"(baseline {per_h['baseline_coverage'].min():.3f}..{per_h['baseline_coverage'].max():.3f}); interval "
        f"score {per_h['interval_score_ratio'].mean():.4f} x the baseline's (random walk with empirical quantiles)."
    )
    return notes


def train(features: pd.DataFrame, seed: int = 42, step: int = BACKTEST_STEP) -> TrainingResult:
    """Backtest, choose the point source, fit on everything; `features` as ml_fx_forecast__features has them."""
    data = fx_features.targets(features)
    n_dates = data["date"].nunique()
    min_train = min(MAX_MIN_TRAIN_DATES, n_dates // 2)
    params = ForecastParams(seed=seed)
    predictions = walk_forward(data, params, min_train_dates=min_train, step=step)
    per_h = horizon_metrics(predictions, params.alpha)
    test_dates = n_dates - min_train
    edge, t_stat, blocks = ridge_vs_random_walk(predictions)
    if t_stat < MAX_T_STAT and blocks >= MIN_BLOCKS:
        params = replace(params, point_source="ridge")
        predictions = walk_forward(data, params, min_train_dates=min_train, step=step)
        per_h = horizon_metrics(predictions, params.alpha)
    forecaster = FxForecaster.fit(data, params)
    metrics, baseline = _summary(per_h)
    metrics.update({"ridge_edge": edge, "ridge_edge_t_stat": t_stat})
    example = scoring_input(features).groupby("currency").head(2).reset_index(drop=True)[list(INPUT_COLUMNS)]
    output = forecaster.predict(example)
    latest = scoring_input(features)
    forecast = pd.concat(
        [latest[["currency", "date"]], forecaster.predict(latest[list(INPUT_COLUMNS)])], axis=1
    ).assign(  # weekdays only, for the chart; scoring dates follow the ANBIMA calendar
        target_date=np.busday_offset(
            pd.to_datetime(latest["date"]).to_numpy().astype("datetime64[D]"), latest["horizon"].to_numpy(), "forward"
        )
    )
    from ml_assets.fx_forecast.pyfunc import FxForecastModel

    return TrainingResult(
        model=FxForecastModel(forecaster),
        input_example=example,
        output_example=output,
        flavor="pyfunc",
        metrics=metrics,
        baseline_metrics=baseline,
        params={
            **{k: v for k, v in params.__dict__.items()},
            "min_train_dates": min_train,
            "backtest_dates": test_dates,
            "backtest_step": step,
            "first_origin": str(data["date"].min()),
            "last_origin": str(data["date"].max()),
            "currencies": ",".join(sorted(data["currency"].unique())),
        },
        figures={
            "fan_chart": plots.fan_chart(features, forecast, 1 - params.alpha),
            "backtest_by_horizon": plots.backtest_by_horizon(per_h, 1 - params.alpha),
        },
        notes=_notes(per_h, params, n_dates, test_dates, t_stat),
        tables={"backtest_by_horizon": per_h},
        served_baseline=served_baseline(data, params, example),
    )


def _decimal(value: float) -> Decimal:
    return Decimal(f"{value:.8f}")


def score(model, features: pd.DataFrame, business_days: list[date]) -> list[dict]:
    """Rows of ml.fx_forecast__scores: each currency's latest origin x horizons 1..20, target dates on the
    business-day calendar `business_days` (sorted ANBIMA business days after the origins)."""
    frame = scoring_input(features)
    output = model.predict(frame[list(INPUT_COLUMNS)])
    level = 1 - _alpha(model)
    days = np.asarray(sorted(business_days), dtype="datetime64[D]")
    rows = []
    for origin, out in zip(frame.itertuples(), output.itertuples(), strict=True):
        after = days[days > np.datetime64(origin.date, "D")]
        if len(after) < origin.horizon:
            raise ValueError(f"the calendar ends before {origin.horizon} business days after {origin.date}")
        rows.append(
            {
                "currency": origin.currency,
                "origin_date": origin.date,
                "horizon_days": int(origin.horizon),
                "target_date": after[origin.horizon - 1].astype(date),
                "forecast_rate": _decimal(out.point_forecast),
                "lower_rate": _decimal(out.lower_bound),
                "upper_rate": _decimal(out.upper_bound),
                "interval_level": level,
            }
        )
    return rows


def _alpha(model) -> float:
    """The interval's alpha from a pyfunc-loaded champion or a bare FxForecaster."""
    inner = model.unwrap_python_model() if hasattr(model, "unwrap_python_model") else model
    forecaster = getattr(inner, "forecaster", inner)
    return forecaster.params.alpha
