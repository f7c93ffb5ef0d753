"""Asset checks on the BCB data that query ClickHouse outside the raw-load step: business-day gaps in the FX mart,
freshness and column-schema changes of the raw tables. `no_duplicate_keys` runs inside the raw-load step
(`defs/raw_loads.py`); dbt tests become checks on their own (see defs/dbt.py)."""

import datetime as dt
import os

import dagster as dg

from orchestration.constants import BUSINESS_TIMEZONE, WAREHOUSE_POOL
from orchestration.defs.bcb import raw_assets
from orchestration.defs.metadata import run_owner
from orchestration.resources.warehouse import ClickHouseResource

FX_RATES = dg.AssetKey(["marts", "fct_fx_rates_daily"])


@dg.asset_check(
    asset=FX_RATES,
    name="no_business_day_gaps",
    pool=WAREHOUSE_POOL,
    description="Every currency has a rate on every business day between its first and last date.",
)
def no_business_day_gaps(context: dg.AssetCheckExecutionContext, warehouse: ClickHouseResource):
    sql = """
        WITH spans AS (
            SELECT currency, min(date) AS first_day, max(date) AS last_day
            FROM marts.fct_fx_rates_daily GROUP BY currency
        )
        SELECT s.currency, c.date
        FROM spans AS s
        CROSS JOIN marts.dim_calendar AS c
        WHERE c.is_business_day AND c.date BETWEEN s.first_day AND s.last_day
          AND (s.currency, c.date) NOT IN (SELECT currency, date FROM marts.fct_fx_rates_daily)
        ORDER BY s.currency, c.date
    """
    with warehouse.open(owner=run_owner(context)) as wh:
        gaps = wh.query_rows(sql)
    sample = ", ".join(f"{currency} {day}" for currency, day in gaps[:20])
    return dg.AssetCheckResult(
        passed=not gaps,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"missing_business_days": len(gaps), "first_missing": sample or "none"},
    )


freshness_checks = dg.build_time_partition_freshness_checks(
    assets=raw_assets,
    deadline_cron="0 15 * * *",
    timezone=BUSINESS_TIMEZONE,
)
# Wall-clock freshness is for an operating deployment: the sensor evaluates these checks hourly (RUNNING by
# itself only under APP_ENV=prod; start it in the UI elsewhere), and the ingest jobs leave them out (defs/jobs.py):
# a backfill of 2024 is not stale data, and the historical demo would fail them by construction.
freshness_sensor = dg.build_sensor_for_freshness_checks(
    freshness_checks=freshness_checks,
    minimum_interval_seconds=int(dt.timedelta(hours=1).total_seconds()),
    default_status=dg.DefaultSensorStatus.RUNNING
    if os.environ.get("APP_ENV", "local").lower() == "prod"
    else dg.DefaultSensorStatus.STOPPED,
)
FRESHNESS_CHECKS = dg.AssetSelection.checks(*freshness_checks)
schema_checks = dg.build_column_schema_change_checks(assets=raw_assets)

checks = [
    no_business_day_gaps,
    *freshness_checks,
    *schema_checks,
]
sensors = [freshness_sensor]
