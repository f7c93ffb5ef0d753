"""Bank statement files dropped into the bank inbox: OFX (`*.ofx`) and CNAB 240 (`*.ret`, `*.cnab`, `*.rem`, `*.txt`).

The ERP file drop's rules and code (`ingestion/erp/filedrop.py`: the inbox scan `waiting`, and `process_parsed`:
folder names, statuses, free names, the `FileRegistry` of loaded hashes), with a statement file instead of a table:
`scan(inbox)` lists the waiting files with their SHA-256 in arrival order; `process(file, registry, land)` parses
one (`ofx.parse` or `cnab240.parse`), checks every record against its contract (`contracts.check`), stamps the
good ones with the file's arrival, hands the result to `land` (which writes the lake), and only then moves the file
and records its hash:

- every record valid: `loaded`, the file goes to `processed/`;
- some records bad (a detail line of the wrong length, an unknown segment, a bad date, a transaction breaking the
  contract): `partial`, the good ones land, the file goes to `processed/`, and `quarantine/<name>.reason.txt`
  names each bad record with its line and reason;
- unusable as a whole (unknown extension, not OFX, no file header/trailer, counts or totals that disagree with a
  trailer, balances that do not add up, every record bad): `quarantined`, the file goes to `quarantine/` with
  `<name>.reason.txt`;
- the same bytes already loaded: `skipped/`, whatever the name (a statement re-dropped lands nothing twice).

An account whose record breaks the contract takes its balances and transactions with it, each quarantined naming
the account's reason. Every record read is landed or quarantined: `landed + len(quarantine) == records`. If `land`
raises, the file stays in the inbox and nothing is recorded.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pyarrow as pa

from ingestion.bank_statements import cnab240, contracts, ofx
from ingestion.bank_statements.cnab240 import Parsed, StatementFormatError
from ingestion.common.quarantine import QuarantineRecord

# The inbox rules (the scan, folders, free names, statuses) are the ERP file drop's.
from ingestion.erp.filedrop import FileStatus, process_parsed, waiting
from ingestion.erp.folders import Folder, as_folder
from ingestion.erp.state import FileRegistry

PARSERS = {
    ".ofx": ofx.parse,
    ".ret": cnab240.parse,
    ".cnab": cnab240.parse,
    ".rem": cnab240.parse,
    ".txt": cnab240.parse,
}


@dataclass(frozen=True)
class DroppedFile:
    inbox: Folder
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
    records: int = 0  # every record read from the file (accounts, balances, transactions, unreadable lines)
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


def _empty_tables() -> dict[str, pa.Table]:
    return {entity: contracts.lake_schema(entity).empty_table() for entity in contracts.ENTITY_NAMES}


def _clean(raw: dict) -> dict:
    return {key: value for key, value in raw.items() if not key.startswith("_")}


def validate(parsed: Parsed) -> tuple[dict[str, list[dict]], list[QuarantineRecord]]:
    """The valid records per entity and the quarantine (the parser's bad records, the contract's, the orphans of a
    quarantined account), in file order."""
    quarantine = [contracts.record(entity, _clean(raw), reason) for entity, raw, reason in parsed.bad]
    accounts, bad_accounts = contracts.check("accounts", [_clean(raw) for raw in parsed.records["accounts"]])
    quarantine += bad_accounts
    kept = {row["account_id"] for row in accounts}
    reasons = {record.record_key: record.reason for record in bad_accounts}
    refused = {
        raw["account_id"]: reasons.get(f"account_id={raw['account_id']}", "the account breaks the contract")
        for raw in parsed.records["accounts"]
        if raw["account_id"] not in kept
    }
    valid = {"accounts": accounts}
    for entity in ("balances", "transactions"):
        rows = []
        for raw in parsed.records[entity]:
            if raw["account_id"] in refused:
                quarantine.append(
                    contracts.record(entity, _clean(raw), f"its account is quarantined ({refused[raw['account_id']]})")
                )
            else:
                rows.append(_clean(raw))
        valid[entity], bad = contracts.check(entity, rows)
        quarantine += bad
    return valid, sorted(quarantine, key=_line_of)


def _line_of(record: QuarantineRecord) -> int:
    text = record.reason
    return int(text[5 : text.index(":")]) if text.startswith("line ") and ":" in text else 0


def _whole_file(file: DroppedFile, reason: str) -> QuarantineRecord:
    payload = contracts.payload({"file": file.name, "sha256": file.sha256, "size": file.size})
    return QuarantineRecord(contracts.SOURCE, "transactions", f"file={file.name}", reason, payload)


def read(file: DroppedFile, data: bytes, registry: FileRegistry) -> FileResult:
    """Parse and check one file (nothing moved, nothing recorded)."""
    extension = os.path.splitext(file.name)[1].lower()
    parser = PARSERS.get(extension)
    try:
        if parser is None:
            raise StatementFormatError(
                f"unsupported file type {extension!r} (.ofx for OFX; .ret, .cnab, .rem or .txt for CNAB 240)"
            )
        parsed = parser(data, file.name, file.sha256)
    except StatementFormatError as error:
        reason = f"{file.name}: {error}"
        return FileResult(
            file,
            FileStatus.QUARANTINED,
            _empty_tables(),
            [_whole_file(file, reason)],
            f"quarantined: {error}",
            records=1,
        )
    valid, quarantine = validate(parsed)
    records = parsed.count
    landed = sum(len(rows) for rows in valid.values())
    if landed == 0 or not valid["accounts"]:
        return FileResult(
            file,
            FileStatus.QUARANTINED,
            _empty_tables(),
            quarantine,
            f"quarantined: all {records} records break the contract"
            if landed == 0
            else f"quarantined: no account of the file keeps the contract ({records} records)",
            records=records,
        )
    arrived_at = registry.next_arrival()
    tables = {
        entity: contracts.with_arrival(entity, pa.Table.from_pylist(rows, schema=contracts.schema(entity)), arrived_at)
        for entity, rows in valid.items()
    }
    rows = {entity: len(valid[entity]) for entity in contracts.ENTITY_NAMES}
    summary = ", ".join(f"{count} {entity}" for entity, count in rows.items())
    if quarantine:
        status = FileStatus.PARTIAL
        message = f"partial: {landed} of {records} records landed ({summary}), {len(quarantine)} quarantined"
    else:
        status, message = FileStatus.LOADED, f"loaded: {summary}"
    return FileResult(file, status, tables, quarantine, message, records, arrived_at=arrived_at, rows=rows)


def process(file: DroppedFile, registry: FileRegistry, land: Callable[[FileResult], None] | None = None) -> FileResult:
    """Read, check, land (through `land`), then move the file and record its hash: the ERP file drop's
    `process_parsed` (see the module docstring)."""

    def read_one(dropped: DroppedFile, data: bytes) -> FileResult:
        return read(dropped, data, registry)

    def skipped(dropped: DroppedFile, message: str, moved_to: str) -> FileResult:
        return FileResult(dropped, FileStatus.SKIPPED, _empty_tables(), [], message, moved_to=moved_to)

    return process_parsed(file, registry, read_one, skipped, land, "statements")
