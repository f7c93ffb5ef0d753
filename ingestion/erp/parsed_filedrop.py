"""The file drop of a file parsed whole into several entities: used by the customs declarations
(`ingestion/customs/filedrop.py`, DI XML / DUIMP JSON) and the bank statements (`ingestion/bank_statements/filedrop.py`,
OFX / CNAB 240). The ERP's own table drop is `ingestion/erp/filedrop.py`, whose inbox rules this module reuses.

A drop describes its format once, as a `ParsedFormat` (its parsers by file extension, its contract module, how it
checks the parsed records and words what landed); this module does the rest the same way for every drop:
- `scan(inbox)`: the files waiting, oldest first, hashed (the ERP drop's `waiting`);
- `read(file, data, registry, fmt)`: parse (an unknown extension or an unreadable file is one whole-file quarantine
  record) -> check every record -> stamp the landed ones with the file's arrival -> status and message
  (`quarantined` when nothing lands, `partial` when something is quarantined, else `loaded`);
- `process(file, registry, fmt, land)`: the inbox rules: bytes already loaded (whatever the name) go to
  `skipped/`; otherwise `read`, `land(result)` (which writes the lake), then its hash is recorded and the file
  moves to `quarantine/` (with `<name>.reason.txt`) or `processed/` (a partial file's reasons in
  `quarantine/<name>.reason.txt`). If `land` raises, the file stays in the inbox and nothing is recorded.
- `process_many(files, registry, fmt, land_batch)`: the same rules for many files, landed in batches of at most
  `BATCH_FILES` files and `BATCH_RECORDS` records: each batch is read, handed to `land_batch` in one call (one
  lake write per entity, not one per file: a day's object rewritten per file made a drop of n files cost n^2),
  then its files are recorded in one registry write and moved. If `land_batch` raises, the batch's files stay in
  the inbox and nothing of them is recorded (earlier batches are done); a file whose bytes are already in the
  batch waits for the next one, so it is skipped against a file that really landed.
Every record read is landed or quarantined: `landed + len(quarantine) == records`.
"""

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

import pyarrow as pa

from ingestion.common.quarantine import QuarantineRecord
from ingestion.erp.filedrop import (
    PROCESSED,
    QUARANTINE,
    FileStatus,
    free_name,
    registry_entry,
    skip_loaded,
    waiting,
)
from ingestion.erp.folders import Folder, as_folder
from ingestion.erp.state import FileRegistry

Valid = dict[str, list[dict]]  # entity -> the records that keep the contract (typed)

BATCH_FILES = 500  # files landed in one lake write (`process_many`)
BATCH_RECORDS = 200_000  # ... or fewer, when their records reach this many


@dataclass(frozen=True)
class DroppedFile:
    inbox: Folder | None  # None: a body that is not a file (the customs portal's answers, portal_unico.py)
    name: str
    sha256: str
    size: int
    modified: datetime


@dataclass(frozen=True)
class FileResult:
    file: DroppedFile
    status: FileStatus
    tables: dict[str, pa.Table]  # entity -> the landed records in `contracts.lake_schema` (empty when none)
    quarantine: list[QuarantineRecord]
    message: str
    records: int = 0  # every record read from the file
    moved_to: str | None = None
    arrived_at: datetime | None = None
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def landed(self) -> int:
        return sum(table.num_rows for table in self.tables.values())


