"""The 90-day cash-flow forecast (daily net bank movement, BRL): ml_assets/cash_flow/."""

from dagster_dbt import get_asset_key_for_model

from ml_assets.cash_flow import data, train
from orchestration.defs.dbt import dbt_models
from orchestration.defs.ml.factory import MlModel

FEATURES_MODEL = "ml_cash_flow__features"

spec = MlModel(
    name=train.MODEL_NAME,
    description=(
        "Cash-flow forecast: the company's daily net bank movement (all accounts, BRL) for the 90 days after the "
        "last day with bank data, from the receivables, payables and imports the ERP has due each day. "
        "Walk-forward backtest (an origin every 14 days) against seasonal-naive forecasts (same weekday of the "
        "last week, or of the last four): MAE and MAE ratio, by horizon."
    ),
    features=[get_asset_key_for_model([dbt_models], FEATURES_MODEL)],
    load_training_data=data.features,
    train=lambda features, seed: train.train(features, seed=seed),
    load_scoring_data=data.features,
    score=train.score,
    scores_table=train.SCORES_TABLE,
    metric=train.PROMOTION_METRIC,
    higher_is_better=train.HIGHER_IS_BETTER,
    scores_description=(
        "Cash-flow forecast of the champion: one row per target day, 1 to 90 days after the forecast origin (the "
        "last day with bank data), with the predicted net movement in BRL and the model version."
    ),
)
