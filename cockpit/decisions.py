"""The finance team's confirm/reject decisions on proposed reconciliation matches: an append-only JSON Lines file.

Kept OUTSIDE the warehouse, so no rebuild (`dbt build`, `--full-refresh`, a new warehouse) can lose them, and
so the cockpit records a decision while a run holds the embedded warehouse. dbt reads the file
(`staging.stg_cockpit__reconciliation_decisions`: the latest decision per match wins) and
`marts.fct_payment_reconciliation` applies it: a confirmed match stays matched, a rejected one never comes back.
One line per decision, never rewritten: the file is also the audit trail of who decided what and when.

Path: `<IMPORTAU_DATA_DIR>/decisions/reconciliation_decisions.jsonl` (the dbt var
`reconciliation_decisions_glob` reads every `reconciliation_decisions*.jsonl` there).
"""

from __future__ import annotations

import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path

FILE_NAME = "reconciliation_decisions.jsonl"
DECISIONS = ("CONFIRMED", "REJECTED")


class DecisionError(ValueError):
    """A decision that cannot be recorded; the message says which and why."""


def decisions_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / "decisions" / FILE_NAME


def record_decision(
    path: Path, reconciliation_id: str, decision: str, decided_by: str, note: str = "", now: datetime | None = None
) -> dict:
    """Append one decision (flushed and fsynced before returning) and return it as written."""
    bank_key, separator, document_key = reconciliation_id.partition("|")
    if decision not in DECISIONS:
        raise DecisionError(f"decision on {reconciliation_id!r} must be one of {DECISIONS}, not {decision!r}")
    if not (separator and bank_key and document_key):
        raise DecisionError(
            f"{reconciliation_id!r} is not a proposed match (`<bank movement>|<ERP document>`): only MATCH rows "
            "of fct_payment_reconciliation can be confirmed or rejected"
        )
    if not decided_by.strip():
        raise DecisionError(f"decision on {reconciliation_id!r}: say who decides (decided_by is empty)")
    entry = {
        "decided_at": (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
        "reconciliation_id": reconciliation_id,
        "decision": decision,
        "decided_by": decided_by.strip(),
        "note": note,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # two sessions deciding at once append whole lines, one after the other
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    return entry


def read_decisions(path: Path) -> list[dict]:
    """Every decision in the file, oldest first (for tests and audits; dbt reads the file itself)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
