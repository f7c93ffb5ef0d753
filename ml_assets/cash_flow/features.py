"""The columns of `ml.ml_cash_flow__features` the model reads, and the inputs derived from them in pandas.

The table has, per origin x target day, the money the ERP says falls due on the target day and the bank's actual
movement. The model predicts the CHANGE from the 4-week seasonal naive (the mean of the same weekday over the last
four weeks), so `model_input` adds, for every row and from what was known at its origin only:
- `naive_level_4w`: that naive over the lag days with bank data (the gate's baseline, `seasonal_naive_4w` in
  evaluation.py, counts a lag day before the first day with data as zero movement; this one leaves it out, and is
  zero only when no lag day has data), and the 1-week naive (zero without data);
- `lag_business_day_share`: the share of those lag days that were business days (read by the forecast rule on
  days the bank does not work, model.py);
- `horizon_days`.
A lag day is always on or before the origin, so nothing after the origin enters a row's inputs, whichever rows of
the table are passed in. Tried on the development data and left out (they made the walk-forward worse): the dues of
the lag days (what the naive copies from the past), the receivables due in the week before the target, the 1-week
naive and the horizon as model inputs.
"""

import numpy as np
import pandas as pd

ORIGIN = "origin_date"  # the day the forecast is made: every feature is what was known at its end
TARGET_DATE = "target_date"
LABEL = "net_cash_flow_brl"  # the bank's net movement on target_date (NULL after the last day with data)
HORIZON = 90
NAIVE_WEEKS = 4  # the naive the model corrects: mean of the same weekday over this many observed weeks
NAIVE = "naive_level_4w"

# the table's columns: the money the ERP says falls due on the target day, and whether the bank works that day
SCHEDULED_COLUMNS = ["receivables_due_brl", "payables_due_brl", "imports_arriving_brl"]
SCHEDULED = ("receivables_due_brl", "payables_due_brl")  # the "pay what is due" reference: receivables - payables

# what the model reads (all derived by `model_input`); NAIVE is the level it corrects
FEATURES = [*SCHEDULED_COLUMNS, "target_is_business_day", NAIVE]


def _numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    """A column as floats (ClickHouse Decimals arrive as decimal.Decimal objects, booleans as bool)."""
    return pd.to_numeric(frame[column], errors="coerce").astype(float).fillna(0.0)


def daily_series(frame: pd.DataFrame) -> pd.Series:
    """The observed net cash flow per day (float, indexed by date), from the labelled rows of the frame."""
    known = frame[frame[LABEL].notna()].drop_duplicates(TARGET_DATE)
    series = pd.Series(known[LABEL].astype(float).to_numpy(), index=pd.to_datetime(known[TARGET_DATE]), name=LABEL)
    return series.sort_index()


def lag_days(origins: pd.Series, targets: pd.Series, lag: int) -> pd.Series:
    """Lag `lag` (0, 1, ...) of each target: the same weekday `ceil(horizon / 7) + lag` weeks back, so always on or
    before the origin (the seasonal naive's days)."""
    origin_ts, target_ts = pd.to_datetime(origins), pd.to_datetime(targets)
    steps = -(-(target_ts - origin_ts).dt.days // 7)  # ceil
    return target_ts - pd.to_timedelta(7 * (steps + lag), unit="D")


def model_input(frame: pd.DataFrame) -> pd.DataFrame:
    """The FEATURES columns as floats, for each row of `frame`, plus the derived columns the forecast rule reads
    (see the module docstring).

    Rows need their history in `frame` (the rows whose target days are the lag days) for the lag columns; a lag
    day without an observation counts as zero movement, as in the seasonal naive."""
    index = frame.index
    origins = pd.Series(pd.to_datetime(frame[ORIGIN]).to_numpy(), index=index)
    targets = pd.Series(pd.to_datetime(frame[TARGET_DATE]).to_numpy(), index=index)
    out = pd.DataFrame({column: _numbers(frame, column) for column in SCHEDULED_COLUMNS}, index=index)
    out["target_is_business_day"] = _numbers(frame, "target_is_business_day")
    out["horizon_days"] = (targets - origins).dt.days.astype(float)

    series = daily_series(frame)
    # whether the bank worked on each day (from the horizon-1 rows, which cover every day)
    day_before = frame[out["horizon_days"] == 1].drop_duplicates(TARGET_DATE)
    open_then = pd.Series(
        _numbers(day_before, "target_is_business_day").to_numpy(), index=pd.to_datetime(day_before[TARGET_DATE])
    ).sort_index()

    # the lag days with bank data (every day from the first observed one is in the series, zero when nothing moved)
    first = series.index.min() if not series.empty else pd.Timestamp.max
    used, flows, business = [], [], []
    for lag in range(NAIVE_WEEKS):
        days = lag_days(origins, targets, lag)
        used.append((days >= first).to_numpy(dtype=float))
        flows.append(series.reindex(days).fillna(0.0).to_numpy())
        business.append(open_then.reindex(days).fillna(0.0).to_numpy())
    weights = np.asarray(used)
    count = np.maximum(weights.sum(axis=0), 1.0)

    def mean_over_used(values: list) -> np.ndarray:
        return (np.asarray(values) * weights).sum(axis=0) / count

    out[NAIVE] = mean_over_used(flows)
    out["seasonal_naive_1w"] = flows[0]
    out["lag_business_day_share"] = mean_over_used(business)

    return out


def has_history(frame: pd.DataFrame) -> pd.Series:
    """True for rows whose most recent naive lag day falls on or after the first observed day (a naive exists)."""
    series = daily_series(frame)
    if series.empty:
        return pd.Series(False, index=frame.index)
    latest = lag_days(frame[ORIGIN], frame[TARGET_DATE], 0)
    return pd.Series((latest >= series.index.min()).to_numpy(), index=frame.index)
