"""The 90-day cash-flow forecast (daily net bank movement, BRL): ml_assets/cash_flow/."""

from ml_assets.cash_flow import data, train
from orchestration.defs.ml.factory import model_spec

spec = model_spec(
    train,
    features_model="ml_cash_flow__features",
    description=(
        "Cash-flow forecast: the company's daily net bank movement (all accounts, BRL) for the 90 days after the "
        "last day with bank data, from the receivables, payables and imports the ERP has due each day. "
        "Walk-forward backtest (an origin every 14 days) against seasonal-naive forecasts (same weekday of the "
        "last week, or of the last four): MAE and MAE ratio, by horizon."
    ),
    load_training_data=data.features,
    load_scoring_data=data.features,
    scores_description=(
        "Cash-flow forecast of the champion (or, while no model beats it, of the seasonal-naive baseline: "
        "model_kind): one row per target day, 1 to 90 days after the forecast origin (the "
        "last day with bank data), with the predicted net movement in BRL and the model version."
    ),
)
