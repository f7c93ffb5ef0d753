"""ERP file drops: CSV/XLSX exports named `<entity>__<anything>.csv|xlsx` in an inbox folder (local or S3).

`scan(inbox)` lists the files waiting in the inbox (not its subfolders) with their SHA-256, in arrival order
(modification time, then name). `process(file, registry, land)` reads one, validates it with
`contracts.validate`, stamps the valid rows with the file's arrival (`_arrived_at`, from
`registry.next_arrival()`: strictly increasing, so at an equal `updated_at` staging keeps the row of the later
file), hands the result to `land` (which writes the lake), and only then moves the file out of the inbox and
records its hash and arrival:

- every row valid (or no rows): `loaded`, the file goes to `processed/`;
- some rows bad: `partial`, the good rows land, the file goes to `processed/`, and `quarantine/` gets
  `<name>.reason.txt` (one line per bad row) and `<stem>.rejected.csv` (the header and the bad rows, to fix and
  drop again);
- every row bad, or the file unusable (name, type, encoding, header): `quarantined`, the file goes to
  `quarantine/` with `<name>.reason.txt`;
- the same bytes were loaded before and are still the entity's latest arrival: `skipped`, the file goes to
  `skipped/` with `<name>.reason.txt`. Loaded before but followed by another file of the entity (a correction
  being reverted), the bytes load again with a new arrival, so they win as the latest drop.

If `land` raises, the file stays in the inbox and nothing is recorded: the next run tries again. A name already
taken in a subfolder gets the first 12 hex digits of the hash inserted before the extension.
Reading: CSV is UTF-8 (a BOM is accepted), `,`-separated with a header; a header that only makes sense split
on `;`, a tab or `|` is quarantined saying so ("looks like ';'-delimited; this entity expects ','"). A row is
numbered by the line it starts on (a quoted cell may span lines). A cell longer than `FIELD_LIMIT` (131,072
characters, the csv module's default limit) quarantines its row only, naming the limit, the line and the
column. XLSX: the sheet named after the entity (else the first), first row the header; numbers become their
shortest decimal text, a date-time at midnight a date, other date-times ISO text (read as UTC by the contract).
"""

import csv
import hashlib
import io
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from itertools import islice

import pyarrow as pa
from openpyxl import load_workbook

from ingestion.common.quarantine import QuarantineRecord
from ingestion.erp import contracts
from ingestion.erp.folders import FileInfo, Folder, as_folder
from ingestion.erp.state import FileRegistry

EXTENSIONS = (".csv", ".xlsx")
PROCESSED, QUARANTINE, SKIPPED = "processed", "quarantine", "skipped"
_IGNORED_PREFIXES = (".", "_", "~$")
_IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload")
# The longest cell read as data: the csv module's default `field_size_limit`. A longer one (a runaway quote, a
# pasted document) quarantines its row; the parser itself reads past it so the file's other rows still land.
FIELD_LIMIT = 131_072
# Separators an export may have been written with by mistake, and how a message names them.
OTHER_DELIMITERS = {";": "';'", "\t": "tab", "|": "'|'"}
_FIELD_LIMIT_LOCK = threading.Lock()


class FileStatus(StrEnum):
    LOADED = "loaded"
    PARTIAL = "partial"
    QUARANTINED = "quarantined"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class DroppedFile:
    inbox: Folder
    name: str
    entity: str | None  # from the name; None when the name does not start with a known entity
    sha256: str
    size: int
    modified: datetime  # UTC: when it was written to the inbox (scan's order)

    @property
    def location(self) -> str:
        return self.inbox.location(self.name)


@dataclass(frozen=True)
class FileResult:
    file: DroppedFile
    status: FileStatus
    entity: str | None
    # the valid rows in the lake schema, `contracts.lake_schema` (None when the entity is unknown or skipped)
    table: pa.Table | None
    quarantine: list[QuarantineRecord]
    message: str
    moved_to: str | None = None  # the file's new location (set once it has left the inbox)
    arrived_at: datetime | None = None  # the arrival stamped on its rows (loaded and partial files)

    @property
    def rows(self) -> int:
        return self.table.num_rows if self.table is not None else 0


