"""Named automation conditions (STYLE.md section 6), shared by the defs modules."""

import dagster as dg


def raw_load_condition() -> dg.AutomationCondition:
    """A raw load follows its lake partition as soon as it lands."""
    return dg.AutomationCondition.eager()


def dbt_condition() -> dg.AutomationCondition:
    """dbt models follow their upstream, without waiting for every historical partition to exist."""
    return dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())
