"""The ERP's PostgreSQL into the lake, month partition by month partition: incremental, re-runnable, with deletes.

A partition owns the change times (`greatest(updated_at, deleted_at)`) its extractions read, recorded per table in
`PartitionCursors` (`state.py`): where its range starts (the high-water mark of the partitions before it) and the
last row it read, `(change time, primary key)`.

- The **current month** (the partition holding today in São Paulo) reads from its high-water mark minus the
  overlap (its first run: from the previous partitions' high-water mark minus the overlap; the very first
  extraction: the whole table) up to now, and moves its high-water mark on. The overlap re-reads rows whose
  transaction committed after a later change time had been read; it must exceed the ERP's longest transaction.
- A **past month** re-reads exactly its recorded range, from its start minus the overlap up to its high-water mark
  and key: never rows changed after it (they belong to later partitions). A past month with nothing recorded
  has nothing to read (the extraction runs in the current month; it does not rebuild history by calendar).

Each version read is compared with what the lake already holds (`erp_postgres/<entity>/dt=*`, every contract
column): only versions it does not hold land, stamped with the extraction's arrival `_arrived_at` (strictly
increasing through the cursors, comparable with the file drops' arrivals), appended to the object of the load
day (`dt=<today>`, or the month's last day for a past month), which keeps the rows already there. So a re-run of a
partition lands nothing new unless the ERP changed rows inside the partition's range: the lake, the raw months
and staging stay the same. Bad rows are quarantined with the contract's reasons (`contracts.validate`) in
`quarantine/erp_postgres/<entity>/dt=<load day>` (merged, one record per row and reason).

**Hard deletes** (`key_scan=True`, with the current month): every primary key of the table is read and compared
with the keys whose latest version in the lake's PostgreSQL datasets is not deleted. A key the ERP no longer has
gets a tombstone: its latest version again, with `deleted_at` = the scan's arrival, so staging flags it
`is_deleted` (the latest version, by `updated_at` then arrival) exactly as a soft delete; a key that comes back
with a newer `updated_at` wins again. Keys only ever seen in file drops are not compared (the scan knows what
this extraction landed).

The cursors are saved after each table's rows have landed: a crash in between re-reads a range whose versions the
lake already holds, which lands nothing twice. One extraction at a time (`extraction_lock`).
"""

import fcntl
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import psycopg
import pyarrow as pa

from ingestion.common.clock import SAO_PAULO
from ingestion.common.lake import Lake
from ingestion.common.partitioning import month_end
from ingestion.common.quarantine import QuarantineRecord
from ingestion.erp import contracts
from ingestion.erp.postgres import DEFAULT_OVERLAP, DEFAULT_SCHEMA, extract_range, scan_keys
from ingestion.erp.state import PartitionCursor, PartitionCursors

LAKE_SOURCE = "erp_postgres"  # lake/erp_postgres__<entity>: erp_postgres/<entity>/dt=<load day>/part-000.parquet
HELD_SLACK = timedelta(days=2)  # lake days read before a range's start: time zones and stamps up to a day ahead


@dataclass(frozen=True)
class Month:
    """One month partition: its key (`YYYY-MM-01`) and first and last days."""

    key: str
    first: date
    last: date

    @classmethod
    def of(cls, first: date) -> "Month":
        first = first.replace(day=1)
        return cls(first.isoformat(), first, month_end(first))


@dataclass(frozen=True)
class Bounds:
    """The change-time range one extraction of a partition reads."""

    after: datetime | None  # change time at or after (None: from the first row)
    upto: datetime | None = None  # at or before (None: up to now)
    upto_key: tuple | None = None  # with upto: (change time, primary key) at or before (upto, upto_key)


@dataclass
class TableResult:
    """What one table's extraction did in one run (every month of the run)."""

    entity: str
    read: int = 0
    landed: int = 0  # versions the lake did not hold, tombstones included
    tombstones: int = 0
    quarantine: list[QuarantineRecord] = field(default_factory=list)
    lake_paths: list[str] = field(default_factory=list)
    cursors: dict[str, PartitionCursor] = field(default_factory=dict)  # the partitions it ran, after the run
    notes: list[str] = field(default_factory=list)
    key_scanned: bool = False


