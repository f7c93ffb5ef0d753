"""Open Finance checks that query ClickHouse: a recent pull per institution (warn) and balance continuity (warn).
`no_duplicate_keys` per pull day (blocking) runs inside the raw-load step (`defs/raw_loads.py`)."""

from collections.abc import Mapping
from datetime import date, timedelta

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from ingestion.common.clock import sao_paulo_today
from orchestration.constants import WAREHOUSE_POOL
from orchestration.defs.dbt import dbt_models
from orchestration.defs.metadata import run_owner
from orchestration.defs.open_finance.ingest import DATASETS, PULLS, raw_key
from orchestration.resources.warehouse import ClickHouseResource

RANGE_END_TAG = "dagster/asset_partition_range_end"  # a ranged run's last partition (a month key)
PARTITION_TAG = "dagster/partition"  # a single-partition run's
FRESHNESS_DAYS = 2  # a daily pull per institution; two days late is worth a warning
BALANCE_TOLERANCE = "0.01"  # BRL
TRANSACTIONS = next(dataset for dataset in DATASETS if dataset.entity == "transactions")
PULLS_DATASET = next(dataset for dataset in DATASETS if dataset.entity == PULLS)
# the staging models' keys, from the dbt manifest
STG_BALANCES = get_asset_key_for_model([dbt_models], "stg_open_finance__balances")
STG_TRANSACTIONS = get_asset_key_for_model([dbt_models], "stg_open_finance__transactions")


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


BALANCE_CONTINUITY_SQL = f"""
    WITH snapshots AS (
        SELECT institution, account_id, update_datetime, available_amount,
               lagInFrame(update_datetime) OVER w AS previous_datetime,
               lagInFrame(available_amount) OVER w AS previous_amount,
               row_number() OVER w AS n
        FROM staging.stg_open_finance__balances
        WINDOW w AS (PARTITION BY institution, account_id ORDER BY update_datetime
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    ),
    intervals AS (SELECT * FROM snapshots WHERE n > 1),
    moves AS (
        SELECT i.institution, i.account_id, i.update_datetime, sum(t.signed_amount) AS moved
        FROM intervals AS i
        INNER JOIN staging.stg_open_finance__transactions AS t
            ON t.institution = i.institution AND t.account_id = i.account_id
        WHERE t.status = 'TRANSACAO_EFETIVADA'
          AND t.transaction_datetime > i.previous_datetime AND t.transaction_datetime <= i.update_datetime
        GROUP BY i.institution, i.account_id, i.update_datetime
    )
    SELECT i.institution, i.account_id, i.previous_datetime, i.update_datetime, i.previous_amount,
           m.moved, i.available_amount
    FROM intervals AS i
    LEFT JOIN moves AS m ON m.institution = i.institution AND m.account_id = i.account_id
        AND m.update_datetime = i.update_datetime
    WHERE abs(i.previous_amount + m.moved - i.available_amount) > toDecimal64('{BALANCE_TOLERANCE}', 4)
    ORDER BY i.institution, i.account_id, i.update_datetime
"""


@dg.asset_check(
    asset=STG_BALANCES,
    name="balance_continuity",
    additional_deps=[STG_TRANSACTIONS],
    pool=WAREHOUSE_POOL,
    description=(
        "Between two balance snapshots of an account, the previous available balance plus the posted transactions "
        f"in between equals the next one (tolerance {BALANCE_TOLERANCE} BRL)."
    ),
)
def balance_continuity(context: dg.AssetCheckExecutionContext, warehouse: ClickHouseResource):
    with warehouse.open(owner=run_owner(context)) as wh:
        compared = wh.query_rows(
            "SELECT count() - uniqExact(institution, account_id) FROM staging.stg_open_finance__balances"
        )[0][0]
        breaks = wh.query_rows(BALANCE_CONTINUITY_SQL)
    sample = "; ".join(
        f"{inst}/{account} {before}..{after}: {prev} + {moved} != {amount}"
        for inst, account, before, after, prev, moved, amount in breaks[:10]
    )
    return dg.AssetCheckResult(
        passed=not breaks,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"intervals_compared": compared, "breaks": len(breaks), "first_breaks": sample or "none"},
    )


checks = [recent_pull_per_institution, balance_continuity]
