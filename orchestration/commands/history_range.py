"""Where the local instance's data starts, so its partitions start there too (orchestration/partitions.py).

`importau demo` sets IMPORTAU_HISTORY_START and IMPORTAU_MARKET_HISTORY_START to its range (unless the
environment already sets them) and records them in `$DAGSTER_HOME/history_range.json`; `importau dev` reads the
record, so the UI on the demo's data lists the months from 2024 (2022 for the BCB) rather than from 2000. The
record only ever widens: a later demo over a shorter range keeps the earlier months it loaded visible.
"""

import json
import os
from pathlib import Path

# Not from orchestration.partitions: importing it builds the partitions, before these variables are set.
from orchestration.constants import HISTORY_START_ENV, MARKET_HISTORY_START_ENV

RECORD_NAME = "history_range.json"


def _record_path() -> Path:
    return Path(os.environ["DAGSTER_HOME"]) / RECORD_NAME


def read_recorded_range() -> dict[str, str]:
    """{env name: date} from the record, or {} when there is none (or it is unreadable: then nothing is assumed)."""
    try:
        recorded = json.loads(_record_path().read_text())
    except (OSError, ValueError):
        return {}
    return {name: recorded[name] for name in (HISTORY_START_ENV, MARKET_HISTORY_START_ENV) if name in recorded}


def use_range(start: str, market_history_start: str) -> dict[str, str]:
    """Set the two variables for this process and its children (unless set) and record them, widened by the
    record's; returns what is in force. Call it before the definitions are imported."""
    wanted = {HISTORY_START_ENV: start, MARKET_HISTORY_START_ENV: min(start, market_history_start)}
    for name, recorded in read_recorded_range().items():
        wanted[name] = min(wanted[name], recorded)
    in_force = {name: os.environ.setdefault(name, value) for name, value in wanted.items()}
    _record_path().write_text(json.dumps(wanted, indent=2) + "\n")
    return in_force


def use_recorded_range() -> dict[str, str]:
    """Set the variables from the record (unless set); returns what is in force ({} without a record)."""
    return {name: os.environ.setdefault(name, value) for name, value in read_recorded_range().items()}