def bounds(
    cursors: PartitionCursors,
    entity: str,
    month: Month,
    current: bool,
    overlap: timedelta = DEFAULT_OVERLAP,
    schema: str = DEFAULT_SCHEMA,
) -> Bounds | None:
    """What a run of `month` reads (see the module docstring); None: nothing (a past month never extracted)."""

    def minus_overlap(stamp: datetime | None) -> datetime | None:
        return stamp - overlap if stamp is not None else None

    recorded = cursors.get(entity, month.key, schema)
    if current:
        if recorded is not None:
            return Bounds(minus_overlap(recorded.high_water or recorded.start))
        return Bounds(minus_overlap(cursors.high_water_before(entity, month.key, schema)))
    if recorded is None or recorded.high_water is None:
        return None
    return Bounds(minus_overlap(recorded.start), recorded.high_water, recorded.high_water_key)


def _version(row: dict, names: Sequence[str]) -> tuple:
    return tuple(row[name] for name in names)


def held_tables(lake: Lake, entity: str, since: date | None = None) -> list[pa.Table]:
    """The lake objects of the entity's PostgreSQL dataset whose load day is `since` or later (None: all)."""
    days = [day for day in lake.list_partitions(LAKE_SOURCE, entity) if since is None or day >= since]
    return [lake.read_partition(LAKE_SOURCE, entity, day) for day in days]


def new_versions(entity: str, extracted: pa.Table, held: Sequence[pa.Table]) -> pa.Table:
    """The extracted rows (contract schema) whose version, every contract column equal, the lake does not hold."""
    names = contracts.schema(entity).names
    seen = {_version(row, names) for table in held for row in table.select(names).to_pylist()}
    keep = [row for row in extracted.to_pylist() if _version(row, names) not in seen]
    return pa.Table.from_pylist(keep, schema=contracts.schema(entity))


def tombstones(entity: str, held: Sequence[pa.Table], keys_in_database: set[tuple], deleted_at: datetime) -> pa.Table:
    """A deleted version (contract schema) of every key whose latest held version (by `updated_at`, then
    `_arrived_at`) is not deleted and that the database no longer has."""
    contract = contracts.ENTITIES[entity]
    latest: dict[tuple, dict] = {}
    for table in held:
        for row in table.to_pylist():
            key = _version(row, contract.primary_key)
            order = (row["updated_at"], row[contracts.ARRIVED_AT])
            if key not in latest or order > (latest[key]["updated_at"], latest[key][contracts.ARRIVED_AT]):
                latest[key] = row
    gone = [
        {**{name: row[name] for name in contracts.schema(entity).names}, "deleted_at": deleted_at}
        for key, row in sorted(latest.items(), key=lambda item: str(item[0]))
        if row["deleted_at"] is None and key not in keys_in_database
    ]
    return pa.Table.from_pylist(gone, schema=contracts.schema(entity))


def _merge_quarantine(lake: Lake, entity: str, day: date, records: list[QuarantineRecord]) -> str | None:
    """Add records to the day's quarantine object, one per (key, reason, payload)."""
    previous = []
    if records:
        try:
            previous = [
                QuarantineRecord(**{name: row[name] for name in QuarantineRecord.__dataclass_fields__})
                for row in lake.read_quarantine(LAKE_SOURCE, entity, day).to_pylist()
            ]
        except Exception:  # no quarantine object for that day yet
            previous = []
    merged = list(dict.fromkeys([*previous, *records]))
    if len(merged) == len(previous):
        return None
    return lake.write_quarantine(LAKE_SOURCE, entity, day, merged)


def _land(lake: Lake, entity: str, day: date, rows: pa.Table) -> str:
    """Append rows (lake schema) to the load day's object, keeping the rows already there."""
    parts = [lake.read_partition(LAKE_SOURCE, entity, day)] if lake.exists(LAKE_SOURCE, entity, day) else []
    merged = pa.concat_tables([*(part.cast(contracts.lake_schema(entity)) for part in parts), rows])
    return lake.write_partition(LAKE_SOURCE, entity, day, merged)


def _after(cursor_time: datetime | None, read_time: datetime | None) -> bool:
    return read_time is not None and (cursor_time is None or read_time >= cursor_time)


