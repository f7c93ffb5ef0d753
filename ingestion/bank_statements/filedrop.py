"""Bank statement files dropped into the bank inbox: OFX (`*.ofx`) and CNAB 240 (`*.ret`, `*.cnab`, `*.rem`, `*.txt`).

The generic parsed-file drop (`ingestion/erp/parsed_filedrop.py`: the ERP file drop's inbox rules, folder names,
statuses, free names, the `FileRegistry` of loaded hashes) with this format (`FORMAT`): `scan(inbox)` lists the
waiting files with their SHA-256 in arrival order; `process(file, registry, land)` parses one (`ofx.parse` or
`cnab240.parse`), checks every record against its contract (`contracts.check`), stamps the good ones with the
file's arrival, hands the result to `land` (which writes the lake), and only then records its hash and moves the
file (`process_many(files, registry, land_batch)`: the same for many files, landed in batches, one lake write per
batch):

- every record valid: `loaded`, the file goes to `processed/`;
- some records bad (a detail line of the wrong length, an unknown segment, a bad date, a transaction breaking the
  contract): `partial`, the good ones land, the file goes to `processed/`, and `quarantine/<name>.reason.txt`
  names each bad record with its line and reason;
- unusable as a whole (unknown extension, not OFX, no file header/trailer, counts or totals that disagree with a
  trailer, balances that do not add up, every record bad): `quarantined`, the file goes to `quarantine/` with
  `<name>.reason.txt`;
- the same bytes already loaded: `skipped/`, whatever the name (a statement re-dropped lands nothing twice).

An account whose record breaks the contract takes its balances and transactions with it, each quarantined naming
the account's reason; a card (an OFX credit card statement) takes its card transactions with it. Every record
read is landed or quarantined: `landed + len(quarantine) == records`. If `land` raises, the file stays in the inbox
and nothing is recorded.
"""

import os
from collections.abc import Callable, Iterable
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


# Each account entity with its key and the entities that hang on it: a bank account's balances and movements, a
# credit card's movements. A refused account takes its children with it.
FAMILIES = (
    ("accounts", "account_id", ("balances", "transactions")),
    ("card_accounts", "card_account_id", ("card_transactions",)),
)


def validate(parsed: Parsed) -> tuple[dict[str, list[dict]], list[QuarantineRecord]]:
    """The valid records per entity and the quarantine (the parser's bad records, the contract's, the orphans of a
    quarantined account or card), in file order."""
    quarantine = [contracts.record(entity, _clean(raw), reason) for entity, raw, reason in parsed.bad]
    valid: dict[str, list[dict]] = {}
    for account_entity, key, children in FAMILIES:
        raw_accounts = [_clean(raw) for raw in parsed.records[account_entity]]
        accounts, bad_accounts = contracts.check(account_entity, raw_accounts)
        quarantine += bad_accounts
        valid[account_entity] = accounts
        refused = _refused(parsed, account_entity, key, accounts, bad_accounts)
        for entity in children:
            rows = []
            for raw in parsed.records[entity]:
                if raw[key] in refused:
                    reason = f"its account is quarantined ({refused[raw[key]]})"
                    quarantine.append(contracts.record(entity, _clean(raw), reason))
                else:
                    rows.append(_clean(raw))
            valid[entity], bad = contracts.check(entity, rows)
            quarantine += bad
    return {entity: valid[entity] for entity in contracts.ENTITY_NAMES}, sorted(quarantine, key=_line_of)


def _refused(
    parsed: Parsed, entity: str, key: str, kept_rows: list[dict], bad: list[QuarantineRecord]
) -> dict[str, str]:
    """Account id -> the reason its account (or card) did not land: it broke the contract, or the parser could not
    read it (a card statement whose balance is unreadable)."""
    kept = {row[key] for row in kept_rows}
    reasons = {record.record_key: record.reason for record in bad}
    refused = {
        raw[key]: reasons.get(f"{key}={raw[key]}", "the account breaks the contract")
        for raw in parsed.records[entity]
        if raw[key] not in kept
    }
    refused.update({raw[key]: reason for bad_entity, raw, reason in parsed.bad if bad_entity == entity})
    return refused


def _line_of(record: QuarantineRecord) -> int:
    text = record.reason
    return int(text[5 : text.index(":")]) if text.startswith("line ") and ":" in text else 0


def _checked(parsed: Parsed) -> tuple[dict[str, list[dict]], list[QuarantineRecord], int]:
    valid, quarantine = validate(parsed)
    return valid, quarantine, parsed.count


def _summary(valid: dict[str, list[dict]]) -> str:
    """`1 accounts, 1 balances, 31 transactions`; a file with credit card statements adds its card entities."""
    shown = [*contracts.BANK_ENTITIES, *(contracts.CARD_ENTITIES if valid["card_accounts"] else ())]
    if not valid["accounts"] and valid["card_accounts"]:
        shown = list(contracts.CARD_ENTITIES)
    return ", ".join(f"{len(valid[entity])} {entity}" for entity in shown)


def _no_account(valid: dict[str, list[dict]], records: int) -> str | None:
    if valid["accounts"] or valid["card_accounts"]:
        return None
    return f"no account or card of the file keeps the contract ({records} records)"


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
    """Read, check, land (through `land`), then record the file's hash and move it; see the module docstring."""
    return parsed_filedrop.process(file, registry, FORMAT, land)


def process_many(
    files: Iterable[DroppedFile], registry: FileRegistry, land_batch: Callable[[list[FileResult]], None] | None = None
) -> list[FileResult]:
    """`process` for each file, landed in batches (one `land_batch` call per batch, `parsed_filedrop.process_many`)."""
    return parsed_filedrop.process_many(files, registry, FORMAT, land_batch)
