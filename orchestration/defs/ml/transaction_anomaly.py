"""The transaction-anomaly model (isolation forest over every posted bank movement): ml_assets/transaction_anomaly/."""

from dagster_dbt import get_asset_key_for_model

from ml_assets.transaction_anomaly import data, labels, train
from orchestration.defs.dbt import dbt_models
from orchestration.defs.ml.factory import MlModel

FEATURES_MODEL = "ml_transaction_anomaly__features"


def _known_anomalies(data_dir: str) -> list[str]:
    return labels.known_anomaly_ids(labels.ground_truth_path(data_dir))


spec = MlModel(
    name=train.MODEL_NAME,
    description=(
        "Transaction anomalies: an isolation forest ranks every posted bank movement by how unusual it is "
        "(amount against earlier movements of its type and counterparty, unknown counterparty, São Paulo hour, "
        "weekend, round amount, repeated amount, duplicate FX contract, FX rate over PTAX). Graded with "
        "precision@k on the anomalies known from elsewhere (the demo's planted ones, never a feature) against "
        "the |amount z-score| ranking; without known anomalies no version can be promoted."
    ),
    features=[get_asset_key_for_model([dbt_models], FEATURES_MODEL)],
    load_training_data=data.features,
    load_known_outcomes=_known_anomalies,
    train=lambda features_and_known, seed: train.train(data.TrainingData(*features_and_known), seed=seed),
    load_scoring_data=data.features,
    score=train.score,
    scores_table=train.SCORES_TABLE,
    metric=train.PROMOTION_METRIC,
    higher_is_better=train.HIGHER_IS_BETTER,
    scores_description=(
        "Anomaly scores of the champion: one row per posted bank movement with its score (higher is more "
        "anomalous), the forest's outlier flag and the model version; each scoring run replaces the table."
    ),
)
