"""Reading the FX forecast's inputs from the warehouse (any object with `query_df`/`query_rows`, e.g.
ingestion.common.warehouse.Warehouse): the dbt features model and the business-day calendar. No Dagster."""

from datetime import date

import pandas as pd

from ml_assets.fx_forecast.features import FEATURE_COLUMNS, HORIZONS

FEATURES_TABLE = "ml.ml_fx_forecast__features"
CALENDAR_TABLE = "marts.dim_calendar"
_COLUMNS = ", ".join(["currency", "date", "toFloat64(ptax_sell) AS ptax_sell", *FEATURE_COLUMNS])


def _frame(warehouse, sql: str) -> pd.DataFrame:
    frame = warehouse.query_df(sql)
    frame["currency"] = frame["currency"].astype(str)
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame


def training_features(warehouse, table: str = FEATURES_TABLE) -> pd.DataFrame:
    """The whole feature history, in currency and date order (ptax_sell as float: a model input, not money)."""
    frame = _frame(warehouse, f"SELECT {_COLUMNS} FROM {table} ORDER BY currency, date")
    if frame.empty:
        raise ValueError(f"{table} is empty: build it (dbt) from marts.fct_fx_rates_daily first")
    return frame


def scoring_inputs(
    warehouse, table: str = FEATURES_TABLE, calendar: str = CALENDAR_TABLE
) -> tuple[pd.DataFrame, list[date]]:
    """(each currency's latest feature row, the business days after the earliest of those origins)."""
    latest = _frame(warehouse, f"SELECT {_COLUMNS} FROM {table} ORDER BY currency, date DESC LIMIT 1 BY currency")
    if latest.empty:
        raise ValueError(f"{table} is empty: nothing to score")
    rows = warehouse.query_rows(
        f"SELECT date FROM {calendar} WHERE is_business_day AND date > %(origin)s ORDER BY date LIMIT %(n)s",
        parameters={"origin": min(latest["date"]), "n": 3 * max(HORIZONS)},
    )
    return latest, [row[0] for row in rows]