@dataclass(frozen=True)
class ParsedFormat:
    """What one drop supplies. `contracts`: its contract module (`SOURCE`, `ENTITY_NAMES`, `schema`,
    `lake_schema`, `with_arrival`, `payload`). `parsers`: extension (lower case) -> `parse(data, file)`, raising
    `format_error` for a file that cannot be read. `check(parsed)` -> (valid records per entity, quarantine,
    records read). `summary(valid)`: what landed, as the `loaded: ...` message says it."""

    contracts: ModuleType
    registry_entity: str  # the entity the registry records the file under
    whole_file_entity: str  # the quarantine entity of a file rejected whole
    parsers: dict[str, Callable[[bytes, DroppedFile], Any]]
    expected: str  # the extensions a message names, e.g. "(.xml for a DI, .json for a DUIMP)"
    format_error: type[Exception]
    check: Callable[[Any], tuple[Valid, list[QuarantineRecord], int]]
    summary: Callable[[Valid], str]
    summary_in_partial: bool = False  # `partial: 3 of 5 records landed (<summary>), ...`
    # a reason to quarantine a file whose records partly keep the contract (e.g. no account does), else None
    refuse: Callable[[Valid, int], str | None] = lambda valid, records: None


def scan(inbox: Folder | str | os.PathLike, min_age: timedelta = timedelta(0)) -> list[DroppedFile]:
    """The files waiting in the inbox, oldest first, hashed (the ERP file drop's `waiting`: hidden, `_`-prefixed,
    temporary and too-recent files are left alone)."""
    folder = as_folder(inbox)
    return [
        DroppedFile(folder, info.name, digest, info.size, info.modified) for info, digest in waiting(folder, min_age)
    ]


def empty_tables(fmt: ParsedFormat) -> dict[str, pa.Table]:
    return {entity: fmt.contracts.lake_schema(entity).empty_table() for entity in fmt.contracts.ENTITY_NAMES}


def _whole_file(fmt: ParsedFormat, file: DroppedFile, reason: str) -> QuarantineRecord:
    payload = fmt.contracts.payload({"file": file.name, "sha256": file.sha256, "size": file.size})
    return QuarantineRecord(fmt.contracts.SOURCE, fmt.whole_file_entity, f"file={file.name}", reason, payload)


def read(file: DroppedFile, data: bytes, registry: FileRegistry, fmt: ParsedFormat) -> FileResult:
    """Parse and check one file (nothing moved, nothing recorded)."""
    extension = os.path.splitext(file.name)[1]
    parser = fmt.parsers.get(extension.lower())
    try:
        if parser is None:
            raise fmt.format_error(f"unsupported file type {extension!r} {fmt.expected}")
        parsed = parser(data, file)
    except fmt.format_error as error:
        reason = f"{file.name}: {error}"
        quarantine = [_whole_file(fmt, file, reason)]
        return FileResult(file, FileStatus.QUARANTINED, empty_tables(fmt), quarantine, f"quarantined: {error}", 1)
    valid, quarantine, records = fmt.check(parsed)
    landed = sum(len(rows) for rows in valid.values())
    refusal = f"all {records} records break the contract" if landed == 0 else fmt.refuse(valid, records)
    if refusal:
        return FileResult(
            file, FileStatus.QUARANTINED, empty_tables(fmt), quarantine, f"quarantined: {refusal}", records
        )
    arrived_at = registry.take_arrival()
    contracts = fmt.contracts
    tables = {
        entity: contracts.with_arrival(entity, pa.Table.from_pylist(rows, schema=contracts.schema(entity)), arrived_at)
        for entity, rows in valid.items()
    }
    rows = {entity: len(valid[entity]) for entity in contracts.ENTITY_NAMES}
    if quarantine:
        status = FileStatus.PARTIAL
        detail = f" ({fmt.summary(valid)})" if fmt.summary_in_partial else ""
        message = f"partial: {landed} of {records} records landed{detail}, {len(quarantine)} quarantined"
    else:
        status, message = FileStatus.LOADED, f"loaded: {fmt.summary(valid)}"
    return FileResult(file, status, tables, quarantine, message, records, arrived_at=arrived_at, rows=rows)


def entry(fmt: ParsedFormat, result: FileResult, moved_to: str) -> dict:
    """What the registry keeps of a landed file: its name, status, records and arrival."""
    return registry_entry(
        result.file.name, fmt.registry_entity, result.status, result.landed, len(result.quarantine), moved_to,
        result.arrived_at,
    )  # fmt: skip


