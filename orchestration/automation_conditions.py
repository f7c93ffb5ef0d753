"""Named automation conditions (STYLE.md section 6), shared by the defs modules."""

import dagster as dg


def raw_load_condition() -> dg.AutomationCondition:
    """A raw load follows its lake partition as soon as it lands."""
    return dg.AutomationCondition.eager()


def merged_raw_load_condition() -> dg.AutomationCondition:
    """A raw table fed by several lake datasets (the ERP's file drops and its PostgreSQL extraction) loads when any
    of them lands: a channel a deployment does not use stays missing forever and must not hold the others back."""
    return raw_load_condition().without(~dg.AutomationCondition.any_deps_missing()).with_label("eager_any_lake_dataset")


def dbt_condition() -> dg.AutomationCondition:
    """dbt models follow their upstream, without waiting for every historical partition to exist."""
    return dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())


def training_condition(cron_schedule: str, cron_timezone: str) -> dg.AutomationCondition:
    """A model retrains on its cron (weekly), once its features have been refreshed since the tick."""
    return dg.AutomationCondition.on_cron(cron_schedule, cron_timezone)


def scoring_condition() -> dg.AutomationCondition:
    """Scores follow every refresh of their features or model, unless a blocking check upstream failed."""
    return (dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()).with_label(
        "eager_after_blocking_checks"
    )
