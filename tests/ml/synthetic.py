"""Synthetic feature frames shaped like the ml.ml_<model>__features tables, with known structure (planted signal,
planted oddities), for the pure tests and the Dagster asset test of the delay, cash-flow and anomaly models, with
the ClickHouse types of their columns (`*_TYPES`) and `load_frame` to put one into a warehouse table."""

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

from ml_assets.cash_flow.features import HORIZON


def synthetic_shipments(n: int = 240, seed: int = 0, signal: bool = True) -> pd.DataFrame:
    """Shipments departing every ~1.5 days; with `signal`, AIR is rarely late and SEA often, else a coin of 25 %."""
    rng = np.random.default_rng(seed)
    start = date(2024, 1, 1)
    rows = []
    for i in range(n):
        mode = ["SEA", "AIR", "ROAD"][i % 3]
        etd = start + timedelta(days=int(i * 1.5))
        transit = {"SEA": 35, "AIR": 4, "ROAD": 6}[mode]
        p_late = {"SEA": 0.6, "AIR": 0.05, "ROAD": 0.2}[mode] if signal else 0.25
        late = bool(rng.random() < p_late)
        eta = etd + timedelta(days=transit)
        arrival = eta + timedelta(days=int(rng.integers(3, 15)) if late else int(rng.integers(-1, 2)))
        is_open = arrival > date(2024, 12, 31)
        rows.append(
            {
                "shipment_id": f"S{i:04d}",
                "supplier_id": f"SUP{i % 7}",
                "transport_mode": mode,
                "origin_country": ["CHN", "DEU", "USA"][i % 3],
                "customs_unit": "0817800",
                "incoterm": "FOB",
                "eta_month": eta.month,
                "planned_transit_days": transit,
                "order_to_departure_days": 20,
                "log_gross_weight_kg": float(rng.normal(6, 1)),
                "supplier_prior_shipments": i // 7,
                "supplier_prior_late_rate": 0.25,
                "supplier_prior_mean_delay_days": 1.0,
                "route_prior_shipments": i // 3,
                "route_prior_late_rate": 0.25,
                "as_of_date": pd.Timestamp(etd),
                "is_late": None if is_open else late,
                "label_known_date": None if is_open else pd.Timestamp(arrival),
                "is_open": is_open,
                "data_as_of_date": pd.Timestamp(date(2024, 12, 31)),
            }
        )
    return pd.DataFrame(rows)


# the weekday pattern of `synthetic_cash_flow(weekly=True)`: Monday..Friday net movement, BRL
WEEKDAY_LEVELS = (400_000.0, -250_000.0, 150_000.0, -350_000.0, 50_000.0)


def synthetic_cash_flow(days: int = 220, seed: int = 0, weekly: bool = False) -> pd.DataFrame:
    """Business days move ~90 % of the receivables and payables due that day plus noise; weekends nothing.
    The last 30 days have no observation (the future).

    `weekly=True`: the dues say nothing; each business day moves its weekday's level (`WEEKDAY_LEVELS`) plus
    noise, which a seasonal naive copies and a regression on the dues cannot: the model loses to the baseline."""
    rng = np.random.default_rng(seed)
    start = date(2024, 1, 1)
    calendar = [start + timedelta(days=i) for i in range(days + HORIZON + 1)]
    business = {d: d.weekday() < 5 for d in calendar}
    receivable = {d: float(rng.gamma(2, 50_000)) if business[d] else 0.0 for d in calendar}
    payable = {d: float(rng.gamma(1.5, 60_000)) if business[d] else 0.0 for d in calendar}
    observed_until = start + timedelta(days=days - 30)
    if weekly:
        actual = {d: WEEKDAY_LEVELS[d.weekday()] + rng.normal(0, 60_000) if business[d] else 0.0 for d in calendar}
    else:
        actual = {
            d: (0.9 * receivable[d] - 0.95 * payable[d] + rng.normal(0, 20_000)) if business[d] else 0.0
            for d in calendar
        }
    rows = []
    for o in range(days - 29):
        origin = start + timedelta(days=o)
        for h in range(1, HORIZON + 1):
            target = origin + timedelta(days=h)
            rows.append(
                {
                    "origin_date": pd.Timestamp(origin),
                    "target_date": pd.Timestamp(target),
                    "horizon_days": h,
                    "target_weekday": target.isoweekday(),
                    "target_is_business_day": business[target],
                    "receivables_due_brl": Decimal(f"{receivable[target]:.4f}"),
                    "payables_due_brl": Decimal(f"{payable[target]:.4f}"),
                    "imports_arriving_brl": Decimal("0"),
                    "net_cash_flow_brl": Decimal(f"{actual[target]:.4f}") if target <= observed_until else None,
                }
            )
    return pd.DataFrame(rows)


