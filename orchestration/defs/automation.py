"""Schedules start the ingestion roots; automation sensors move everything downstream."""

import os
from datetime import date

import dagster as dg

from orchestration.constants import BUSINESS_TIMEZONE
from orchestration.partitions import month_key
from orchestration.run_resources import k8s_run_tags

BCB_LAKE = dg.AssetSelection.groups("bcb") & dg.AssetSelection.key_prefixes("lake")
BCB_SGS_LAKE = dg.AssetSelection.assets(dg.AssetKey(["lake", "bcb__sgs_observations"]))
OPEN_FINANCE_PULL = dg.AssetSelection.groups("open_finance") & dg.AssetSelection.key_prefixes("lake")
INGESTION_DOWNSTREAM = dg.AssetSelection.key_prefixes("raw") - dg.AssetSelection.groups("seeds")
DBT = dg.AssetSelection.key_prefixes("staging", "intermediate", "marts") | dg.AssetSelection.groups("seeds")
DBT_ML_FEATURES = dg.AssetSelection.key_prefixes("ml") & dg.AssetSelection.kind("dbt")
ML = dg.AssetSelection.key_prefixes("ml") - DBT_ML_FEATURES  # training (weekly cron) and scoring


def default_sensor_status() -> dg.DefaultSensorStatus:
    """Automation runs by itself everywhere except in CI, where tests drive every run."""
    running = os.environ.get("APP_ENV", "local").lower() != "ci"
    return dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED


bcb_ingestion_job = dg.define_asset_job("bcb_ingestion", selection=BCB_LAKE)


@dg.schedule(job=bcb_ingestion_job, cron_schedule="45 13 * * *", execution_timezone=BUSINESS_TIMEZONE)
def bcb_daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Every day after PTAX is final (~13:00 BRT): re-pull the current month (month to date, one ranged request
    per dataset), which lands today's quotes the same day."""
    today = context.scheduled_execution_time.date()
    return dg.RunRequest(run_key=today.isoformat(), partition_key=month_key(today))


@dg.schedule(target=OPEN_FINANCE_PULL, cron_schedule="0 7 * * *", execution_timezone=BUSINESS_TIMEZONE)
def open_finance_daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Every morning: the current month's partition, which pulls today's view only (the month's earlier pull days
    are already in the lake and kept)."""
    today = context.scheduled_execution_time.date()
    return dg.RunRequest(run_key=today.isoformat(), partition_key=month_key(today))


def first_days_of_previous_months(today: date, months: int) -> list[str]:
    """Partition keys of each of the previous `months` months (monthly SGS series are dated on the 1st)."""
    keys, year, month = [], today.year, today.month
    for _ in range(months):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        keys.append(date(year, month, 1).isoformat())
    return keys


@dg.schedule(
    target=BCB_SGS_LAKE,
    cron_schedule="0 14 16 * *",
    execution_timezone=BUSINESS_TIMEZONE,
)
def bcb_monthly_series_schedule(context: dg.ScheduleEvaluationContext):
    """Monthly series (IPCA, IGP-M) are dated on the 1st but published weeks later: re-pull the last two months."""
    today = context.scheduled_execution_time.date()
    for key in first_days_of_previous_months(today, months=2):
        yield dg.RunRequest(run_key=f"{today.isoformat()}:{key}", partition_key=key)


ingestion_automation = dg.AutomationConditionSensorDefinition(
    "ingestion_automation",
    target=INGESTION_DOWNSTREAM,
    run_tags={"importau/family": "ingestion", **k8s_run_tags("ingestion")},
    default_status=default_sensor_status(),
)

dbt_automation = dg.AutomationConditionSensorDefinition(
    "dbt_automation",
    target=DBT | DBT_ML_FEATURES,
    run_tags={"importau/family": "dbt", **k8s_run_tags("transform")},  # pod size on Kubernetes
    default_status=default_sensor_status(),
)

ml_automation = dg.AutomationConditionSensorDefinition(
    "ml_automation",
    target=ML,
    run_tags={"importau/family": "ml", **k8s_run_tags("ml")},
    default_status=default_sensor_status(),
)

schedules = [bcb_daily_schedule, bcb_monthly_series_schedule, open_finance_daily_schedule]
sensors = [ingestion_automation, dbt_automation, ml_automation]
jobs = [bcb_ingestion_job]