class _Rejected(Exception):
    """The whole file is unusable; the message is the reason."""


def entity_of(name: str) -> str | None:
    """`purchase_orders` for `purchase_orders__2025-01-02.csv`; None if the prefix is not a contract entity."""
    prefix = os.path.basename(name).split("__", 1)[0]
    return prefix if "__" in os.path.basename(name) and prefix in contracts.ENTITIES else None


def waiting(inbox: Folder | str | os.PathLike, min_age: timedelta = timedelta(0)) -> list[tuple[FileInfo, str]]:
    """The files waiting in an inbox in arrival order (modification time, then name), each with its SHA-256.
    Hidden, `_`-prefixed and temporary names are left alone, and so are files modified less than `min_age` ago
    (a file still being written). The parsed-file drops (`ingestion/erp/parsed_filedrop.py`: customs declarations,
    bank statements) keep the same rules."""
    folder = as_folder(inbox)
    newest = datetime.now(UTC) - min_age
    found = []
    for info in sorted(folder.list(), key=lambda info: (info.modified, info.name)):
        if info.name.startswith(_IGNORED_PREFIXES) or info.name.lower().endswith(_IGNORED_SUFFIXES):
            continue
        if info.modified > newest:
            continue
        found.append((info, hashlib.sha256(folder.read(info.name)).hexdigest()))
    return found


def scan(inbox: Folder | str | os.PathLike, min_age: timedelta = timedelta(0)) -> list[DroppedFile]:
    """The files waiting in the inbox (`waiting`: arrival order, hashed, temporary and too-recent files left
    alone), each with the entity its name names."""
    folder = as_folder(inbox)
    return [
        DroppedFile(folder, info.name, entity_of(info.name), digest, info.size, info.modified)
        for info, digest in waiting(folder, min_age)
    ]


# --- reading ---------------------------------------------------------------------------------------------------


def _cell_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _Rejected(f"not UTF-8 text ({error})") from None


@contextmanager
def _field_size_limit(size: int) -> Iterator[None]:
    """Let the csv module read fields up to `size` characters (its limit is process-wide: raised, never lowered,
    for the parse, then put back), so an oversized cell is read whole and judged per row instead of stopping
    the parser mid-record, which would lose the file's other rows and, inside a quoted multi-line cell, the
    record boundaries."""
    with _FIELD_LIMIT_LOCK:
        previous = csv.field_size_limit()
        csv.field_size_limit(max(previous, size))
        try:
            yield
        finally:
            csv.field_size_limit(previous)


