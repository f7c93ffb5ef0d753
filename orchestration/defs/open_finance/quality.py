"""Open Finance checks that query ClickHouse about Open Finance's own data: a recent pull per institution (warn),
from `raw.open_finance__pulls`, the log of the pulls only this source makes (a statement file arrives, an aggregator
syncs on its own schedule). `no_duplicate_keys` per pull day (blocking) runs inside the raw-load step
(`defs/raw_loads.py`). Balance continuity holds for every bank source, so it is a check on the unified bank staging
(`defs/bank_quality.py`), not on `stg_open_finance__balances`."""

from collections.abc import Mapping
from datetime import date, timedelta

import dagster as dg

from ingestion.common.clock import sao_paulo_today
from orchestration.constants import WAREHOUSE_POOL
from orchestration.defs.metadata import run_owner
from orchestration.defs.open_finance.ingest import DATASETS, PULLS, raw_key
from orchestration.resources.warehouse import ClickHouseResource

RANGE_END_TAG = "dagster/asset_partition_range_end"  # a ranged run's last partition (a month key)
PARTITION_TAG = "dagster/partition"  # a single-partition run's
FRESHNESS_DAYS = 2  # a daily pull per institution; two days late is worth a warning
TRANSACTIONS = next(dataset for dataset in DATASETS if dataset.entity == "transactions")
PULLS_DATASET = next(dataset for dataset in DATASETS if dataset.entity == PULLS)


def reference_day(run_tags: Mapping[str, str], today: date) -> date:
    """The day the pulls must reach: the business today (São Paulo, or IMPORTAU_TODAY in replays), or the last
    day of the run's partitions when they end earlier. A backfill of 2024 is judged on 2024's last day, not on
    today; the daily run of the current month on today."""
    last_month = run_tags.get(RANGE_END_TAG) or run_tags.get(PARTITION_TAG)
    if not last_month:
        return today
    first = date.fromisoformat(last_month)
    month_end = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return min(month_end, today)


@dg.asset_check(
    asset=raw_key(TRANSACTIONS),
    name="recent_pull_per_institution",
    additional_deps=[raw_key(PULLS_DATASET)],
    pool=WAREHOUSE_POOL,
    description=(
        f"Every institution's latest pull (raw.open_finance__pulls) is at most {FRESHNESS_DAYS} days older than "
        "today (São Paulo), or than the last day of the run's partitions when a backfill ends earlier."
    ),
)
def recent_pull_per_institution(context: dg.AssetCheckExecutionContext, warehouse: ClickHouseResource):
    reference = reference_day(context.run.tags, sao_paulo_today())
    sql = (
        "SELECT institution, max(pull_date) AS latest, dateDiff('day', latest, {reference:Date}) AS age "
        "FROM raw.open_finance__pulls GROUP BY institution ORDER BY institution"
    )
    with warehouse.open(owner=run_owner(context)) as wh:
        rows = wh.query_rows(sql, parameters={"reference": reference})
    stale = [(name, latest, age) for name, latest, age in rows if age > FRESHNESS_DAYS]
    return dg.AssetCheckResult(
        passed=not stale,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "reference_day": reference.isoformat(),
            "institutions": len(rows),
            "stale": ", ".join(f"{name} (last pull {latest}, {age} days ago)" for name, latest, age in stale) or "none",
        },
    )


checks = [recent_pull_per_institution]
