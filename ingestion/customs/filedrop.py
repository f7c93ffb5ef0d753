"""Customs declarations dropped by the broker: DI XML (`*.xml`) and DUIMP JSON (`*.json`) files in an inbox.

The same rules as the ERP file drops (`ingestion/erp/filedrop.py`), with a declaration file instead of a table:
`scan(inbox)` lists the waiting files with their SHA-256 in arrival order; `process(file, registry, land)` parses
one (`di_xml` or `duimp_json`), checks every record against its contract (`contracts.check`), stamps the good
ones with the file's arrival, hands the result to `land` (which writes the lake), and only then moves the file
and records its hash:

- every record valid: `loaded`, the file goes to `processed/`;
- some records bad: `partial`, the good ones land, the file goes to `processed/`, `quarantine/` gets
  `<name>.reason.txt` with one line per bad record;
- nothing usable (not XML/JSON, no declaration, unknown extension, every record bad): `quarantined`, the file
  goes to `quarantine/` with `<name>.reason.txt`;
- the same bytes already loaded: `skipped`, the file goes to `skipped/` with its reason.

A declaration whose header breaks the contract takes its items and payments with it (they would be orphans):
each is quarantined naming the header's reason. Every record read is either landed or quarantined:
`landed + quarantined == records` in every `FileResult`. If `land` raises, the file stays in the inbox.
"""

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from ingestion.common.quarantine import QuarantineRecord
from ingestion.customs import contracts, di_xml, duimp_json
from ingestion.customs.di_xml import DeclarationFormatError

# The inbox rules (folders, files still being written, statuses) are the ERP file drop's: one broker inbox behaves
# like the ERP's.
from ingestion.erp.filedrop import PROCESSED, QUARANTINE, SKIPPED, FileStatus, waiting
from ingestion.erp.folders import Folder, as_folder
from ingestion.erp.state import FileRegistry

PARSERS = {".xml": di_xml.parse, ".json": duimp_json.parse}
# the part of each parsed declaration holding each entity's records
PARTS = {"declarations": "declaration", "declaration_items": "items", "taxes_paid": "taxes"}


@dataclass(frozen=True)
class DroppedFile:
    inbox: Folder | None  # None: a body fetched from the Portal Único API (portal_unico.py), not a file
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
    records: int = 0  # every record read from the file (headers, items, payments)
    moved_to: str | None = None
    arrived_at: datetime | None = None
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def landed(self) -> int:
        return sum(table.num_rows for table in self.tables.values())


def scan(inbox: Folder | str | os.PathLike, min_age: timedelta = timedelta(0)) -> list[DroppedFile]:
    """The files waiting in the inbox, oldest first, hashed (the ERP file drop's `waiting`: hidden, `_`-prefixed,
    temporary and too-recent files are left alone)."""
    folder = as_folder(inbox)
    return [
        DroppedFile(folder, info.name, digest, info.size, info.modified) for info, digest in waiting(folder, min_age)
    ]


def empty_tables() -> dict[str, pa.Table]:
    return {entity: contracts.lake_schema(entity).empty_table() for entity in contracts.ENTITY_NAMES}


def _orphan(entity: str, raw: dict, header_reason: str) -> QuarantineRecord:
    key = contracts.ENTITIES[entity].key_of(raw)
    reason = f"{entity} {key}: its declaration is quarantined ({header_reason})"
    return QuarantineRecord(contracts.SOURCE, entity, key, reason, contracts.payload(raw))


def validate(declarations: list[dict]) -> tuple[dict[str, list[dict]], list[QuarantineRecord], int]:
    """The valid records per entity, the quarantine, and the number of records read."""
    valid: dict[str, list[dict]] = {entity: [] for entity in contracts.ENTITY_NAMES}
    quarantine: list[QuarantineRecord] = []
    records = 0
    for parsed in declarations:
        headers, bad = contracts.check("declarations", [parsed["declaration"]])
        records += 1 + len(parsed["items"]) + len(parsed["taxes"])
        if bad:
            quarantine += bad
            for entity in ("declaration_items", "taxes_paid"):
                quarantine += [_orphan(entity, raw, bad[0].reason) for raw in parsed[PARTS[entity]]]
            continue
        valid["declarations"] += headers
        for entity in ("declaration_items", "taxes_paid"):
            rows, bad_rows = contracts.check(entity, parsed[PARTS[entity]])
            valid[entity] += rows
            quarantine += bad_rows
    return valid, quarantine, records


def _whole_file(file: DroppedFile, reason: str) -> QuarantineRecord:
    payload = contracts.payload({"file": file.name, "sha256": file.sha256, "size": file.size})
    return QuarantineRecord(contracts.SOURCE, "declarations", f"file={file.name}", reason, payload)


