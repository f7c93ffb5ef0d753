"""The one entry point of the code location: one Definitions built from the defs modules."""

import warnings

import dagster as dg

from orchestration.env_defaults import apply_env_defaults

apply_env_defaults()
# backfill_policy, pools and schema-change checks are marked beta; we rely on them knowingly.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.SupersessionWarning)

from orchestration.defs import automation, bcb, checks, dbt, jobs  # noqa: E402
from orchestration.defs.resources import resources  # noqa: E402

defs = dg.Definitions(
    assets=[*bcb.assets, *dbt.assets],
    asset_checks=checks.checks,
    jobs=[*automation.jobs, *jobs.jobs],
    schedules=automation.schedules,
    sensors=[*automation.sensors, *checks.sensors],
    resources=resources,
)
