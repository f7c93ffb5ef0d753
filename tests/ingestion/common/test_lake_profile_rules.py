"""The DuckDB profile of a folder lake (lake_profile.py) and its rules (lake_rules.py): a clean history passes,
each planted problem fails."""

import statistics
from datetime import date, timedelta
from decimal import Decimal

import pyarrow as pa
import pytest

from ingestion.common.lake import LocalLake
from ingestion.common.lake_profile import profile_dataset
from ingestion.common.lake_rules import NULL_RATE_MIN_ROWS, PARTIAL_MONTH_MIN_DAYS, Thresholds, judge
from ingestion.common.quarantine import QuarantineRecord

SCHEMA = pa.schema(
    [
        pa.field("code", pa.string(), nullable=False),
        pa.field("amount", pa.decimal128(38, 15), nullable=False),
        pa.field("note", pa.string()),
        pa.field("booked_on", pa.date32(), nullable=False),
    ]
)
AS_OF = date(2026, 1, 1)  # every month of 2024 is complete


def month_rows(month: date, count: int, *, note=lambda i: f"n{i % 3}", amount=lambda i: Decimal(100 + i % 17)):
    return pa.Table.from_pylist(
        [
            {"code": f"C{i % 5}", "amount": amount(i), "note": note(i), "booked_on": month + timedelta(days=i % 28)}
            for i in range(count)
        ],
        schema=SCHEMA,
    )


def quarantine(count: int) -> list[QuarantineRecord]:
    return [QuarantineRecord("src", "things", f"row={i}", "bad amount", "x") for i in range(count)]


@pytest.fixture
def lake(tmp_path) -> LocalLake:
    """Jan, Feb and (after an empty April) May 2024 with 300 rows each, two objects in February."""
    lake = LocalLake(tmp_path / "lake")
    lake.write_partition("src", "things", date(2024, 1, 31), month_rows(date(2024, 1, 1), 300))
    lake.write_partition("src", "things", date(2024, 2, 10), month_rows(date(2024, 2, 1), 150))
    lake.write_partition("src", "things", date(2024, 2, 20), month_rows(date(2024, 2, 1), 130))
    lake.write_partition("src", "things", date(2024, 3, 31), month_rows(date(2024, 3, 1), 310))
    lake.write_quarantine("src", "things", date(2024, 3, 31), quarantine(3))
    return lake


def test_profile_counts_rows_objects_nulls_distincts_min_max_and_quantiles(lake):
    table = month_rows(date(2024, 3, 1), 310)
    profile = profile_dataset(lake, "src", "things", date(2024, 3, 1), date(2024, 3, 31), AS_OF)
    (march,) = profile.months
    assert (march.rows, march.objects, march.quarantined) == (310, 1, 3)
    assert march.quarantine_share == pytest.approx(3 / 313)
    amount = march.column("amount")
    values = [float(v) for v in table["amount"].to_pylist()]
    assert amount.type.startswith("DECIMAL(38,15)")
    assert amount.null_rate == 0 and amount.distinct == len(set(values))
    assert Decimal(amount.min) == min(table["amount"].to_pylist()) and Decimal(amount.max) == max(values)
    assert amount.mean == pytest.approx(statistics.fmean(values))
    assert amount.std == pytest.approx(statistics.stdev(values))
    assert amount.quantiles[2] == pytest.approx(statistics.median(values))
    code = march.column("code")
    assert (code.distinct, code.min, code.max, code.quantiles) == (5, "C0", "C4", None)
    assert march.column("booked_on").max == "2024-03-28"
    assert profile.previous.month == date(2024, 2, 1) and profile.previous.objects == 2
    assert march.drift.previous_month == date(2024, 2, 1)
    # rows per day: 310 / 31 in March against 280 / 29 in February
    assert march.drift.row_ratio == pytest.approx((310 / 31) / (280 / 29))


def test_a_clean_history_passes_and_an_empty_month_is_skipped_not_compared_as_zero(lake):
    lake.write_partition("src", "things", date(2024, 5, 15), month_rows(date(2024, 5, 1), 290))
    profile = profile_dataset(lake, "src", "things", date(2024, 1, 1), date(2024, 5, 31), AS_OF)
    assert [m.rows for m in profile.months] == [300, 280, 310, 0, 290]
    assert profile.months[0].drift is None  # nothing before January
    assert profile.months[4].drift.previous_month == date(2024, 3, 1)  # April had no object
    assert profile.latest.month == date(2024, 5, 1)
    assert judge(profile) == []


def test_a_column_that_becomes_all_null_is_an_error(lake):
    lake.write_partition("src", "things", date(2024, 4, 30), month_rows(date(2024, 4, 1), 300, note=lambda i: None))
    problems = judge(profile_dataset(lake, "src", "things", date(2024, 4, 1), date(2024, 4, 30), AS_OF))
    assert [(p.rule, p.severity, p.column) for p in problems] == [("column_emptied", "error", "note")]


