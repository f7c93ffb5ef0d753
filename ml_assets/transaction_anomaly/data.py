"""Reading the anomaly features from the warehouse (any object with `query_df`, e.g.
ingestion.common.warehouse.Warehouse), and the training input: features plus the known anomalies
(labels.py). No Dagster."""

from dataclasses import dataclass, field

import pandas as pd

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
