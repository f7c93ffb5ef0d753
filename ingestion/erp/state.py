"""The adapters' small persistent state, as JSON objects in a local folder or a `Folder` (e.g. an S3 prefix).

`CursorStore`: the incremental-extraction cursor of each ERP table (pure in memory; `load`/`save`).
`PartitionCursors`: what the partitioned PostgreSQL extraction read for each table and month partition (the change
time range and its high-water mark), so a re-run of a partition reads the same range (`ingestion/erp/extraction.py`).
`FileRegistry`: the SHA-256 of every dropped file already loaded (so an identical re-drop is skipped) and when it
arrived (`next_arrival`: strictly increasing, the tie-break of the staging dedupe).
Both are written whole (atomically in a local folder). One writer at a time: the orchestration runs one
extraction per table and one file-drop run at a time.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ingestion.erp.folders import Folder, as_folder, read_json, write_json

DEFAULT_SCHEMA = "erp"


class CursorStore:
    """The extraction cursor of each ERP table, kept as JSON (`{"erp.payables": "2024-12-31T21:30:00.152+00:00"}`).

    Pure in memory; `load`/`save` read and write it whole in a local folder or a `Folder` (e.g. an S3 prefix).
    """

    def __init__(self, cursors: Mapping[str, datetime] | None = None):
        self._cursors = dict(cursors or {})

    @staticmethod
    def key(entity: str, schema: str = DEFAULT_SCHEMA) -> str:
        return f"{schema}.{entity}"

    def get(self, entity: str, schema: str = DEFAULT_SCHEMA) -> datetime | None:
        return self._cursors.get(self.key(entity, schema))

    def set(self, entity: str, cursor: datetime | None, schema: str = DEFAULT_SCHEMA) -> None:
        """Set the cursor (None forgets it: the next extraction reads the whole table)."""
        if cursor is None:
            self._cursors.pop(self.key(entity, schema), None)
        elif cursor.tzinfo is None:
            raise ValueError("the cursor must be timezone-aware (UTC)")
        else:
            self._cursors[self.key(entity, schema)] = cursor

    def to_dict(self) -> dict[str, str]:
        return {key: value.isoformat() for key, value in sorted(self._cursors.items())}

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> "CursorStore":
        return cls({key: datetime.fromisoformat(value) for key, value in data.items()})

    @classmethod
    def load(cls, location: "Folder | str | os.PathLike", name: str = "erp_cursors.json") -> "CursorStore":
        return cls.from_dict(read_json(as_folder(location), name))

    def save(self, location: "Folder | str | os.PathLike", name: str = "erp_cursors.json") -> None:
        write_json(as_folder(location), name, self.to_dict())


class FileRegistry:
    """Files already loaded, by content hash: `{"<sha256>": {"file", "entity", "status", "rows", "arrived_at", ...}}`.

    Reads the JSON at construction and writes it again after every `record` (or once for a batch, `record_many`:
    a drop of thousands of files writes it once per batch, not once per file). A file whose every row was
    quarantined, or that could not be read at all, is not recorded: a corrected re-drop has other bytes anyway,
    and an identical one is quarantined again with the same reason.

    `arrived_at` is the file's arrival stamp (`next_arrival`), also written on every row it landed. The greatest
    one recorded is the floor of the next, so arrivals only increase while this file lives (a clock stepped back
    or two files in one millisecond still get later stamps); were it lost, the clock alone orders new arrivals.
    `take_arrival` also floors the next stamps with the one it hands out, for a batch of files stamped before any
    of them is recorded.
    """

    def __init__(self, location: "Folder | str | os.PathLike", name: str = "file_registry.json"):
        self.folder, self.name = as_folder(location), name
        self._entries: dict[str, dict] = read_json(self.folder, name)
        self._last = max((a for entry in self._entries.values() if (a := self._arrival(entry))), default=None)
        self._taken: datetime | None = None  # the last stamp `take_arrival` handed out

    def __contains__(self, sha256: str) -> bool:
        return sha256 in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, sha256: str) -> dict | None:
        """What was recorded when the content with this hash was loaded, or None."""
        entry = self._entries.get(sha256)
        return dict(entry) if entry is not None else None

    def record(self, sha256: str, entry: Mapping) -> None:
        self.record_many({sha256: entry})

    def record_many(self, entries: Mapping[str, Mapping]) -> None:
        """Record several files at once (one write of the JSON)."""
        if not entries:
            return
        for sha256, entry in entries.items():
            self._entries[sha256] = dict(entry)
            arrival = self._arrival(entry)
            if arrival is not None and (self._last is None or arrival > self._last):
                self._last = arrival
        write_json(self.folder, self.name, self._entries)

    @staticmethod
    def _arrival(entry: Mapping) -> datetime | None:
        value = entry.get("arrived_at")
        return datetime.fromisoformat(value) if value else None  # entries from before arrivals: None

    def last_arrival(self) -> datetime | None:
        """The greatest arrival recorded, or None."""
        return self._last

    def next_arrival(self, now: datetime | None = None) -> datetime:
        """The arrival stamp of a file taken now: the time in UTC to the millisecond, but at least one millisecond
        after every arrival recorded and every stamp `take_arrival` handed out."""
        now = (now or datetime.now(UTC)).astimezone(UTC)
        stamp = now.replace(microsecond=now.microsecond // 1000 * 1000)
        floors = [a for a in (self._last, self._taken) if a is not None]
        last = max(floors, default=None)
        return stamp if last is None or stamp > last else last + timedelta(milliseconds=1)

    def take_arrival(self, now: datetime | None = None) -> datetime:
        """`next_arrival`, remembered as a floor of the stamps after it (the file is recorded later, with its batch)."""
        self._taken = self.next_arrival(now)
        return self._taken

    def arrived_after(self, sha256: str) -> dict | None:
        """The latest file of the same entity recorded as arriving after this content, or None (this content is
        still the entity's latest arrival, or was never loaded)."""
        entry = self._entries.get(sha256)
        if entry is None:
            return None
        since = self._arrival(entry)
        later = [
            other
            for key, other in self._entries.items()
            if key != sha256
            and other.get("entity") == entry.get("entity")
            and (arrival := self._arrival(other)) is not None
            and (since is None or arrival > since)
        ]
        return dict(max(later, key=self._arrival)) if later else None


@dataclass(frozen=True)
class PartitionCursor:
    """What the extraction of one table recorded for one partition: the change times it owns.

    `start` is where the partition's range begins (the high-water mark of the partitions before it when it first
    ran; None for the first partition ever extracted); `high_water` and `high_water_key` are the last row read, in
    `(change time, primary key)` order (equal to `start` and None while nothing was read). `extracted_at` is the
    arrival stamped on the rows of its last run, `rows` how many versions it has landed in all.
    """

    start: datetime | None
    high_water: datetime | None
    high_water_key: tuple | None
    extracted_at: datetime
    rows: int = 0

    def to_dict(self) -> dict:
        stamp = lambda value: value.isoformat() if value is not None else None  # noqa: E731
        return {
            "start": stamp(self.start),
            "high_water": stamp(self.high_water),
            "high_water_key": list(self.high_water_key) if self.high_water_key is not None else None,
            "extracted_at": self.extracted_at.isoformat(),
            "rows": self.rows,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> "PartitionCursor":
        stamp = lambda value: datetime.fromisoformat(value) if value else None  # noqa: E731
        key = data.get("high_water_key")
        return cls(
            stamp(data.get("start")),
            stamp(data.get("high_water")),
            tuple(key) if key is not None else None,
            datetime.fromisoformat(data["extracted_at"]),
            int(data.get("rows", 0)),
        )


class PartitionCursors:
    """The partitioned extraction's cursors, `{"erp.payables": {"2026-12-01": {...}}}` (`PartitionCursor`), plus the
    time of each table's last key scan; JSON, written whole. Partition keys are `YYYY-MM-DD` (they sort as dates).
    """

    def __init__(self, data: Mapping | None = None):
        data = dict(data or {})
        self._scans: dict[str, datetime] = {
            table: datetime.fromisoformat(value) for table, value in dict(data.pop("_key_scans", {})).items()
        }
        self._cursors: dict[str, dict[str, PartitionCursor]] = {
            table: {partition: PartitionCursor.from_dict(entry) for partition, entry in partitions.items()}
            for table, partitions in data.items()
        }

    @staticmethod
    def key(entity: str, schema: str = DEFAULT_SCHEMA) -> str:
        return f"{schema}.{entity}"

    def get(self, entity: str, partition: str, schema: str = DEFAULT_SCHEMA) -> PartitionCursor | None:
        return self._cursors.get(self.key(entity, schema), {}).get(partition)

    def set(self, entity: str, partition: str, cursor: PartitionCursor, schema: str = DEFAULT_SCHEMA) -> None:
        self._cursors.setdefault(self.key(entity, schema), {})[partition] = cursor

    def partitions(self, entity: str, schema: str = DEFAULT_SCHEMA) -> dict[str, PartitionCursor]:
        return dict(sorted(self._cursors.get(self.key(entity, schema), {}).items()))

    def high_water_before(self, entity: str, partition: str, schema: str = DEFAULT_SCHEMA) -> datetime | None:
        """The greatest high-water mark recorded by the partitions before `partition` (where a new one starts)."""
        marks = [
            cursor.high_water
            for key, cursor in self.partitions(entity, schema).items()
            if key < partition and cursor.high_water is not None
        ]
        return max(marks, default=None)

    def recorded_after(self, entity: str, partition: str, schema: str = DEFAULT_SCHEMA) -> bool:
        """Whether a later partition has recorded an extraction (this one is then closed)."""
        return any(key > partition for key in self.partitions(entity, schema))

    def last_extracted(self) -> datetime | None:
        """The latest `extracted_at` recorded, over every table and partition."""
        stamps = [cursor.extracted_at for partitions in self._cursors.values() for cursor in partitions.values()]
        return max(stamps, default=None)

    def next_arrival(self, now: datetime | None = None) -> datetime:
        """The arrival of an extraction starting now: the time in UTC to the millisecond, at least 1 ms after every
        extraction recorded (as `FileRegistry.next_arrival` does for file drops)."""
        now = (now or datetime.now(UTC)).astimezone(UTC)
        stamp = now.replace(microsecond=now.microsecond // 1000 * 1000)
        last = self.last_extracted()
        return stamp if last is None or stamp > last else last + timedelta(milliseconds=1)

    def last_key_scan(self, entity: str, schema: str = DEFAULT_SCHEMA) -> datetime | None:
        return self._scans.get(self.key(entity, schema))

    def set_key_scan(self, entity: str, when: datetime, schema: str = DEFAULT_SCHEMA) -> None:
        self._scans[self.key(entity, schema)] = when

    def to_dict(self) -> dict:
        data: dict = {
            table: {partition: cursor.to_dict() for partition, cursor in sorted(partitions.items())}
            for table, partitions in sorted(self._cursors.items())
        }
        if self._scans:
            data["_key_scans"] = {table: when.isoformat() for table, when in sorted(self._scans.items())}
        return data

    @classmethod
    def load(cls, location: "Folder | str | os.PathLike", name: str = "postgres_cursors.json") -> "PartitionCursors":
        return cls(read_json(as_folder(location), name))

    def save(self, location: "Folder | str | os.PathLike", name: str = "postgres_cursors.json") -> None:
        write_json(as_folder(location), name, self.to_dict())
