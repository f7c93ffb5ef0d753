"""The columns of `ml.ml_transaction_anomaly__features` the model reads."""

import pandas as pd

KEY = "bank_transaction_id"

FEATURES = [
    "amount_log_zscore_type",  # log amount vs earlier movements of the same direction and type
    "amount_log_zscore_counterparty",  # log amount vs earlier movements with the same counterparty
    "hour_sao_paulo",
    "is_off_hours",  # before 06:00 or from 22:00, São Paulo
    "is_weekend_or_holiday",  # not an ANBIMA business day
    "is_round_amount",  # a whole multiple of R$ 1,000
    "is_unknown_counterparty",  # a Brazilian tax id the ERP knows neither as supplier nor as customer
    "same_amount_counterparty_prior_7d",  # earlier movements, same amount and counterparty, within 7 days
    "is_just_below_limit",  # a PIX/TED sent at most 10 % under the approval limit (a second signature from it on)
    "below_limit_counterparty_prior_3d",  # earlier such debits to the same counterparty within 3 days (a split)
    "fx_spread_over_ptax",  # FX contract rate / PTAX sell of the contract day - 1 (0 for non-FX movements)
    "fx_duplicate_prior_10d",  # earlier FX contracts with the same foreign amount and currency within 10 days
]


def model_input(frame: pd.DataFrame) -> pd.DataFrame:
    """The feature columns as floats (booleans as 0/1, missing as 0)."""
    return pd.DataFrame(
        {column: pd.to_numeric(frame[column], errors="coerce").astype(float).fillna(0.0) for column in FEATURES},
        index=frame.index,
    )