def _reason_text(result: FileResult) -> bytes:
    file = result.file
    lines = [f"file: {file.name}", f"sha256: {file.sha256}", f"status: {result.status}", f"summary: {result.message}"]
    lines += ["", *(record.reason for record in result.quarantine)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def process(
    file: DroppedFile, registry: FileRegistry, fmt: ParsedFormat, land: Callable[[FileResult], None] | None = None
) -> FileResult:
    """Read, check, land (through `land`), then record the file's hash and move it; see the module docstring."""
    [result] = process_many([file], registry, fmt, (lambda results: land(results[0])) if land is not None else None)
    return result


def process_many(
    files: Iterable[DroppedFile],
    registry: FileRegistry,
    fmt: ParsedFormat,
    land_batch: Callable[[list[FileResult]], None] | None = None,
) -> list[FileResult]:
    """`process` for each file, in order, landing them in batches (`land_batch(results)`); see the module docstring."""
    results: list[FileResult] = []
    batch: list[FileResult] = []  # read, not landed yet
    in_batch: set[str] = set()  # their hashes
    records = 0  # their records

    def flush() -> None:
        nonlocal records
        landing = [result for result in batch if result.status != FileStatus.SKIPPED]
        if land_batch is not None and landing:
            land_batch(landing)
        results.extend(_settle(batch, registry, fmt))
        batch.clear()
        in_batch.clear()
        records = 0

    for file in files:
        data = file.inbox.read(file.name)
        sha256 = hashlib.sha256(data).hexdigest()
        if sha256 in in_batch:  # the same bytes twice: skip the second against the first once it has landed
            flush()
        file = replace(file, sha256=sha256, size=len(data))
        prior = registry.get(sha256)
        if prior is not None:
            message, moved_to = skip_loaded(file.inbox, file.name, sha256, prior, "records")
            skipped = FileResult(file, FileStatus.SKIPPED, empty_tables(fmt), [], message, moved_to=moved_to)
            if batch:
                batch.append(skipped)  # keeps the results in the files' order
            else:
                results.append(skipped)
            continue
        batch.append(read(file, data, registry, fmt))
        in_batch.add(sha256)
        records += batch[-1].records
        if len(in_batch) >= BATCH_FILES or records >= BATCH_RECORDS:
            flush()
    flush()
    return results


def _settle(batch: list[FileResult], registry: FileRegistry, fmt: ParsedFormat) -> list[FileResult]:
    """After the batch landed: record the landed files (one registry write), then move each file to `processed/`
    or `quarantine/`. Recorded before moved: a process that dies between the two leaves files in the inbox that
    the next run skips as loaded, rather than moved files it would load again."""
    targets = {}
    for result in batch:
        file = result.file
        if result.status != FileStatus.SKIPPED:
            folder = QUARANTINE if result.status == FileStatus.QUARANTINED else PROCESSED
            targets[file.name] = free_name(file.inbox, folder, file.name, file.sha256)
    registry.record_many(
        {
            r.file.sha256: entry(fmt, r, targets[r.file.name])
            for r in batch
            if r.status not in (FileStatus.SKIPPED, FileStatus.QUARANTINED)
        }
    )
    settled = []
    for result in batch:
        file, inbox = result.file, result.file.inbox
        if result.status == FileStatus.SKIPPED:
            settled.append(result)
            continue
        target = targets[file.name]
        if result.status == FileStatus.QUARANTINED:
            inbox.move(file.name, target)
            inbox.write(f"{target}.reason.txt", _reason_text(result))
        else:
            if result.quarantine:
                inbox.write(free_name(inbox, QUARANTINE, file.name + ".reason.txt", file.sha256), _reason_text(result))
            inbox.move(file.name, target)
        settled.append(replace(result, moved_to=inbox.location(target)))
    return settled
