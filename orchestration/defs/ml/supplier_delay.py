"""The supplier delay-risk model (calibrated P(late) of each open shipment): ml_assets/supplier_delay/."""

from ml_assets.supplier_delay import data, train
from orchestration.defs.ml.factory import model_spec

spec = model_spec(
    train,
    features_model="ml_supplier_delay__features",
    description=(
        "Supplier delay risk: the calibrated probability that a shipment arrives more than 2 days after its ETA, "
        "from its supplier's and route's history as known at departure, the season and the shipment. Backtest on "
        "the shipments that departed after a cutoff, trained on the outcomes known before it: Brier score against "
        "the base rate's (the training share of late shipments), with the reliability curve."
    ),
    load_training_data=data.features,
    load_scoring_data=data.features,
    scores_description=(
        "Delay risk of the champion: one row per open shipment (not arrived) with its probability of arriving "
        "late, as of the ERP snapshot date, and the model version."
    ),
)
