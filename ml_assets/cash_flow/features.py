"""The columns of `ml.ml_cash_flow__features` the model reads."""

import pandas as pd

ORIGIN = "origin_date"  # the day the forecast is made: every feature is what was known at its end
TARGET_DATE = "target_date"
LABEL = "net_cash_flow_brl"  # the bank's net movement on target_date (NULL after the last day with data)
HORIZON = 90

# what the model reads: the money the ERP says falls due on the target day, and whether the bank works that day
FEATURES = [
    "receivables_due_brl",
    "payables_due_brl",
    "imports_arriving_brl",
    "target_is_business_day",
]
SCHEDULED = ("receivables_due_brl", "payables_due_brl")  # the "pay what is due" reference: receivables - payables


def model_input(frame: pd.DataFrame) -> pd.DataFrame:
    """The feature columns as floats (ClickHouse Decimals arrive as decimal.Decimal objects)."""
    return pd.DataFrame(
        {column: pd.to_numeric(frame[column], errors="coerce").astype(float).fillna(0.0) for column in FEATURES},
        index=frame.index,
    )


def daily_series(frame: pd.DataFrame) -> pd.Series:
    """The observed net cash flow per day (float, indexed by date), from the labelled rows of the frame."""
    known = frame[frame[LABEL].notna()].drop_duplicates(TARGET_DATE)
    series = pd.Series(known[LABEL].astype(float).to_numpy(), index=pd.to_datetime(known[TARGET_DATE]), name=LABEL)
    return series.sort_index()
