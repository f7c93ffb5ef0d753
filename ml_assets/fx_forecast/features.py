"""FX forecast features: the Python twin of `dbt_project/models/ml/ml_fx_forecast__features.sql`, and the targets.

Per currency, over its PTAX selling rate on business days (t = a business day with a quote, in date order):
- `log_return_1d`, `log_return_5d`, `log_return_20d`: ln(P_t / P_{t-k}), k quotes back;
- `volatility_20d`, `volatility_60d`: sample standard deviation of the last 20 / 60 daily log returns
  (t-19..t, t-59..t);
only rows with 60 daily returns behind them (the 61st quote onwards), every value rounded to 10 decimals.
The warehouse computes these in dbt (lineage reaches the model); this module computes the same numbers from a
rate series, so the backtest over the real PTAX history (data/reference) runs without a warehouse. Both are
pinned to the same hand-computed values (the dbt unit test and tests/ml/test_fx_forecast_features.py).

Targets are not features: `targets` adds, per horizon h, the log return ln(P_{t+h} / P_t) to the quote h rows
later and that quote's date (so a backtest trains only on targets known before its forecast origin).
"""

from pathlib import Path

import numpy as np
import pandas as pd

CURRENCIES = ("USD", "EUR")
HORIZONS = tuple(range(1, 21))  # business days ahead
RETURN_LAGS = (1, 5, 20)
VOLATILITY_WINDOWS = (20, 60)
HISTORY_RETURNS = max(VOLATILITY_WINDOWS)  # daily returns a row needs behind it
FEATURE_COLUMNS = (
    "log_return_1d",
    "log_return_5d",
    "log_return_20d",
    "volatility_20d",
    "volatility_60d",
)
KEY_COLUMNS = ("currency", "date", "ptax_sell")
DECIMALS = 10

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "data" / "reference"
REFERENCE_FILES = {
    "USD": "usd_brl_ptax_sell_sgs1_daily.csv",  # BCB SGS 1, 2015-04-22..2024-12-31
    "EUR": "eur_brl_ptax_sell_sgs21619_daily.csv",  # BCB SGS 21619, 2015-01-02..2024-12-31
}


def read_reference_history(folder: Path = REFERENCE_DIR) -> pd.DataFrame:
    """The real PTAX selling-rate history in data/reference: columns currency, date, ptax_sell (float)."""
    frames = []
    for currency, name in REFERENCE_FILES.items():
        frame = pd.read_csv(folder / name, dtype={"value": str})
        frames.append(
            pd.DataFrame(
                {
                    "currency": currency,
                    "date": pd.to_datetime(frame["date"]).dt.date,
                    "ptax_sell": frame["value"].astype(float),
                }
            )
        )
    return pd.concat(frames, ignore_index=True).sort_values(["currency", "date"], ignore_index=True)


def features_from_rates(rates: pd.DataFrame) -> pd.DataFrame:
    """One row per currency x business day with 60 daily returns behind it: the key columns and FEATURE_COLUMNS."""
    frames = []
    for currency, group in rates.sort_values(["currency", "date"]).groupby("currency", sort=True):
        group = group[list(KEY_COLUMNS)].reset_index(drop=True)
        log_rate = np.log(group["ptax_sell"].astype(float))
        out = group.copy()
        for lag in RETURN_LAGS:
            out[f"log_return_{lag}d"] = log_rate - log_rate.shift(lag)
        for window in VOLATILITY_WINDOWS:
            out[f"volatility_{window}d"] = out["log_return_1d"].rolling(window).std(ddof=1)
        out = out.iloc[HISTORY_RETURNS:].copy()
        out[list(FEATURE_COLUMNS)] = out[list(FEATURE_COLUMNS)].round(DECIMALS)
        out["currency"] = currency
        frames.append(out)
    columns = [*KEY_COLUMNS, *FEATURE_COLUMNS]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def targets(features: pd.DataFrame, horizons=HORIZONS) -> pd.DataFrame:
    """`features` plus, per horizon h, `target_h<h>` = ln(P_{t+h}/P_t) and `target_date_h<h>` (NaN/NaT at the end).

    The shift is by rows within a currency, i.e. h quotes later: business days, as the features count them.
    """
    frames = []
    for _, group in features.sort_values(["currency", "date"]).groupby("currency", sort=True):
        group = group.reset_index(drop=True).copy()
        log_rate = np.log(group["ptax_sell"].astype(float))
        dates = pd.to_datetime(group["date"])
        for h in horizons:
            group[f"target_h{h}"] = log_rate.shift(-h) - log_rate
            group[f"target_date_h{h}"] = dates.shift(-h)
        frames.append(group)
    return pd.concat(frames, ignore_index=True)
