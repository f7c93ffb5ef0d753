"""The one entry point of the code location: one Definitions built from the defs modules."""

import warnings

import dagster as dg

# Importing this changes no environment, and the resources read their settings through the settings registry
# (ingestion/common/settings_registry.py) only when used; what shapes the definitions themselves is read here
# (APP_ENV: dbt target and sensor status; CLICKHOUSE_URL: the dbt target; the history start of the partitions).
# backfill_policy, pools and schema-change checks are marked beta; we rely on them knowingly.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.SupersessionWarning)

from orchestration.commands.progress import importau_progress_logger  # noqa: E402
from orchestration.defs import (  # noqa: E402
    alerts,
    automation,
    bank_quality,
    bank_statements,
    bcb,
    customs,
    dbt,
    erp,
    erp_events,
    erp_postgres,
    jobs,
    mart_checks,
    ml,
    open_finance,
    open_finance_airbyte,
    pluggy,
)
from orchestration.defs.resources import resources  # noqa: E402

# Each defs module exposes any of: assets, checks, jobs, schedules, sensors. A new source adds its module here.
MODULES = [
    bcb,
    open_finance,
    open_finance_airbyte,
    pluggy,
    erp,
    erp_events,
    erp_postgres,
    customs,
    bank_statements,
    dbt,
    bank_quality,
    ml,
    mart_checks,
    automation,
    alerts,
    jobs,
]


def _collect(name: str) -> list:
    return [item for module in MODULES for item in getattr(module, name, [])]


defs = dg.Definitions(
    assets=_collect("assets"),
    asset_checks=_collect("checks"),
    jobs=_collect("jobs"),
    schedules=_collect("schedules"),
    sensors=_collect("sensors"),
    resources=resources,
    # `console` stays the default; `importau demo` selects `importau_progress` in its run config (progress lines on
    # the terminal, every event in a log file).
    loggers={"console": dg.colored_console_logger, "importau_progress": importau_progress_logger},
    # Steps run in the run worker's process: a step subprocess re-imported every definition first (8.8 s at load 8,
    # measured; steps of UI-launched runs started 11-44 s after their run), while in-process steps started in
    # 0.3-0.8 s. Little parallelism is lost: every warehouse step is in the `warehouse` pool (one at a time on chDB).
    executor=dg.in_process_executor,
)