def test_a_column_missing_from_the_new_objects_counts_as_emptied(lake):
    """An object without the column (a source that stopped sending it) reads as null next to the older ones."""
    lake.write_partition("src", "things", date(2024, 4, 30), month_rows(date(2024, 4, 1), 300).drop_columns(["note"]))
    problems = judge(profile_dataset(lake, "src", "things", date(2024, 4, 1), date(2024, 4, 30), AS_OF))
    assert [(p.rule, p.severity, p.column) for p in problems] == [("column_emptied", "error", "note")]


def test_a_few_rows_all_null_are_not_judged_on_their_null_rate(lake):
    """Two new shipments of an early-month drop without an arrival date yet say nothing about the column."""
    few = month_rows(date(2024, 4, 1), NULL_RATE_MIN_ROWS - 1, note=lambda i: None)
    lake.write_partition("src", "things", date(2024, 4, 2), few)
    profile = profile_dataset(lake, "src", "things", date(2024, 4, 1), date(2024, 4, 30), date(2024, 4, 2))
    assert profile.months[0].column("note").null_rate == 1.0 and judge(profile) == []
    enough = month_rows(date(2024, 4, 1), NULL_RATE_MIN_ROWS, note=lambda i: None)
    lake.write_partition("src", "things", date(2024, 4, 2), enough)
    profile = profile_dataset(lake, "src", "things", date(2024, 4, 1), date(2024, 4, 30), date(2024, 4, 2))
    assert [p.rule for p in judge(profile)] == ["column_emptied"]


def test_a_partial_null_increase_warns(lake):
    table = month_rows(date(2024, 4, 1), 300, note=lambda i: None if i % 10 < 7 else "x")
    lake.write_partition("src", "things", date(2024, 4, 30), table)
    problems = judge(profile_dataset(lake, "src", "things", date(2024, 4, 1), date(2024, 4, 30), AS_OF))
    assert [(p.rule, p.severity) for p in problems] == [("null_rate_increase", "warn")]


def test_a_row_count_collapse_and_a_surge_warn(lake):
    lake.write_partition("src", "things", date(2024, 4, 30), month_rows(date(2024, 4, 1), 40))
    problems = judge(profile_dataset(lake, "src", "things", date(2024, 4, 1), date(2024, 4, 30), AS_OF))
    assert [(p.rule, p.severity) for p in problems] == [("row_count_drop", "warn")]
    lake.write_partition("src", "things", date(2024, 4, 30), month_rows(date(2024, 4, 1), 2000))
    problems = judge(profile_dataset(lake, "src", "things", date(2024, 4, 1), date(2024, 4, 30), AS_OF))
    assert [(p.rule, p.severity) for p in problems] == [("row_count_surge", "warn")]


def test_a_quarantine_share_over_the_threshold_warns(lake):
    lake.write_partition("src", "things", date(2024, 4, 30), month_rows(date(2024, 4, 1), 300))
    lake.write_quarantine("src", "things", date(2024, 4, 30), quarantine(30))  # 30 / 330 = 9 %
    profile = profile_dataset(lake, "src", "things", date(2024, 4, 1), date(2024, 4, 30), AS_OF)
    assert [(p.rule, p.severity) for p in judge(profile)] == [("quarantine_share", "warn")]
    assert judge(profile, Thresholds(max_quarantine_share=0.10)) == []


def test_the_current_month_is_compared_pro_rata_and_not_judged_on_rows_in_its_first_days(lake):
    lake.write_partition("src", "things", date(2024, 4, 3), month_rows(date(2024, 4, 1), 10))
    early = profile_dataset(lake, "src", "things", date(2024, 4, 1), date(2024, 4, 30), date(2024, 4, 3))
    (april,) = early.months
    assert april.covered_days == 3 < PARTIAL_MONTH_MIN_DAYS
    assert april.drift.row_ratio == pytest.approx((10 / 3) / (310 / 31))
    assert judge(early) == []  # 0.33x, but three days say little
    later = profile_dataset(lake, "src", "things", date(2024, 4, 1), date(2024, 4, 30), date(2024, 4, 10))
    assert [p.rule for p in judge(later)] == ["row_count_drop"]


def test_the_mean_shift_is_reported_always_and_judged_only_with_a_threshold(lake):
    shifted = month_rows(date(2024, 4, 1), 300, amount=lambda i: Decimal(1000 + i % 17))
    lake.write_partition("src", "things", date(2024, 4, 30), shifted)
    profile = profile_dataset(lake, "src", "things", date(2024, 4, 1), date(2024, 4, 30), AS_OF)
    assert profile.months[0].drift.mean_shift_sd["amount"] > 100
    assert judge(profile) == []
    assert [p.rule for p in judge(profile, Thresholds(max_mean_shift_sd=10))] == ["mean_shift"]


def test_a_dataset_with_no_object_profiles_as_zero_rows(tmp_path):
    profile = profile_dataset(LocalLake(tmp_path), "src", "things", date(2024, 1, 1), date(2024, 2, 29), AS_OF)
    assert [(m.rows, m.objects, m.columns, m.drift) for m in profile.months] == [(0, 0, (), None)] * 2
    assert judge(profile) == []
