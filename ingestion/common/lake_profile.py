"""A profile of a lake dataset per month, computed by DuckDB over its Parquet objects, with its drift.

For each month (the Dagster partition of every source) `profile_dataset` reads the dataset's objects of that month
(`<source>/<entity>/dt=*/part-000.parquet`) and its quarantine objects, and gives: rows, objects, quarantined
records, and per column the null rate, the distinct count, min and max (as text, exactly as stored: decimals keep
every digit), and for numeric columns the 5/25/50/75/95 % quantiles, mean and standard deviation. It needs no
warehouse: DuckDB runs in this process, in memory, so it runs while a warehouse step holds chDB.

Drift against the previous partition (`Drift`): the previous partition is the latest earlier month that has rows
in the lake (a month without any object, say an ERP entity without a drop, is skipped, not compared as zero).
- `row_ratio`: rows per covered day now / rows per covered day then. A month's covered days are its calendar
  days up to `as_of` (the current month is compared pro rata to the days elapsed).
- `null_rate_change` per column: null rate now minus then (+1.0: the column went from always filled to empty).
- `mean_shift_sd` per numeric column: |mean now - mean then| / standard deviation then (columns whose previous
  standard deviation is zero or unknown are not compared).

`lake_rules.judge` turns a profile into problems.

Why DuckDB reads local files even for an S3 lake: DuckDB's S3 support is the httpfs extension, which is not bundled
with the Python package and cannot be downloaded here (nothing downloads at run time). So for an S3 lake the
month's objects are fetched through the lake's own client (its timeouts, retries and error messages, which never
name a key) into a private temporary folder (mode 0700, removed on every exit: the lake holds bank data), and
DuckDB reads them there. A folder lake is read in place.
"""

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb

from ingestion.common.lake import Lake, LocalLake
from ingestion.common.partitioning import month_starts
from ingestion.common.private_temp import private_temp_dir

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
_NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "UTINYINT")
_NUMERIC_TYPES += ("USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT")
_NESTED_MARKERS = ("[", "STRUCT", "MAP", "UNION")
# DuckDB in memory, never loading or installing an extension: Parquet is built in.
_DUCKDB_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False, "threads": 2}
_STATS_PER_COLUMN = 7  # filled, distinct, min, max, quantiles, mean, std


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    type: str  # DuckDB's type of the Parquet column
    null_rate: float
    distinct: int
    min: str | None
    max: str | None
    quantiles: tuple[float, ...] | None = None  # at QUANTILES, numeric columns only
    mean: float | None = None
    std: float | None = None


@dataclass(frozen=True)
class Drift:
    previous_month: date
    row_ratio: float | None
    null_rate_change: dict[str, float]
    mean_shift_sd: dict[str, float]


@dataclass(frozen=True)
class MonthProfile:
    month: date
    covered_days: int
    objects: int
    rows: int
    quarantined: int
    columns: tuple[ColumnProfile, ...] = ()
    drift: Drift | None = None

    @property
    def quarantine_share(self) -> float:
        seen = self.rows + self.quarantined
        return self.quarantined / seen if seen else 0.0

    def column(self, name: str) -> ColumnProfile | None:
        return next((column for column in self.columns if column.name == name), None)


@dataclass(frozen=True)
class DatasetProfile:
    source: str
    entity: str
    months: tuple[MonthProfile, ...]  # the months asked for, oldest first, each with its drift
    previous: MonthProfile | None = None  # the partition before the first month, when there is one

    @property
    def latest(self) -> MonthProfile:
        """The last month with rows (or the last month asked for, when none has any)."""
        with_rows = [month for month in self.months if month.rows]
        return with_rows[-1] if with_rows else self.months[-1]


@dataclass
class _Objects:
    """Local paths of a dataset's objects and of its quarantine objects, by month."""

    data: dict[date, list[str]] = field(default_factory=dict)
    quarantine: dict[date, list[str]] = field(default_factory=dict)


def profile_dataset(lake: Lake, source: str, entity: str, start: date, end: date, as_of: date) -> DatasetProfile:
    """Profile every month from `start` to `end` (both months included) and its drift against the previous
    partition (see the module's docstring)."""
    months = month_starts(start, end)
    all_days = lake.list_partitions(source, entity)
    earlier = sorted({_month(day) for day in all_days if _month(day) < months[0]})
    wanted = ([earlier[-1]] if earlier else []) + months
    quarantine_days = [day for day in lake.list_quarantine(source, entity) if _month(day) in wanted]
    data_days = [day for day in all_days if _month(day) in wanted]
    with _local_objects(lake, source, entity, data_days, quarantine_days) as objects:
        profiles = _profile_months(objects, wanted, as_of)
    previous = profiles.pop(earlier[-1]) if earlier else None
    judged, last = [], previous
    for month in months:
        profile = profiles[month]
        if last is not None and last.rows:
            profile = _with_drift(profile, last)
        judged.append(profile)
        last = profile if profile.rows else last
    return DatasetProfile(source, entity, tuple(judged), previous)


def _with_drift(profile: MonthProfile, previous: MonthProfile) -> MonthProfile:
    before = {column.name: column for column in previous.columns}
    null_change, mean_shift = {}, {}
    for column in profile.columns:
        then = before.get(column.name)
        if then is None:  # a new column: nothing to compare
            continue
        null_change[column.name] = column.null_rate - then.null_rate
        if column.mean is not None and then.mean is not None and then.std:
            mean_shift[column.name] = abs(column.mean - then.mean) / then.std
    ratio = None
    if profile.rows and previous.rows:
        ratio = (profile.rows / profile.covered_days) / (previous.rows / previous.covered_days)
    drift = Drift(previous.month, ratio, null_change, mean_shift)
    return dataclasses.replace(profile, drift=drift)


