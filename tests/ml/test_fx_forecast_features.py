"""The Python twin of the dbt features model: the same hand-computed values as the dbt unit test, and sane real data.

dbt_project/models/ml/_ml_fx_forecast__models.yml pins the SQL to these numbers; this pins the Python, so the
backtest over the real PTAX history (pure Python) uses the features the warehouse serves.
"""

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from ml_assets.fx_forecast.features import (
    FEATURE_COLUMNS,
    HISTORY_RETURNS,
    features_from_rates,
    read_reference_history,
    targets,
)


def _unit_test_input() -> pd.DataFrame:
    days = [date(2024, 1, 1) + timedelta(days=n) for n in range(62)]
    rates = [5.5 if n >= 60 else 5.0 for n in range(62)]
    return pd.concat(
        [pd.DataFrame({"currency": code, "date": days, "ptax_sell": rates}) for code in ("USD", "GBP")],
        ignore_index=True,
    )


def test_same_values_as_the_dbt_unit_test():
    # a = ln(1.1); a window of n returns with one a and n-1 zeros has sample std a/sqrt(n)
    features = features_from_rates(_unit_test_input())
    features = features[features["currency"] == "USD"]  # the dbt model keeps USD and EUR only
    a = 0.0953101798
    expected = pd.DataFrame(
        {
            "currency": ["USD", "USD"],
            "date": [date(2024, 3, 1), date(2024, 3, 2)],
            "ptax_sell": [5.5, 5.5],
            "log_return_1d": [a, 0.0],
            "log_return_5d": [a, a],
            "log_return_20d": [a, a],
            "volatility_20d": [0.0213120041, 0.0213120041],
            "volatility_60d": [0.0123044913, 0.0123044913],
        }
    )
    pd.testing.assert_frame_equal(features.reset_index(drop=True), expected, check_exact=True)
    assert round(math.log(1.1) / math.sqrt(20), 10) == 0.0213120041


def test_real_history_features_and_targets():
    history = read_reference_history()
    counts = history.groupby("currency").size().to_dict()
    assert counts == {"EUR": 2506, "USD": 2434}  # data/reference/README.md
    features = features_from_rates(history)
    assert features.groupby("currency").size().to_dict() == {c: n - HISTORY_RETURNS for c, n in counts.items()}
    assert not features[list(FEATURE_COLUMNS)].isna().any().any()
    assert (features["volatility_20d"] > 0).all()
    # data/reference: USD 2024-12-27 6.1991, 2024-12-30 6.1923, and 2024-12-31 repeats the 30th (as PTAX does)
    usd = features[features["currency"] == "USD"].set_index("date")
    assert usd.loc[date(2024, 12, 31), "log_return_1d"] == 0.0
    assert usd.loc[date(2024, 12, 30), "log_return_1d"] == round(math.log(6.1923 / 6.1991), 10)

    with_targets = targets(features, horizons=(1, 20))
    usd = with_targets[with_targets["currency"] == "USD"].reset_index(drop=True)
    # the target of an origin is the return to the quote 1 (20) rows later; unknown at the end
    assert usd.loc[0, "target_h1"] == pytest.approx(np.log(usd.loc[1, "ptax_sell"] / usd.loc[0, "ptax_sell"]))
    assert usd.loc[0, "target_date_h20"] == pd.Timestamp(usd.loc[20, "date"])
    assert usd["target_h20"].isna().sum() == 20 and usd["target_h1"].isna().sum() == 1
