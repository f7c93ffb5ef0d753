"""The supplier delay-risk model (calibrated P(late) of each open shipment): ml_assets/supplier_delay/."""

from dagster_dbt import get_asset_key_for_model

from ml_assets.supplier_delay import data, train
from orchestration.defs.dbt import dbt_models
from orchestration.defs.ml.factory import MlModel

FEATURES_MODEL = "ml_supplier_delay__features"

spec = MlModel(
    name=train.MODEL_NAME,
    description=(
        "Supplier delay risk: the calibrated probability that a shipment arrives more than 2 days after its ETA, "
        "from its supplier's and route's history as known at departure, the season and the shipment. Backtest on "
        "the shipments that departed after a cutoff, trained on the outcomes known before it: Brier score against "
        "the base rate's (the training share of late shipments), with the reliability curve."
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
        "Delay risk of the champion: one row per open shipment (not arrived) with its probability of arriving "
        "late, as of the ERP snapshot date, and the model version."
    ),
)
