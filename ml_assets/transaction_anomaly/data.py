"""Reading the anomaly features from the warehouse (any object with `query_df`, e.g.
ingestion.common.warehouse.Warehouse), and the training input: features plus the known anomalies. No Dagster."""

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ml_assets.transaction_anomaly.labels import ground_truth_path, known_anomaly_ids

FEATURES_TABLE = "ml.ml_transaction_anomaly__features"


@dataclass(frozen=True)
class TrainingData:
    features: pd.DataFrame
    known_anomaly_ids: list[str] = field(default_factory=list)  # evaluation only


def features(warehouse, table: str = FEATURES_TABLE) -> pd.DataFrame:
    """Every posted bank movement's features."""
    frame = warehouse.query_df(f"SELECT * FROM {table} ORDER BY booking_date, bank_transaction_id")
    if frame.empty:
        raise ValueError(f"{table} is empty: build it (dbt) from the Open Finance transactions first")
    return frame


def training_data(warehouse, data_dir: str | Path, table: str = FEATURES_TABLE) -> TrainingData:
    """The features, and the anomalies known from `<data_dir>/demo/ground_truth.json` if the demo wrote one."""
    return TrainingData(features(warehouse, table), known_anomaly_ids(ground_truth_path(data_dir)))
