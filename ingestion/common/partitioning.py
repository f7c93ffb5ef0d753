"""Split an extraction that covers a date range into one table per calendar day, or per month, of that range."""

from datetime import date, timedelta

import pyarrow as pa
import pyarrow.compute as pc


def days_between(start: date, end: date) -> list[date]:
    """Every calendar date from start to end, both included."""
    if end < start:
        raise ValueError(f"date range ends before it starts: {start}..{end}")
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def split_by_day(table: pa.Table, column: str, start: date, end: date) -> dict[date, pa.Table]:
    """One table per day of the range, in order; days without rows get a zero-row table with the schema.

    Rows dated outside the range are an error: the caller asked the source for this window only.
    """
    days = days_between(start, end)
    if table.num_rows:
        low, high = pc.min(table[column]).as_py(), pc.max(table[column]).as_py()
        if low < start or high > end:
            raise ValueError(f"rows dated {low}..{high} fall outside the requested window {start}..{end}")
    parts: dict[date, pa.Table] = {}
    for day in days:
        mask = pc.equal(table[column], pa.scalar(day, type=table.schema.field(column).type))
        parts[day] = table.filter(mask)
    return parts


def month_start(day: date) -> date:
    """The first day of the month holding `day` (a month partition's key)."""
    return day.replace(day=1)


def month_end(day: date) -> date:
    """The last day of the month holding `day`."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def month_starts(start: date, end: date) -> list[date]:
    """The first day of every month that start..end (both included) touches, in order."""
    if end < start:
        raise ValueError(f"date range ends before it starts: {start}..{end}")
    months, month = [], month_start(start)
    while month <= end:
        months.append(month)
        month = month_end(month) + timedelta(days=1)
    return months


def split_by_month(table: pa.Table, column: str, start: date, end: date) -> dict[date, pa.Table]:
    """One table per month of the range (keyed by its first day), in order; months without rows get zero rows.

    Rows dated outside the range are an error, as in `split_by_day`.
    """
    if table.num_rows:
        low, high = pc.min(table[column]).as_py(), pc.max(table[column]).as_py()
        if low < start or high > end:
            raise ValueError(f"rows dated {low}..{high} fall outside the requested window {start}..{end}")
    dates = table[column]
    parts: dict[date, pa.Table] = {}
    for month in month_starts(start, end):
        next_month = month_end(month) + timedelta(days=1)
        kind = table.schema.field(column).type
        mask = pc.and_(
            pc.greater_equal(dates, pa.scalar(month, type=kind)), pc.less(dates, pa.scalar(next_month, type=kind))
        )
        parts[month] = table.filter(mask)
    return parts
