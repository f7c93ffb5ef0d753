"""Reading the delay-risk features from the warehouse (any object with `query_df`, e.g.
ingestion.common.warehouse.Warehouse). No Dagster."""

import pandas as pd

FEATURES_TABLE = "ml.ml_supplier_delay__features"


def features(warehouse, table: str = FEATURES_TABLE) -> pd.DataFrame:
    """Every shipment's features (training uses the labelled ones, scoring the open ones)."""
    frame = warehouse.query_df(f"SELECT * FROM {table} ORDER BY as_of_date, shipment_id")
    if frame.empty:
        raise ValueError(f"{table} is empty: build it (dbt) from the ERP shipments and purchase orders first")
    return frame
