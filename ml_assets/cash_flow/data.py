"""Reading the cash-flow features from the warehouse (any object with `query_df`, e.g.
ingestion.common.warehouse.Warehouse). No Dagster."""

import pandas as pd

FEATURES_TABLE = "ml.ml_cash_flow__features"


def features(warehouse, table: str = FEATURES_TABLE) -> pd.DataFrame:
    """Every origin x target day (training uses the observed targets, scoring the last origin)."""
    frame = warehouse.query_df(f"SELECT * FROM {table} ORDER BY origin_date, target_date")
    if frame.empty:
        raise ValueError(f"{table} is empty: build it (dbt) from the bank transactions and the ERP first")
    return frame