def _month(day: date) -> date:
    return day.replace(day=1)


def _covered_days(month: date, as_of: date) -> int:
    following = (month + timedelta(days=32)).replace(day=1)
    last = min(following - timedelta(days=1), as_of)
    return max(1, (last - month).days + 1)


@contextmanager
def _local_objects(
    lake: Lake, source: str, entity: str, data_days: list[date], quarantine_days: list[date]
) -> Iterator[_Objects]:
    """The objects as local files: in place for a folder lake, fetched into a private folder for S3 (see the
    module's docstring for why DuckDB does not read S3 itself)."""
    objects = _Objects()
    paths = [(objects.data, day, lake.partition_path(source, entity, day)) for day in data_days]
    paths += [(objects.quarantine, day, lake.quarantine_path(source, entity, day)) for day in quarantine_days]
    if isinstance(lake, LocalLake):
        for by_month, day, path in paths:
            by_month.setdefault(_month(day), []).append(lake.uri(path))
        yield objects
        return
    with private_temp_dir("importau-lake-profile-") as folder:
        for by_month, day, path in paths:
            target = Path(folder) / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(lake.read_object(path))
            by_month.setdefault(_month(day), []).append(str(target))
        yield objects


def _profile_months(objects: _Objects, months: list[date], as_of: date) -> dict[date, MonthProfile]:
    with duckdb.connect(":memory:", config=_DUCKDB_CONFIG) as con:
        con.execute("SET TimeZone = 'UTC'")  # timestamps' min and max as UTC text, whatever the machine's zone
        quarantined = _count_by_month(con, objects.quarantine)
        stats, columns = _column_stats(con, objects.data)
    profiles = {}
    for month in months:
        rows, per_column = stats.get(month, (0, []))
        described = zip(columns, per_column, strict=True) if rows else ()
        profiles[month] = MonthProfile(
            month=month,
            covered_days=_covered_days(month, as_of),
            objects=len(objects.data.get(month, [])),
            rows=rows,
            quarantined=quarantined.get(month, 0),
            columns=tuple(_column_profile(name, type_, rows, values) for (name, type_), values in described),
        )
    return profiles


def _register(con, name: str, by_month: dict[date, list[str]]) -> bool:
    """A view `name` over the files with a `_month` column (from the lake path, not from the data)."""
    files = [(path, month) for month, paths in by_month.items() for path in paths]
    if not files:
        return False
    con.execute(f"CREATE TEMP TABLE {name}_files (filename VARCHAR, _month DATE)")
    con.executemany(f"INSERT INTO {name}_files VALUES (?, ?)", files)
    relation = con.read_parquet([path for path, _ in files], filename=True, union_by_name=True)
    con.register(f"{name}_parquet", relation)
    con.execute(
        f"CREATE TEMP VIEW {name} AS SELECT p.*, f._month FROM {name}_parquet p JOIN {name}_files f USING (filename)"
    )
    return True


def _count_by_month(con, by_month: dict[date, list[str]]) -> dict[date, int]:
    if not _register(con, "quarantine", by_month):
        return {}
    return dict(con.execute("SELECT _month, count(*) FROM quarantine GROUP BY _month").fetchall())


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _column_stats(con, by_month: dict[date, list[str]]):
    """Per month: (rows, one tuple of values per column), and the columns as (name, type)."""
    if not _register(con, "data", by_month):
        return {}, []
    described = con.execute("DESCRIBE SELECT * EXCLUDE (filename, _month) FROM data").fetchall()
    columns = [(row[0], row[1]) for row in described]
    expressions = []
    for name, type_ in columns:
        column = _quote(name)
        expressions += [f"count({column})", f"count(DISTINCT {column})"]
        nested = any(marker in type_ for marker in _NESTED_MARKERS)
        expressions += ["NULL", "NULL"] if nested else [f"min({column})::VARCHAR", f"max({column})::VARCHAR"]
        if _is_numeric(type_):
            value = f"{column}::DOUBLE"
            expressions += [f"quantile_cont({value}, {list(QUANTILES)})", f"avg({value})", f"stddev_samp({value})"]
        else:
            expressions += ["NULL", "NULL", "NULL"]
    sql = f"SELECT _month, count(*), {', '.join(expressions)} FROM data GROUP BY _month"
    stats = {}
    for row in con.execute(sql).fetchall():
        values = row[2:]
        width = _STATS_PER_COLUMN
        stats[row[0]] = (row[1], [values[i * width : (i + 1) * width] for i in range(len(columns))])
    return stats, columns


def _is_numeric(type_: str) -> bool:
    return type_.startswith(_NUMERIC_TYPES)


def _column_profile(name: str, type_: str, rows: int, values) -> ColumnProfile:
    filled, distinct, low, high, quantiles, mean, std = values
    return ColumnProfile(
        name=name,
        type=type_,
        null_rate=1 - filled / rows,
        distinct=distinct,
        min=low,
        max=high,
        quantiles=tuple(quantiles) if quantiles is not None else None,
        mean=mean,
        std=std,
    )
