"""Partition definitions, declared once: one partition per São Paulo calendar MONTH for every source.

The grain follows the data, not the calendar (STYLE.md section 6, issue 10). Dagster writes a PLANNED and a
MATERIALIZATION event per asset per partition, and the lake used to hold one object per day (2.7 rows per BCB
file): a month carries thousands of rows, one object per (entity, month) for the BCB, one per pull day for Open
Finance and one per load day for the ERP (the natural unit of work), and the raw tables are partitioned
`toYYYYMM(_partition_date)`, so a raw load replaces whole ClickHouse partitions. The daily schedules and sensors
re-materialize the CURRENT month; `end_offset=1` makes that month a partition from its first day on.
"""

import os
from datetime import date

import dagster as dg

from orchestration.constants import (
    BCB_START_DATE,
    BUSINESS_TIMEZONE,
    ERP_START_DATE,
    HISTORY_START_ENV,
    MARKET_HISTORY_START_ENV,
    OPEN_FINANCE_START_DATE,
    PLUGGY_START_DATE,
)

# Partitions start where the deployment's data really starts, so the UI lists the months there can be data for,
# not 27 years of "missing" ones: HISTORY_START_ENV and MARKET_HISTORY_START_ENV (unset: each source's earliest
# date). `importau demo` sets both to its range and records them for `importau dev`
# (orchestration/commands/history_range.py). Read when the definitions load: every process of a code location
# must see the same values (the environment they share).


def configured_start(env_name: str, earliest: str) -> str:
    """`earliest`, or the later date the environment variable names (a source has nothing before `earliest`)."""
    value = os.environ.get(env_name, "").strip()
    if not value:
        return earliest
    try:
        configured = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{env_name}={value!r} is not a date (YYYY-MM-DD)") from None
    return max(configured, date.fromisoformat(earliest)).isoformat()


def _monthly(start: str) -> dg.MonthlyPartitionsDefinition:
    first_of_month = date.fromisoformat(start).replace(day=1).isoformat()
    return dg.MonthlyPartitionsDefinition(start_date=first_of_month, timezone=BUSINESS_TIMEZONE, end_offset=1)


def month_key(day: date | str) -> str:
    """The partition key (`YYYY-MM-01`) of the month holding a date (a `date` or `YYYY-MM-DD`)."""
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return day.replace(day=1).isoformat()


bcb_partitions = _monthly(configured_start(MARKET_HISTORY_START_ENV, BCB_START_DATE))
# Open Finance phase 2 opened mid-August 2021; the month is the partition (institutions keep 12 months anyway).
open_finance_partitions = _monthly(configured_start(HISTORY_START_ENV, OPEN_FINANCE_START_DATE))
erp_partitions = _monthly(configured_start(HISTORY_START_ENV, ERP_START_DATE))
pluggy_partitions = _monthly(configured_start(HISTORY_START_ENV, PLUGGY_START_DATE))
