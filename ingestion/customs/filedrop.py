"""Customs declarations dropped by the broker: DI XML (`*.xml`) and DUIMP JSON (`*.json`) files in an inbox.

The generic parsed-file drop (`ingestion/erp/parsed_filedrop.py`, the ERP file drop's inbox rules) with this
format (`FORMAT`): `scan(inbox)` lists the waiting files with their SHA-256 in arrival order;
`process(file, registry, land)` parses one (`di_xml` or `duimp_json`), checks every record against its contract
(`contracts.check`), stamps the good ones with the file's arrival, hands the result to `land` (which writes the
lake), and only then records its hash and moves the file (`process_many(files, registry, land_batch)`: the same for
many files, landed in batches, one lake write per batch):

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

import os
from collections.abc import Callable, Iterable
from datetime import timedelta

from ingestion.common.quarantine import QuarantineRecord
from ingestion.customs import contracts, di_xml, duimp_json
from ingestion.customs.di_xml import DeclarationFormatError
from ingestion.erp import parsed_filedrop
from ingestion.erp.filedrop import FileStatus
from ingestion.erp.folders import Folder
from ingestion.erp.parsed_filedrop import DroppedFile, FileResult
from ingestion.erp.state import FileRegistry

__all__ = ["FORMAT", "DroppedFile", "FileResult", "FileStatus", "empty_tables", "process", "read", "scan", "validate"]

# the part of each parsed declaration holding each entity's records
PARTS = {"declarations": "declaration", "declaration_items": "items", "taxes_paid": "taxes"}


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


def _summary(valid: dict[str, list[dict]]) -> str:
    ids = sorted({row["declaration_id"] for row in valid["declarations"]})
    return f"{sum(len(rows) for rows in valid.values())} records of {', '.join(ids)}"


FORMAT = parsed_filedrop.ParsedFormat(
    contracts=contracts,
    registry_entity="declarations",
    whole_file_entity="declarations",
    parsers={
        ".xml": lambda data, file: di_xml.parse(data, file.name),
        ".json": lambda data, file: duimp_json.parse(data, file.name),
    },
    expected="(.xml for a DI, .json for a DUIMP)",
    format_error=DeclarationFormatError,
    check=validate,
    summary=_summary,
)


def scan(inbox: Folder | str | os.PathLike, min_age: timedelta = timedelta(0)) -> list[DroppedFile]:
    """The files waiting in the customs inbox, oldest first, hashed (`parsed_filedrop.scan`)."""
    return parsed_filedrop.scan(inbox, min_age)


def empty_tables() -> dict:
    return parsed_filedrop.empty_tables(FORMAT)


def read(file: DroppedFile, data: bytes, registry: FileRegistry) -> FileResult:
    """Parse and check one file (nothing moved, nothing recorded)."""
    return parsed_filedrop.read(file, data, registry, FORMAT)


def registry_entry(file: DroppedFile, result: FileResult, moved_to: str) -> dict:
    """What the registry keeps of a landed file (or portal answer): its name, status, records and arrival."""
    return parsed_filedrop.entry(FORMAT, result, moved_to)


def process(file: DroppedFile, registry: FileRegistry, land: Callable[[FileResult], None] | None = None) -> FileResult:
    """Read, check, land (through `land`), then record the file's hash and move it; see the module docstring."""
    return parsed_filedrop.process(file, registry, FORMAT, land)


def process_many(
    files: Iterable[DroppedFile], registry: FileRegistry, land_batch: Callable[[list[FileResult]], None] | None = None
) -> list[FileResult]:
    """`process` for each file, landed in batches (one `land_batch` call per batch, `parsed_filedrop.process_many`)."""
    return parsed_filedrop.process_many(files, registry, FORMAT, land_batch)