def synthetic_movements(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, list[str]]:
    """Ordinary movements in business hours, plus four planted oddities that each raise one red flag."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "bank_transaction_id": [f"T{i:05d}" for i in range(n)],
            "booking_date": pd.Timestamp("2024-06-03") + pd.to_timedelta(rng.integers(0, 180, n), unit="D"),
            "amount_log_zscore_type": rng.normal(0, 1, n),
            "amount_log_zscore_counterparty": rng.normal(0, 1, n),
            "hour_sao_paulo": rng.integers(8, 19, n),
            "is_off_hours": False,
            "is_weekend_or_holiday": False,
            "is_round_amount": False,
            "is_unknown_counterparty": False,
            "same_amount_counterparty_prior_7d": 0,
            "fx_spread_over_ptax": np.where(rng.random(n) < 0.1, rng.uniform(0.002, 0.009, n), 0.0),
            "fx_duplicate_prior_10d": 0,
            "is_just_below_limit": rng.random(n) < 0.03,  # ordinary debits that happen to fall just under it
            "below_limit_counterparty_prior_3d": 0,
        }
    )
    frame.loc[10, ["hour_sao_paulo", "is_off_hours", "is_weekend_or_holiday"]] = [2, True, True]
    frame.loc[20, ["is_round_amount", "is_unknown_counterparty"]] = [True, True]
    frame.loc[30, ["fx_spread_over_ptax", "fx_duplicate_prior_10d"]] = [0.006, 1]
    frame.loc[40, ["is_just_below_limit", "below_limit_counterparty_prior_3d"]] = [True, 2]
    return frame, ["T00010", "T00020", "T00030", "T00040"]


DELAY_TYPES = {
    "shipment_id": "String",
    "supplier_id": "String",
    "transport_mode": "String",
    "origin_country": "String",
    "customs_unit": "String",
    "incoterm": "String",
    "eta_month": "UInt8",
    "planned_transit_days": "Int32",
    "order_to_departure_days": "Int32",
    "log_gross_weight_kg": "Float64",
    "supplier_prior_shipments": "UInt32",
    "supplier_prior_late_rate": "Float64",
    "supplier_prior_mean_delay_days": "Float64",
    "route_prior_shipments": "UInt32",
    "route_prior_late_rate": "Float64",
    "as_of_date": "Date",
    "is_late": "Nullable(Bool)",
    "label_known_date": "Nullable(Date)",
    "is_open": "Bool",
    "data_as_of_date": "Date",
}
CASH_TYPES = {
    "origin_date": "Date",
    "target_date": "Date",
    "horizon_days": "UInt16",
    "target_weekday": "UInt8",
    "target_is_business_day": "Bool",
    "receivables_due_brl": "Decimal(18, 4)",
    "payables_due_brl": "Decimal(18, 4)",
    "imports_arriving_brl": "Decimal(18, 4)",
    "net_cash_flow_brl": "Nullable(Decimal(18, 4))",
}
ANOMALY_TYPES = {
    "bank_transaction_id": "String",
    "booking_date": "Date",
    "amount_log_zscore_type": "Float64",
    "amount_log_zscore_counterparty": "Float64",
    "hour_sao_paulo": "UInt8",
    "is_off_hours": "Bool",
    "is_weekend_or_holiday": "Bool",
    "is_round_amount": "Bool",
    "is_unknown_counterparty": "Bool",
    "same_amount_counterparty_prior_7d": "UInt32",
    "fx_spread_over_ptax": "Float64",
    "fx_duplicate_prior_10d": "UInt32",
    "is_just_below_limit": "Bool",
    "below_limit_counterparty_prior_3d": "UInt32",
}


def _plain(value):
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value.item() if hasattr(value, "item") else value


def load_frame(warehouse, table: str, frame: pd.DataFrame, types: dict[str, str]) -> None:
    """(Re)create `table` in the warehouse with the columns `types` names, holding `frame`'s rows."""
    warehouse.command(f"DROP TABLE IF EXISTS {table}")
    columns = ", ".join(f"`{name}` {type_}" for name, type_ in types.items())
    warehouse.command(f"CREATE TABLE {table} ({columns}) ENGINE = MergeTree ORDER BY tuple()")
    rows = [[_plain(row[name]) for name in types] for row in frame.to_dict("records")]
    warehouse.client.insert(table, rows, column_names=list(types))
