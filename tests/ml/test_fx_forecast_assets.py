"""The FX Dagster assets end to end on the session chDB and a real MLflow store: train (tagged run, registered
version, metadata with metrics and images), the blocking promotion check, and scoring into ml.<model>__scores."""

import csv
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

import dagster as dg
import numpy as np
import pytest

from ml_assets.common import registry
from ml_assets.common.tracking import TAG_DAGSTER_RUN_ID
from ml_assets.fx_forecast import data, train
from ml_assets.fx_forecast.features import FEATURE_COLUMNS, REFERENCE_DIR
from orchestration.defs.ml import fx_forecast
from orchestration.defs.ml.factory import build
from orchestration.resources.mlflow import MLflowResource
from orchestration.resources.warehouse import ClickHouseResource

CALENDAR = "ml.test_fx__calendar"


def _load_features(warehouse, table: str, features) -> None:
    warehouse.command(f"DROP TABLE IF EXISTS {table}")
    columns = ", ".join(f"{name} Float64" for name in FEATURE_COLUMNS)
    warehouse.command(
        f"CREATE TABLE {table} (currency LowCardinality(String), date Date, ptax_sell Decimal(38, 8), {columns}) "
        "ENGINE = MergeTree ORDER BY (currency, date)"
    )
    rows = [
        [row.currency, row.date, Decimal(str(row.ptax_sell)), *(getattr(row, name) for name in FEATURE_COLUMNS)]
        for row in features.itertuples()
    ]
    warehouse.client.insert(table, rows, column_names=["currency", "date", "ptax_sell", *FEATURE_COLUMNS])


def _load_calendar(warehouse) -> None:
    """Business days of Dec 2024 - Mar 2025: weekdays that are not ANBIMA holidays (data/reference)."""
    with (REFERENCE_DIR / "br_holidays_anbima_b3.csv").open() as handle:
        holidays = {r["date"] for r in csv.DictReader(handle) if r["anbima_holiday"] == "1"}
    days = [date(2024, 12, 1) + timedelta(days=n) for n in range(121)]
    warehouse.command(f"DROP TABLE IF EXISTS {CALENDAR}")
    warehouse.command(f"CREATE TABLE {CALENDAR} (date Date, is_business_day Bool) ENGINE = MergeTree ORDER BY date")
    flags = [[d, d.weekday() < 5 and d.isoformat() not in holidays] for d in days]
    warehouse.client.insert(CALENDAR, flags, column_names=["date", "is_business_day"])


def _spec(name: str, table: str):
    return replace(
        fx_forecast.spec,
        name=name,
        load_training_data=partial(data.training_features, table=table),
        train=lambda features, seed: train.train(features, seed=seed, step=120),  # fewer refits: a fast test
        load_scoring_data=partial(data.scoring_inputs, table=table, calendar=CALENDAR),
        scores_table=replace(train.SCORES_TABLE, model_name=name),
    )