def extract_table(
    conn: psycopg.Connection,
    lake: Lake,
    cursors: PartitionCursors,
    entity: str,
    months: Sequence[Month],
    today: date,
    arrival: datetime,
    *,
    schema: str = DEFAULT_SCHEMA,
    overlap: timedelta = DEFAULT_OVERLAP,
    key_scan: bool = False,
) -> TableResult:
    """Extract one table for the run's months (in order), land what the lake does not hold, update `cursors`
    (in memory; the caller saves them once this returns) and, with `key_scan` and the current month in the run,
    record tombstones for the keys the ERP hard-deleted."""
    result = TableResult(entity)
    current_month = next((month for month in months if month.first <= today <= month.last), None)
    for month in sorted(months, key=lambda m: m.first):
        current = month is current_month
        span = bounds(cursors, entity, month, current, overlap, schema)
        if span is None:
            result.notes.append(f"{month.key}: no extraction recorded, nothing to re-read")
            continue
        read = extract_range(conn, entity, span.after, span.upto, span.upto_key, schema)
        since = (span.after.astimezone(SAO_PAULO).date() - HELD_SLACK) if span.after is not None else None
        held = held_tables(lake, entity, since)
        fresh = new_versions(entity, read.table, held)
        load_day = min(month.last, today)
        landing = contracts.with_arrival(entity, fresh, arrival)
        if current and key_scan:
            keys = scan_keys(conn, entity, schema)
            everything = held_tables(lake, entity) + [landing]
            gone = contracts.with_arrival(entity, tombstones(entity, everything, keys, arrival), arrival)
            landing = pa.concat_tables([landing, gone])
            result.tombstones, result.key_scanned = gone.num_rows, True
            cursors.set_key_scan(entity, arrival, schema)
        if landing.num_rows:
            result.lake_paths.append(_land(lake, entity, load_day, landing))
        _merge_quarantine(lake, entity, load_day, read.quarantine)
        recorded = cursors.get(entity, month.key, schema)
        if recorded is None:
            start = cursors.high_water_before(entity, month.key, schema)
            recorded = PartitionCursor(start, start, None, arrival, 0)
        moved = current and _after(recorded.high_water, read.high_water)
        cursor = PartitionCursor(
            recorded.start,
            read.high_water if moved else recorded.high_water,
            read.high_water_key if moved else recorded.high_water_key,
            arrival,
            recorded.rows + landing.num_rows,
        )
        cursors.set(entity, month.key, cursor, schema)
        result.cursors[month.key] = cursor
        result.read += read.read
        result.landed += landing.num_rows
        result.quarantine += read.quarantine
    if key_scan and current_month is None:
        result.notes.append("key scan skipped: it runs with the current month's partition")
    return result


def extract_partitions(
    conn: psycopg.Connection,
    lake: Lake,
    cursors: PartitionCursors,
    months: Sequence[Month],
    today: date,
    *,
    entities: Sequence[str] = contracts.ENTITY_NAMES,
    schema: str = DEFAULT_SCHEMA,
    overlap: timedelta = DEFAULT_OVERLAP,
    key_scan: bool = False,
    now: datetime | None = None,
    save: Callable[[PartitionCursors], None] = lambda cursors: None,
) -> dict[str, TableResult]:
    """Every table, one after the other (`extract_table`); `save(cursors)` after each table has landed. All
    versions of one run share one arrival, `cursors.next_arrival(now)`."""
    arrival = cursors.next_arrival(now or datetime.now(UTC))
    results = {}
    for entity in entities:
        results[entity] = extract_table(
            conn, lake, cursors, entity, months, today, arrival, schema=schema, overlap=overlap, key_scan=key_scan
        )
        save(cursors)
    return results


class ExtractionBusyError(RuntimeError):
    """Another extraction holds the lock of this state folder."""


@contextmanager
def extraction_lock(state_dir: str | os.PathLike) -> Iterator[None]:
    """Hold `<state_dir>/postgres_extraction.lock` for the block, or fail at once naming the holder: two
    extractions at a time would race on the cursors and the lake objects."""
    path = os.path.join(state_dir, "postgres_extraction.lock")
    os.makedirs(state_dir, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise ExtractionBusyError(
                f"another ERP PostgreSQL extraction is running ({holder} holds {path}); wait for it to finish"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
