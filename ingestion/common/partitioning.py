"""Split an extraction that covers a date range into one table per calendar day of that range."""

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