def _free_name(folder: Folder, sub: str, name: str, sha256: str) -> str:
    target = f"{sub}/{os.path.basename(name)}"
    if not folder.exists(target):
        return target
    stem, dot, suffix = target.rpartition(".")
    return f"{stem}.{sha256[:12]}{dot}{suffix}" if dot else f"{target}.{sha256[:12]}"


def _reason_text(file: DroppedFile, result: FileResult) -> bytes:
    lines = [f"file: {file.name}", f"sha256: {file.sha256}", f"status: {result.status}", f"summary: {result.message}"]
    lines += ["", *(record.reason for record in result.quarantine)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def read(file: DroppedFile, data: bytes, registry: FileRegistry) -> FileResult:
    """Parse and check one file (nothing moved, nothing recorded)."""
    parser = PARSERS.get(os.path.splitext(file.name)[1].lower())
    try:
        if parser is None:
            raise DeclarationFormatError(
                f"unsupported file type {os.path.splitext(file.name)[1]!r} (.xml for a DI, .json for a DUIMP)"
            )
        declarations = parser(data, file.name)
    except DeclarationFormatError as error:
        reason = f"{file.name}: {error}"
        return FileResult(
            file,
            FileStatus.QUARANTINED,
            empty_tables(),
            [_whole_file(file, reason)],
            f"quarantined: {error}",
            records=1,
        )
    valid, quarantine, records = validate(declarations)
    landed = sum(len(rows) for rows in valid.values())
    if landed == 0:
        return FileResult(
            file,
            FileStatus.QUARANTINED,
            empty_tables(),
            quarantine,
            f"quarantined: all {records} records break the contract",
            records=records,
        )
    arrived_at = registry.next_arrival()
    tables = {
        entity: contracts.with_arrival(entity, pa.Table.from_pylist(rows, schema=contracts.schema(entity)), arrived_at)
        for entity, rows in valid.items()
    }
    ids = sorted({row["declaration_id"] for row in valid["declarations"]})
    if quarantine:
        status, message = (
            FileStatus.PARTIAL,
            f"partial: {landed} of {records} records landed, {len(quarantine)} quarantined",
        )
    else:
        status, message = FileStatus.LOADED, f"loaded: {landed} records of {', '.join(ids)}"
    rows = {entity: len(valid[entity]) for entity in contracts.ENTITY_NAMES}
    return FileResult(file, status, tables, quarantine, message, records, arrived_at=arrived_at, rows=rows)


def registry_entry(file: DroppedFile, result: FileResult, moved_to: str) -> dict:
    """What the registry keeps of a landed file (or portal answer): its name, status, records and arrival."""
    return {
        "file": file.name,
        "entity": "declarations",
        "status": str(result.status),
        "rows": result.landed,
        "quarantined": len(result.quarantine),
        "moved_to": moved_to,
        "loaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "arrived_at": result.arrived_at.isoformat(timespec="milliseconds"),
    }


def process(file: DroppedFile, registry: FileRegistry, land: Callable[[FileResult], None] | None = None) -> FileResult:
    """Read, check, land (through `land`), then move the file and record its hash; see the module docstring."""
    inbox, data = file.inbox, file.inbox.read(file.name)
    file = replace(file, sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    prior = registry.get(file.sha256)
    if prior is not None:
        message = (
            f"skipped: the same content (sha256 {file.sha256}) was already loaded from {prior.get('file')} "
            f"at {prior.get('loaded_at')} ({prior.get('rows')} records)"
        )
        target = _free_name(inbox, SKIPPED, file.name, file.sha256)
        inbox.move(file.name, target)
        inbox.write(f"{target}.reason.txt", (message + "\n").encode("utf-8"))
        return FileResult(file, FileStatus.SKIPPED, empty_tables(), [], message, moved_to=inbox.location(target))

    result = read(file, data, registry)
    if land is not None:
        land(result)
    if result.status == FileStatus.QUARANTINED:
        target = _free_name(inbox, QUARANTINE, file.name, file.sha256)
        inbox.move(file.name, target)
        inbox.write(f"{target}.reason.txt", _reason_text(file, result))
        return replace(result, moved_to=inbox.location(target))
    target = _free_name(inbox, PROCESSED, file.name, file.sha256)
    if result.quarantine:
        inbox.write(_free_name(inbox, QUARANTINE, file.name + ".reason.txt", file.sha256), _reason_text(file, result))
    inbox.move(file.name, target)
    registry.record(file.sha256, registry_entry(file, result, target))
    return replace(result, moved_to=inbox.location(target))
