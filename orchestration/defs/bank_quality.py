"""Checks on the unified bank staging (`staging.stg_bank__*`, dbt_project/models/staging/bank/README.md), so they
run whichever bank source fed the platform: Open Finance, the Pluggy aggregator, OFX or CNAB 240 statement files.

- `balance_continuity` on `stg_bank__balances` (warn): between two balance snapshots of one bank account
  (`bank_account_key`), the earlier available balance plus the posted movements in between equals the later one.
  Every source's balances obey it: Open Finance's and Pluggy's snapshots, an OFX file's LEDGERBAL/AVAILBAL, a
  CNAB 240 batch's final balance of the day. A break names the bank source of both snapshots and of the movements
  in between, so a source that delivers a wrong balance or misses a movement is found.

The checks about Open Finance's own pulls stay in `defs/open_finance/quality.py`: no other source has pulls.
"""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.constants import WAREHOUSE_POOL
from orchestration.defs.dbt import dbt_models
from orchestration.defs.metadata import run_owner
from orchestration.resources.warehouse import ClickHouseResource

BALANCE_TOLERANCE = "0.01"  # BRL
SAMPLE = 10  # how many breaks the metadata spells out
# the staging models' keys, from the dbt manifest
STG_BALANCES = get_asset_key_for_model([dbt_models], "stg_bank__balances")
STG_TRANSACTIONS = get_asset_key_for_model([dbt_models], "stg_bank__transactions")

# One row per pair of consecutive snapshots of an account that the posted movements between them do not explain.
# `sources`: the bank sources of the two snapshots and of those movements. The LEFT JOIN gives an interval without
# movements `moved` 0 and no source (the warehouse does not set join_use_nulls; coalesce keeps it so if one does).
BALANCE_CONTINUITY_SQL = f"""
    WITH snapshots AS (
        SELECT bank_account_key, bank_source, update_datetime, available_amount,
               lagInFrame(update_datetime) OVER w AS previous_datetime,
               lagInFrame(available_amount) OVER w AS previous_amount,
               lagInFrame(bank_source) OVER w AS previous_source,
               row_number() OVER w AS n
        FROM staging.stg_bank__balances
        WINDOW w AS (PARTITION BY bank_account_key ORDER BY update_datetime
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    ),
    intervals AS (SELECT * FROM snapshots WHERE n > 1),
    moves AS (
        SELECT i.bank_account_key AS bank_account_key, i.update_datetime AS update_datetime,
               sum(t.signed_amount) AS moved, groupUniqArray(toString(t.bank_source)) AS movement_sources
        FROM intervals AS i
        INNER JOIN staging.stg_bank__transactions AS t ON t.bank_account_key = i.bank_account_key
        WHERE t.status = 'TRANSACAO_EFETIVADA'
          AND t.transaction_datetime > i.previous_datetime AND t.transaction_datetime <= i.update_datetime
        GROUP BY i.bank_account_key, i.update_datetime
    )
    SELECT i.bank_account_key, i.previous_datetime, i.update_datetime, i.previous_amount,
           coalesce(m.moved, 0) AS moved, i.available_amount,
           arraySort(arrayDistinct(arrayConcat(
               [toString(i.previous_source), toString(i.bank_source)], m.movement_sources
           ))) AS sources
    FROM intervals AS i
    LEFT JOIN moves AS m ON m.bank_account_key = i.bank_account_key AND m.update_datetime = i.update_datetime
    WHERE abs(i.previous_amount + coalesce(m.moved, 0) - i.available_amount) > toDecimal64('{BALANCE_TOLERANCE}', 4)
    ORDER BY i.bank_account_key, i.update_datetime
"""
# What was compared: per bank source, its snapshots that follow another snapshot of the same account
COMPARED_SQL = """
    SELECT toString(bank_source) AS source, countIf(n > 1) AS intervals
    FROM (
        SELECT bank_source, row_number() OVER (PARTITION BY bank_account_key ORDER BY update_datetime) AS n
        FROM staging.stg_bank__balances
    )
    GROUP BY source
    ORDER BY source
"""


def describe_break(row: tuple) -> str:
    """One break for the metadata: the account key, the interval, its arithmetic and the sources involved."""
    key, before, after, previous, moved, amount, sources = row
    return f"{key} {before}..{after} [{', '.join(sources)}]: {previous} + {moved} != {amount}"


def continuity_result(compared: list[tuple], breaks: list[tuple]) -> dg.AssetCheckResult:
    """The check's result from COMPARED_SQL's and BALANCE_CONTINUITY_SQL's rows."""
    by_source: dict[str, int] = {}
    for *_, sources in breaks:
        for source in sources:
            by_source[source] = by_source.get(source, 0) + 1
    return dg.AssetCheckResult(
        passed=not breaks,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "bank_sources": ", ".join(source for source, _ in compared) or "none",
            "intervals_compared": sum(intervals for _, intervals in compared),
            "intervals_compared_by_source": {source: intervals for source, intervals in compared},
            "breaks": len(breaks),
            "breaks_by_source": by_source,
            "sources_of_breaks": ", ".join(sorted(by_source)) or "none",
            "first_breaks": "; ".join(describe_break(row) for row in breaks[:SAMPLE]) or "none",
        },
    )


@dg.asset_check(
    asset=STG_BALANCES,
    name="balance_continuity",
    additional_deps=[STG_TRANSACTIONS],
    pool=WAREHOUSE_POOL,
    description=(
        "Between two balance snapshots of a bank account (bank_account_key), whichever bank source gave them, the "
        "previous available balance plus the posted transactions in between equals the next one (tolerance "
        f"{BALANCE_TOLERANCE} BRL); a break names the sources of its snapshots and movements."
    ),
)
def balance_continuity(context: dg.AssetCheckExecutionContext, warehouse: ClickHouseResource):
    with warehouse.open(owner=run_owner(context)) as wh:
        compared = wh.query_rows(COMPARED_SQL)
        breaks = wh.query_rows(BALANCE_CONTINUITY_SQL)
    return continuity_result(compared, breaks)


checks = [balance_continuity]
