"""Partition definitions, declared once: one partition per São Paulo calendar MONTH for every source.

The grain follows the data, not the calendar (STYLE.md section 6, issue 10). Dagster writes a PLANNED and a
MATERIALIZATION event per asset per partition, and the lake used to hold one object per day (2.7 rows per BCB
file): a month carries thousands of rows, one object per (entity, month) for the BCB, one per pull day for Open
Finance and one per load day for the ERP (the natural unit of work), and the raw tables are partitioned
`toYYYYMM(_partition_date)`, so a raw load replaces whole ClickHouse partitions. The daily schedules and sensors
re-materialize the CURRENT month; `end_offset=1` makes that month a partition from its first day on.
"""

from datetime import date

import dagster as dg

from orchestration.constants import BCB_START_DATE, BUSINESS_TIMEZONE, ERP_START_DATE, OPEN_FINANCE_START_DATE


def _monthly(start: str) -> dg.MonthlyPartitionsDefinition:
    first_of_month = date.fromisoformat(start).replace(day=1).isoformat()
    return dg.MonthlyPartitionsDefinition(start_date=first_of_month, timezone=BUSINESS_TIMEZONE, end_offset=1)


def month_key(day: date | str) -> str:
    """The partition key (`YYYY-MM-01`) of the month holding a date (a `date` or `YYYY-MM-DD`)."""
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return day.replace(day=1).isoformat()


bcb_partitions = _monthly(BCB_START_DATE)
# Open Finance phase 2 opened mid-August 2021; the month is the partition (institutions keep 12 months anyway).
open_finance_partitions = _monthly(OPEN_FINANCE_START_DATE)
erp_partitions = _monthly(ERP_START_DATE)
