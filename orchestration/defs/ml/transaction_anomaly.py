"""The transaction-anomaly model (isolation forest over every posted bank movement): ml_assets/transaction_anomaly/."""

from ml_assets.transaction_anomaly import data, labels, train
from orchestration.defs.ml.factory import model_spec


def _known_anomalies(data_dir: str) -> list[str]:
    return labels.known_anomaly_ids(labels.ground_truth_path(data_dir))


spec = model_spec(
    train,
    features_model="ml_transaction_anomaly__features",
    description=(
        "Transaction anomalies: an isolation forest ranks every posted bank movement by how unusual it is "
        "(amount against earlier movements of its type and counterparty, unknown counterparty, São Paulo hour, "
        "weekend, round amount, repeated amount, duplicate FX contract, FX rate over PTAX). Graded with "
        "precision@k on the anomalies known from elsewhere (the demo's planted ones, never a feature) against "
        "the |amount z-score| ranking; without known anomalies no version can be promoted."
    ),
    load_training_data=data.features,
    load_known_outcomes=_known_anomalies,
    train=lambda features_and_known, seed: train.train(data.TrainingData(*features_and_known), seed=seed),
    load_scoring_data=data.features,
    scores_description=(
        "Anomaly scores of the champion: one row per posted bank movement with its score (higher is more "
        "anomalous), the forest's outlier flag and the model version; each scoring run replaces the table."
    ),
)
