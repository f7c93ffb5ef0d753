"""Cash-flow entry points: train + walk-forward backtest (-> TrainingResult) and score (-> rows of
ml.cash_flow__scores).

The promotion metric is the walk-forward MAE (lower is better) against the better of the two seasonal-naive
forecasts on the same origins and days. The served model is refitted on every observed target day and forecasts
the 90 days after the last origin. While no model beats it, that seasonal naive serves instead (`BASELINE_FALLBACK`,
baseline.py): `score` gives every kind of version the columns its signature names.
"""

from decimal import Decimal

import pandas as pd

from ml_assets.cash_flow import plots
from ml_assets.cash_flow.baseline import seasonal_input, served_baseline
from ml_assets.cash_flow.evaluation import WalkForward, walk_forward
from ml_assets.cash_flow.features import FEATURES, LABEL, ORIGIN, TARGET_DATE, daily_series, model_input
from ml_assets.cash_flow.model import fit, forecast
from ml_assets.common.registry import signature_inputs
from ml_assets.common.scores import ScoresTable
from ml_assets.common.training import TrainingResult

MODEL_NAME = "cash_flow"
PROMOTION_METRIC = "mae"
HIGHER_IS_BETTER = False
# what serves while no model beats it (factory.MlModel.baseline_fallback): train logs it with every run
BASELINE_FALLBACK = (
    "the better seasonal naive of the walk-forward: each day's movement on the same weekday of the last observed "
    "week (seasonal_naive_1w), or its mean over the last four (seasonal_naive_4w)"
)

SCORES_TABLE = ScoresTable(
    model_name=MODEL_NAME,
    columns=(
        ("origin_date", "Date"),
        ("target_date", "Date"),
        ("horizon_days", "UInt16"),
        ("predicted_net_cash_flow_brl", "Decimal(18, 4)"),
    ),
    order_by=("origin_date", "target_date"),
    replace_by=("origin_date",),
)


def _notes(result: WalkForward) -> list[str]:
    versus = "beats" if result.mae < result.baseline_mae else "does NOT beat"
    dues = "beats" if result.mae < result.mae_scheduled_dues else "does NOT beat"
    return [
        f"Walk-forward: {len(result.origins)} origins ({result.origins[0]}..{result.origins[-1]}, every 14 days), "
        f"{result.n_forecasts} daily forecasts 1-90 days ahead.",
        f"MAE {result.mae:,.0f} BRL/day vs {result.baseline_mae:,.0f} for the best seasonal naive "
        f"({result.baseline_name}; MAE ratio {result.mae_ratio:.3f}): the model {versus} it.",
        f"Reference (not gated): receivables minus payables due that day, as the ERP has them, MAE "
        f"{result.mae_scheduled_dues:,.0f}: the model {dues} it.",
    ]


def latest_origin_rows(features: pd.DataFrame) -> pd.DataFrame:
    """The rows of the last origin: the 90 days after the last day with bank data."""
    origins = pd.to_datetime(features[ORIGIN])
    return features[origins == origins.max()]


def train(features: pd.DataFrame, seed: int = 42) -> TrainingResult:
    """Walk-forward backtest, then fit on every observed day; `features` as ml.ml_cash_flow__features has them."""
    result = walk_forward(features, seed=seed)
    model = fit(features, seed)
    observed = features[features[LABEL].notna()]
    latest = latest_origin_rows(features)
    ahead = latest.assign(forecast=forecast(model, latest))
    return TrainingResult(
        model=model,
        input_example=model_input(observed.head(5)).reset_index(drop=True),
        metrics=result.metrics(),
        baseline_metrics=result.baseline_metrics(),
        params={
            "seed": seed,
            "features": ",".join(FEATURES),
            "estimator": "HuberRegressor(epsilon=1.35)",
            "baseline": result.baseline_name,
            "first_origin": str(result.origins[0]),
            "last_origin": str(result.origins[-1]),
        },
        figures={
            "backtest_by_horizon": plots.backtest_by_horizon(result.predictions, result.baseline_name),
            "forecast": plots.forecast_chart(daily_series(features), ahead),
        },
        notes=_notes(result),
        tables={"walk_forward": result.predictions},
        served_baseline=served_baseline(result, features, latest),
    )


def scoring_input(features: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """What any served version of the model reads for `rows`: the model's features and the seasonal-naive lags."""
    return pd.concat([model_input(rows), seasonal_input(features, rows)], axis=1)


def score(model, features: pd.DataFrame) -> list[dict]:
    """Rows of ml.cash_flow__scores: the forecast for each of the 90 days after the last origin, by the trained
    model or, while it serves, the seasonal-naive baseline (each reads the columns its signature names)."""
    latest = latest_origin_rows(features)
    if latest.empty:
        return []
    predicted = model.predict(signature_inputs(model, scoring_input(features, latest)))
    return [
        {
            "origin_date": pd.Timestamp(row[ORIGIN]).date(),
            "target_date": pd.Timestamp(row[TARGET_DATE]).date(),
            "horizon_days": int(row["horizon_days"]),
            "predicted_net_cash_flow_brl": Decimal(f"{value:.2f}"),
        }
        for (_, row), value in zip(latest.iterrows(), predicted, strict=True)
    ]
