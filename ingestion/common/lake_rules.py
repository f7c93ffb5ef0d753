"""The rules that judge a lake profile (`lake_profile.py`): which drift, null or quarantine figure is a problem.

`judge` turns a `DatasetProfile` into `Problem`s with the `Thresholds` (defaults below, documented in
docs/architecture.md, "Lake quality"). A column whose null rate rose by more than `max_null_rate_increase` to
100 % (it had values, now it has none: a field the source stopped sending, or a parser that lost it; loading it
would blank the warehouse) is an "error"; every other rule is a "warn". The mean shift is reported always and
judged only when a threshold is set: a dataset that mixes series moves its mean whenever the mix changes (the
demo's PTAX adds currencies in 2024: parity_buy moved 564 standard deviations of 2023-12), so no default fits
every dataset.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from ingestion.common.lake_profile import DatasetProfile, MonthProfile

# A current month younger than this is not judged on its row count: its first days (a weekend, a holiday) say
# too little about the month's volume.
PARTIAL_MONTH_MIN_DAYS = 7
# A month with fewer rows is not judged on null rates: in 4 rows of a half-null column, all four are null 1 time in
# 16 (an early-month ERP drop of 2 new shipments has no arrival date yet); in 20 rows, 1 time in a million.
NULL_RATE_MIN_ROWS = 20


@dataclass(frozen=True)
class Thresholds:
    """When a month's profile is a problem. Defaults pass on the demo company and fail on the planted cases of
    tests/ingestion/common/test_lake_profile_rules.py."""

    max_quarantine_share: float = 0.05  # quarantined / (landed + quarantined) records
    min_row_ratio: float = 0.5  # rows per covered day, vs the previous partition: below = a collapse
    max_row_ratio: float = 5.0  # above = a surge (duplicates, a window read twice)
    max_null_rate_increase: float = 0.5  # in rate points: 0.0 -> 0.6 null is a problem
    max_mean_shift_sd: float | None = None  # previous standard deviations; None: reported, not judged


@dataclass(frozen=True)
class Problem:
    month: date
    rule: str
    severity: str  # "error" or "warn"
    message: str
    column: str | None = None


def judge(profile: DatasetProfile, thresholds: Thresholds = Thresholds()) -> list[Problem]:
    """The problems of every month of the profile, errors first."""
    problems = [problem for month in profile.months for problem in _judge_month(month, thresholds)]
    return sorted(problems, key=lambda problem: (problem.severity != "error", problem.month))


def _judge_month(month: MonthProfile, limits: Thresholds) -> Iterator[Problem]:
    if month.quarantine_share > limits.max_quarantine_share:
        yield Problem(
            month.month,
            "quarantine_share",
            "warn",
            f"{month.quarantined} of {month.rows + month.quarantined} records quarantined "
            f"({month.quarantine_share:.1%} > {limits.max_quarantine_share:.1%})",
        )
    drift = month.drift
    if drift is None or not month.rows:
        return
    previous = drift.previous_month.strftime("%Y-%m")
    if drift.row_ratio is not None and month.covered_days >= PARTIAL_MONTH_MIN_DAYS:
        if drift.row_ratio < limits.min_row_ratio:
            yield Problem(
                month.month,
                "row_count_drop",
                "warn",
                f"{month.rows} rows, {drift.row_ratio:.2f}x the rows per day of {previous} "
                f"(< {limits.min_row_ratio:g}x)",
            )
        elif drift.row_ratio > limits.max_row_ratio:
            yield Problem(
                month.month,
                "row_count_surge",
                "warn",
                f"{month.rows} rows, {drift.row_ratio:.2f}x the rows per day of {previous} "
                f"(> {limits.max_row_ratio:g}x)",
            )
    for name, change in drift.null_rate_change.items():
        if change > limits.max_null_rate_increase and month.rows >= NULL_RATE_MIN_ROWS:
            emptied = month.column(name).null_rate >= 1.0
            yield Problem(
                month.month,
                "column_emptied" if emptied else "null_rate_increase",
                "error" if emptied else "warn",
                f"{name}: null rate {month.column(name).null_rate:.1%}, up {change:.1%} from {previous}"
                + (" (the column has no value at all)" if emptied else ""),
                name,
            )
    for name, shift in drift.mean_shift_sd.items():
        if limits.max_mean_shift_sd is not None and shift > limits.max_mean_shift_sd:
            yield Problem(
                month.month,
                "mean_shift",
                "warn",
                f"{name}: mean moved {shift:.1f} standard deviations of {previous} (> {limits.max_mean_shift_sd:g})",
                name,
            )