def _materialize(spec, chdb_url, store, tmp_path):
    assets, checks = build(spec)
    return dg.materialize(
        [*assets, *checks],
        resources={
            "warehouse": ClickHouseResource(url=chdb_url, data_dir=str(tmp_path)),
            "mlflow": MLflowResource(tracking_uri=store.tracking_uri),
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def test_train_promote_and_score(warehouse, chdb_url, mlflow_store, mlflow_client, fx_features, tmp_path):
    name, table = "fx_forecast_assets_test", "ml.test_fx__features"
    _load_features(warehouse, table, fx_features)
    _load_calendar(warehouse)
    warehouse.command(f"DROP TABLE IF EXISTS ml.{name}__scores")
    spec = _spec(name, table)

    result = _materialize(spec, chdb_url, mlflow_store, tmp_path)

    assert result.success
    model_md = result.asset_materializations_for_node(spec.model_key.to_python_identifier())[0].metadata
    assert model_md["model_version"].value == "1"
    assert model_md["plot/fan_chart"].value.startswith("![fan_chart](data:image/png;base64,iVBORw0KGgo")
    assert model_md["plot/backtest_by_horizon"].value.startswith("![backtest_by_horizon](data:image/png;base64,")
    assert "| mae_ratio_h20 |" in model_md["metrics"].value and "| coverage_h01 |" in model_md["metrics"].value
    assert "random walk" in model_md["notes"].value
    run = mlflow_client.get_run(model_md["mlflow_run_id"].value)
    assert run.data.tags[TAG_DAGSTER_RUN_ID] == result.run_id

    (check,) = result.get_asset_check_evaluations()
    assert check.passed and check.metadata["promoted"].value is True
    assert str(registry.version_by_alias(name, registry.CHAMPION).version) == "1"

    rows = warehouse.query_rows(
        f"SELECT currency, origin_date, horizon_days, target_date, forecast_rate, lower_rate, upper_rate, "
        f"model_name, model_version FROM ml.{name}__scores ORDER BY currency, horizon_days"
    )
    assert len(rows) == 40  # one row per currency x horizon
    assert {(r[0], r[2]) for r in rows} == {(c, h) for c in ("EUR", "USD") for h in range(1, 21)}
    assert {(r[7], r[8]) for r in rows} == {(name, "1")}
    assert {r[1] for r in rows} == {date(2024, 12, 31)}
    usd = {r[2]: r for r in rows if r[0] == "USD"}
    assert usd[1][3] == date(2025, 1, 2)  # 1 January is a holiday
    assert usd[20][3] == date(2025, 1, 29)  # the 20th business day of January 2025
    assert all(r[5] < r[4] < r[6] for r in rows)
    if run.data.params["point_source"] == "random_walk":  # the served point is today's PTAX
        assert {r[4] for r in rows if r[0] == "USD"} == {Decimal("6.19230000")}


def _random_walk_interval_by_hand(features, currency: str, h: int) -> tuple[float, float, float]:
    """(today's PTAX, lower, upper) of the random walk with the empirical 5 %/95 % quantiles of the h-quote log
    returns over the calibration window: the latest max(min(250, 30 % of them), 1) origin dates whose h-quote return
    is known (ForecastParams' defaults), straight from the quotes."""
    by_currency = {c: group.sort_values("date") for c, group in features.groupby("currency")}
    known = sorted({d for group in by_currency.values() for d in group["date"].to_numpy()[:-h]})
    window_start = known[-max(min(250, int(len(known) * 0.3)), 1)]
    quotes = by_currency[currency]
    rates, dates = quotes["ptax_sell"].astype(float).to_numpy(), quotes["date"].to_numpy()
    returns = np.log(rates[h:] / rates[:-h])
    low, high = np.quantile(returns[dates[:-h] >= window_start], [0.05, 0.95])
    return rates[-1], rates[-1] * np.exp(low), rates[-1] * np.exp(high)


def test_a_refused_fx_challenger_leaves_the_random_walk_serving(
    warehouse, chdb_url, mlflow_store, fx_features, tmp_path
):
    # from July 2023 only, refitted every 120 days, the model's intervals score 1.23 x the baseline's: refused
    name, table = "fx_forecast_fallback_test", "ml.test_fx_fallback__features"
    recent = fx_features[fx_features["date"] >= date(2023, 7, 1)].reset_index(drop=True)
    _load_features(warehouse, table, recent)
    _load_calendar(warehouse)
    warehouse.command(f"DROP TABLE IF EXISTS ml.{name}__scores")

    result = _materialize(_spec(name, table), chdb_url, mlflow_store, tmp_path)

    assert result.success
    (check,) = result.get_asset_check_evaluations()
    assert check.passed and check.metadata["promoted"].value is False
    assert check.metadata["challenger"].value > 1 and "does not beat the baseline" in check.metadata["reasons"].value
    assert check.metadata["champion_version"].value == "2" and check.metadata["champion_kind"].value == "baseline"
    assert check.metadata["serving_baseline"].value == "random_walk_quantiles"
    rows = warehouse.query_rows(
        f"SELECT currency, horizon_days, forecast_rate, lower_rate, upper_rate, interval_level, model_version, "
        f"model_kind FROM ml.{name}__scores ORDER BY currency, horizon_days"
    )
    assert len(rows) == 40 and {(r[6], r[7]) for r in rows} == {("2", "baseline")}
    for currency, h, point, lower, upper, level, *_ in rows:
        expected = _random_walk_interval_by_hand(recent, currency, h)
        assert level == pytest.approx(0.9)
        for got, want in zip((point, lower, upper), expected, strict=True):
            assert float(got) == pytest.approx(want, abs=1e-8), (currency, h)