def _csv_lines(data: bytes) -> list[tuple[int, list[str]]]:
    """The non-empty records, each with the line it starts on (a quoted cell may hold line breaks)."""
    text = _text(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    lines, start = [], 1
    with _field_size_limit(len(text) + 1):
        try:
            for row in reader:
                if row:
                    lines.append((start, row))
                start = reader.line_num + 1
        except csv.Error as error:
            raise _Rejected(f"not a readable CSV file (line {reader.line_num}: {error})") from None
    return lines


def _shown(value: str, width: int = 60) -> str:
    """A cell as a message shows it: an oversized one cut, with its length."""
    return value if len(value) <= width else f"{value[:width]}... ({len(value):,} characters)"


def _delimiter_hint(data: bytes, header: list[str], entity: str) -> str | None:
    """`looks like ';'-delimited; ...` when the header read with another separator names more of the entity's
    columns than read with `,` (or, naming none, splits every one of the first lines into the same number of
    fields while `,` gives one); None when no other separator fits better."""
    known = {column.name for column in contracts.ENTITIES[entity].columns}
    text = _text(data)
    first = [line.rstrip("\r\n") for line in islice(io.StringIO(text), 20) if line.strip()][:5]
    if not first:
        return None
    comma_known = sum(name in known for name in header)
    best = None
    for delimiter in OTHER_DELIMITERS:
        if delimiter not in first[0]:
            continue
        try:
            with _field_size_limit(len(text) + 1):
                names = [name.strip() for name in next(csv.reader([first[0]], delimiter=delimiter))]
                counts = {len(next(csv.reader([line], delimiter=delimiter))) for line in first}
        except csv.Error:
            continue
        matched = sum(name in known for name in names)
        consistent = len(header) == 1 and len(names) > 1 and counts == {len(names)}
        if (matched > comma_known or (matched == 0 and consistent)) and (best is None or matched > best[1]):
            best = (delimiter, matched, names)
    if best is None:
        return None
    delimiter, matched, names = best
    shown = OTHER_DELIMITERS[delimiter]
    if matched == len(names) and set(contracts.ENTITIES[entity].required) <= set(names):
        fit = f"split on {shown} the header is exactly {len(names)} {entity} columns"
    else:
        fit = f"split on {shown} the header has {len(names)} names, {matched} of them {entity} columns"
    return (
        f"looks like {shown}-delimited; this entity expects ',' ({entity} exports are comma-separated UTF-8 with "
        f"a header; {fit}). Export it again with ',' as the separator and drop it again"
    )


def _xlsx_lines(data: bytes, entity: str) -> list[tuple[int, list[str | None]]]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises zip, XML and key errors alike
        raise _Rejected(f"not a readable XLSX workbook ({type(error).__name__}: {error})") from None
    try:
        sheet = workbook[entity] if entity in workbook.sheetnames else workbook.worksheets[0]
        lines = []
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            values = [_cell_text(cell) for cell in cells]
            while values and values[-1] is None:
                values.pop()
            if values:
                lines.append((number, values))
        return lines
    finally:
        workbook.close()


def _read(file: DroppedFile, data: bytes, entity: str) -> tuple[list[str], list[tuple[int, dict]], list[tuple]]:
    """The header, the rows as (line number, dict of text), and (line number, quarantine record) for each row
    whose field count breaks the header (in a sheet, missing trailing cells are empty cells, not missing fields)."""
    lines = _xlsx_lines(data, entity) if file.name.lower().endswith(".xlsx") else _csv_lines(data)
    if not lines:
        raise _Rejected("empty file: no header row")
    (_, header), body = lines[0], lines[1:]
    header = [(name or "").strip() for name in header]
    contract = contracts.ENTITIES[entity]
    known = [column.name for column in contract.columns]
    problems = []
    if len(set(header)) != len(header):
        problems.append(f"repeated column names in the header {[_shown(name) for name in header]}")
    if unknown := [name for name in header if name not in known]:
        is_csv = not file.name.lower().endswith(".xlsx")
        if is_csv and (hint := _delimiter_hint(data, header, entity)):
            raise _Rejected(hint)
        problems.append(f"unexpected columns {', '.join(repr(_shown(n)) for n in unknown)}")
    if missing := [name for name in contract.required if name not in header]:
        problems.append(f"missing required columns {', '.join(missing)}")
    if problems:
        raise _Rejected(f"the header does not match the {entity} contract: {'; '.join(problems)}")
    rows, bad = [], []
    for number, values in body:
        row = dict(zip(header, values, strict=False))
        reasons = []
        if len(values) > len(header) or (len(values) < len(header) and not file.name.lower().endswith(".xlsx")):
            reasons.append(f"{len(values)} fields, the header has {len(header)}")
        for position, value in enumerate(values):
            if value is not None and len(value) > FIELD_LIMIT:
                column = repr(header[position]) if position < len(header) else f"{position + 1} (past the header)"
                reasons.append(
                    f"the cell at line {number}, column {column} is {len(value)} characters, over the field "
                    f"limit of {FIELD_LIMIT} characters (only this row is quarantined)"
                )
        if reasons:
            key = contract.key_of(
                {name: _shown(value) if value and len(value) > FIELD_LIMIT else value for name, value in row.items()}
            )
            reason = f"{entity} {key}: {'; '.join(reasons)}"
            bad.append((number, QuarantineRecord(contracts.SOURCE, entity, key, reason, json.dumps(values))))
        else:
            rows.append((number, {name: row.get(name) for name in header}))
    return header, rows, bad


def _line_numbers(rows: list[tuple[int, dict]], records: list[QuarantineRecord]) -> list[int | None]:
    """The line of each quarantined row (matched by its payload, which validate keeps unchanged)."""
    if not records:  # the usual case: no index of every row's payload to build
        return []
    waiting: dict[tuple, list[int]] = {}
    for number, row in rows:
        waiting.setdefault(tuple(sorted(row.items())), []).append(number)
    numbers = []
    for record in records:
        try:
            found = waiting.get(tuple(sorted(json.loads(record.payload).items())), [])
        except (ValueError, AttributeError, TypeError):
            found = []
        numbers.append(found.pop(0) if found else None)
    return numbers


# --- processing ------------------------------------------------------------------------------------------------


def free_name(folder: Folder, sub: str, name: str, sha256: str) -> str:
    """`<sub>/<name>`, or, when that is taken, the name with the hash's first 12 hex digits before its extension."""
    target = f"{sub}/{os.path.basename(name)}"
    if not folder.exists(target):
        return target
    stem, dot, suffix = target.rpartition(".")
    return f"{stem}.{sha256[:12]}{dot}{suffix}" if dot else f"{target}.{sha256[:12]}"


def skip_loaded(inbox: Folder, name: str, sha256: str, prior: dict, unit: str) -> tuple[str, str]:
    """Move a file whose bytes were loaded before to `skipped/` with its reason; (the message, its new location).
    `unit` names what the registry counted (`rows`, `records`)."""
    message = (
        f"skipped: the same content (sha256 {sha256}) was already loaded from {prior.get('file')} "
        f"at {prior.get('loaded_at')} ({prior.get('rows')} {unit})"
    )
    target = free_name(inbox, SKIPPED, name, sha256)
    inbox.move(name, target)
    inbox.write(f"{target}.reason.txt", (message + "\n").encode("utf-8"))
    return message, inbox.location(target)


def registry_entry(
    name: str, entity: str | None, status: str, rows: int, quarantined: int, moved_to: str, arrived_at: datetime
) -> dict:
    """What the registry keeps of a landed file (`FileRegistry.record`)."""
    return {
        "file": name,
        "entity": entity,
        "status": str(status),
        "rows": rows,
        "quarantined": quarantined,
        "moved_to": moved_to,
        "loaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "arrived_at": arrived_at.isoformat(timespec="milliseconds"),
    }


def _whole_file(file: DroppedFile, entity: str | None, sha256: str, reason: str) -> QuarantineRecord:
    payload = json.dumps({"file": file.name, "sha256": sha256, "size": file.size})
    return QuarantineRecord(contracts.SOURCE, entity or "unknown", f"file={file.name}", reason, payload)


def _reason_text(file: DroppedFile, sha256: str, result: FileResult, lines: list[int | None]) -> str:
    out = [f"file: {file.name}", f"sha256: {sha256}", f"status: {result.status}", f"summary: {result.message}", ""]
    for number, record in zip(lines, result.quarantine, strict=True):
        out.append(f"line {number}: {record.reason}" if number is not None else record.reason)
    return "\n".join(out) + "\n"


def _rejected_csv(header: list[str], records: list[QuarantineRecord]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for record in records:
        payload = json.loads(record.payload)
        values = payload if isinstance(payload, list) else [payload.get(name) for name in header]
        writer.writerow(["" if value is None else value for value in values])
    return buffer.getvalue().encode("utf-8")


def process(file: DroppedFile, registry: FileRegistry, land: Callable[[FileResult], None] | None = None) -> FileResult:
    """Read, validate, land (through `land`), then move the file and record its hash; see the module docstring."""
    inbox, data = file.inbox, file.inbox.read(file.name)
    sha256 = hashlib.sha256(data).hexdigest()
    prior, newer = registry.get(sha256), registry.arrived_after(sha256)
    if prior is not None and newer is None:
        message, moved_to = skip_loaded(inbox, file.name, sha256, prior, "rows")
        return FileResult(file, FileStatus.SKIPPED, file.entity, None, [], message, moved_to)

    entity, header, rows, lines = file.entity, [], [], []
    try:
        if entity is None:
            raise _Rejected(
                f"the name {file.name!r} does not start with a known entity and '__' "
                f"(expected <entity>__<anything>.csv|xlsx; entities: {', '.join(contracts.ENTITY_NAMES)})"
            )
        if not file.name.lower().endswith(EXTENSIONS):
            raise _Rejected(f"unsupported file type {os.path.splitext(file.name)[1]!r} (only .csv and .xlsx)")
        header, rows, bad_fields = _read(file, data, entity)
        table, records = contracts.validate(entity, [row for _, row in rows])
        numbered = sorted(
            [*bad_fields, *zip(_line_numbers(rows, records), records, strict=True)],
            key=lambda pair: pair[0] if pair[0] is not None else len(data),
        )  # in file order
        lines, records = [number for number, _ in numbered], [record for _, record in numbered]
    except _Rejected as error:
        reason = f"{file.name}: {error}"
        empty = contracts.lake_schema(entity).empty_table() if entity else None
        result = FileResult(
            file,
            FileStatus.QUARANTINED,
            entity,
            empty,
            [_whole_file(file, entity, sha256, reason)],
            f"quarantined: {error}",
        )
        lines = [None]
    else:
        total, arrived_at = len(rows) + len(bad_fields), None
        if records and table.num_rows == 0:
            status, message = FileStatus.QUARANTINED, f"quarantined: all {total} rows break the contract"
            table = contracts.lake_schema(entity).empty_table()
        else:
            if records:
                status = FileStatus.PARTIAL
                message = f"partial: {table.num_rows} of {total} rows landed, {len(records)} quarantined"
            else:
                status, message = FileStatus.LOADED, f"loaded: {table.num_rows} rows"
            if prior is not None:
                message += (
                    f" (the same bytes as {prior.get('file')}, loaded again: {newer.get('file')} of the same "
                    "entity arrived after it)"
                )
            arrived_at = registry.next_arrival()
            table = contracts.with_arrival(entity, table, arrived_at)
        result = FileResult(file, status, entity, table, records, message, arrived_at=arrived_at)

    if land is not None:
        land(result)

    if result.status == FileStatus.QUARANTINED:
        target = free_name(inbox, QUARANTINE, file.name, sha256)
        inbox.move(file.name, target)
        inbox.write(f"{target}.reason.txt", _reason_text(file, sha256, result, lines).encode("utf-8"))
        return replace(result, moved_to=inbox.location(target))

    target = free_name(inbox, PROCESSED, file.name, sha256)
    if result.quarantine:
        reasons = free_name(inbox, QUARANTINE, file.name + ".reason.txt", sha256)
        inbox.write(reasons, _reason_text(file, sha256, result, lines).encode("utf-8"))
        stem = os.path.splitext(os.path.basename(file.name))[0]
        rejected = free_name(inbox, QUARANTINE, f"{stem}.rejected.csv", sha256)
        inbox.write(rejected, _rejected_csv(header, result.quarantine))
    inbox.move(file.name, target)
    registry.record(
        sha256,
        registry_entry(
            file.name, entity, result.status, result.rows, len(result.quarantine), target, result.arrived_at
        ),
    )
    return replace(result, moved_to=inbox.location(target))
