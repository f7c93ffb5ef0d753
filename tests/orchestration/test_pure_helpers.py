from datetime import date

import pyarrow as pa
import pytest

from ingestion.common.partitioning import days_between, month_start, month_starts, split_by_day, split_by_month
from orchestration.dbt_args import dbt_build_args, dbt_target
from orchestration.defs.automation import first_days_of_previous_months


def test_dbt_target_follows_app_env():
    assert dbt_target(None) == "local"
    assert dbt_target("CI") == "ci"
    assert dbt_target("prod") == "prod"
    with pytest.raises(ValueError, match="APP_ENV"):
        dbt_target("staging")


def test_a_server_url_selects_the_server_target():
    assert dbt_target("local", "https://bi:secret@ch.example.com:8443/") == "prod"
    assert dbt_target("ci", "chdb:///srv/warehouse") == "ci"
    assert dbt_target("local", "") == "local"


def test_dbt_build_args():
    # the Dagster step leaves the unit tests to CI's direct builds (orchestration/dbt_args.py)
    assert dbt_build_args() == ["build", "--exclude-resource-type", "unit_test"]
    assert dbt_build_args(full_refresh=True) == ["build", "--full-refresh", "--exclude-resource-type", "unit_test"]


def test_first_days_of_previous_months_crosses_the_year():
    assert first_days_of_previous_months(date(2025, 2, 16), 2) == ["2025-01-01", "2024-12-01"]


def test_split_by_day_gives_every_day_even_empty_ones():
    table = pa.table({"d": pa.array([date(2024, 1, 5), date(2024, 1, 8), date(2024, 1, 8)], pa.date32())})
    parts = split_by_day(table, "d", date(2024, 1, 5), date(2024, 1, 8))
    assert list(parts) == days_between(date(2024, 1, 5), date(2024, 1, 8))
    assert [parts[day].num_rows for day in parts] == [1, 0, 0, 2]
    assert parts[date(2024, 1, 6)].schema == table.schema


def test_split_by_day_refuses_rows_outside_the_window():
    table = pa.table({"d": pa.array([date(2024, 1, 9)], pa.date32())})
    with pytest.raises(ValueError, match="outside the requested window"):
        split_by_day(table, "d", date(2024, 1, 5), date(2024, 1, 8))


def test_split_by_month_gives_every_month_of_the_range_even_empty_ones():
    table = pa.table({"d": pa.array([date(2024, 1, 31), date(2024, 3, 1), date(2024, 3, 31)], pa.date32())})
    parts = split_by_month(table, "d", date(2024, 1, 1), date(2024, 3, 31))
    assert list(parts) == [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)]
    assert [parts[month].num_rows for month in parts] == [1, 0, 2]
    with pytest.raises(ValueError, match="outside"):
        split_by_month(table, "d", date(2024, 2, 1), date(2024, 3, 31))


def test_month_starts_cross_years():
    assert month_start(date(2024, 2, 29)) == date(2024, 2, 1)
    assert month_starts(date(2023, 11, 15), date(2024, 2, 1)) == [
        date(2023, 11, 1),
        date(2023, 12, 1),
        date(2024, 1, 1),
        date(2024, 2, 1),
    ]
