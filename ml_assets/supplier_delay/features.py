"""The columns of `ml.ml_supplier_delay__features` the model reads, and the frame it trains and scores on."""

import pandas as pd

KEY = "shipment_id"
AS_OF = "as_of_date"  # the shipment's departure (ETD): every feature is what was known that day
LABEL = "is_late"  # NULL while the outcome is unknown
LABEL_KNOWN = "label_known_date"  # the day the outcome became known (arrival, or ETA + grace passed)

CATEGORICAL = ["transport_mode", "origin_country", "customs_unit", "incoterm", "eta_month"]
NUMERIC = [
    "planned_transit_days",
    "order_to_departure_days",
    "log_gross_weight_kg",
    "supplier_prior_shipments",
    "supplier_prior_late_rate",
    "supplier_prior_mean_delay_days",
    "route_prior_shipments",
    "route_prior_late_rate",
]
FEATURES = CATEGORICAL + NUMERIC


def model_input(frame: pd.DataFrame) -> pd.DataFrame:
    """The feature columns with the types the Pipeline expects (categories as str, numbers as float)."""
    out = pd.DataFrame(index=frame.index)
    for column in CATEGORICAL:
        out[column] = frame[column].astype(str)
    for column in NUMERIC:
        out[column] = pd.to_numeric(frame[column], errors="coerce").astype(float).fillna(0.0)
    return out


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """The shipments whose outcome is known, with the label as 0/1 integers."""
    known = frame[frame[LABEL].notna()].copy()
    known[LABEL] = known[LABEL].astype(int)
    return known
