"""Bank statement files dropped into the bank inbox: OFX (`*.ofx`) and CNAB 240 (`*.ret`, `*.cnab`, `*.rem`, `*.txt`).

The generic parsed-file drop (`ingestion/erp/parsed_filedrop.py`: the ERP file drop's inbox rules, folder names,
statuses, free names, the `FileRegistry` of loaded hashes) with this format (`FORMAT`): `scan(inbox)` lists the
waiting files with their SHA-256 in arrival order; `process(file, registry, land)` parses one (`ofx.parse` or
`cnab240.parse`), checks every record against its contract (`contracts.check`), stamps the good ones with the
file's arrival, hands the result to `land` (which writes the lake), and only then moves the file and records its hash:

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
from datetime import timedelta

from ingestion.bank_statements import cnab240, contracts, ofx
from ingestion.bank_statements.cnab240 import Parsed, StatementFormatError
from ingestion.common.quarantine import QuarantineRecord
from ingestion.erp import parsed_filedrop
from ingestion.erp.filedrop import FileStatus
from ingestion.erp.folders import Folder
from ingestion.erp.parsed_filedrop import DroppedFile, FileResult
from ingestion.erp.state import FileRegistry

__all__ = ["FORMAT", "DroppedFile", "FileResult", "FileStatus", "process", "read", "scan", "validate"]


def _cnab240(data: bytes, file: DroppedFile) -> Parsed:
    return cnab240.parse(data, file.name, file.sha256)


PARSERS = {
    ".ofx": lambda data, file: ofx.parse(data, file.name, file.sha256),
    ".ret": _cnab240,
    ".cnab": _cnab240,
    ".rem": _cnab240,
    ".txt": _cnab240,
}


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


def _checked(parsed: Parsed) -> tuple[dict[str, list[dict]], list[QuarantineRecord], int]:
    valid, quarantine = validate(parsed)
    return valid, quarantine, parsed.count


def _summary(valid: dict[str, list[dict]]) -> str:
    return ", ".join(f"{len(valid[entity])} {entity}" for entity in contracts.ENTITY_NAMES)


def _no_account(valid: dict[str, list[dict]], records: int) -> str | None:
    return None if valid["accounts"] else f"no account of the file keeps the contract ({records} records)"


FORMAT = parsed_filedrop.ParsedFormat(
    contracts=contracts,
    registry_entity="statements",
    whole_file_entity="transactions",
    parsers=PARSERS,
    expected="(.ofx for OFX; .ret, .cnab, .rem or .txt for CNAB 240)",
    format_error=StatementFormatError,
    check=_checked,
    summary=_summary,
    summary_in_partial=True,
    refuse=_no_account,
)


def scan(inbox: Folder | str | os.PathLike, min_age: timedelta = timedelta(0)) -> list[DroppedFile]:
    """The files waiting in the bank statements inbox, oldest first, hashed (`parsed_filedrop.scan`)."""
    return parsed_filedrop.scan(inbox, min_age)


def read(file: DroppedFile, data: bytes, registry: FileRegistry) -> FileResult:
    """Parse and check one file (nothing moved, nothing recorded)."""
    return parsed_filedrop.read(file, data, registry, FORMAT)


def process(file: DroppedFile, registry: FileRegistry, land: Callable[[FileResult], None] | None = None) -> FileResult:
    """Read, check, land (through `land`), then move the file and record its hash; see the module docstring."""
    return parsed_filedrop.process(file, registry, FORMAT, land)
