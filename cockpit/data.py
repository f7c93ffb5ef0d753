"""The cockpit's data layer: the readers' view of the marts, and one function that runs a named query.

Where it reads (`ingestion/common/warehouse_snapshot.py`):
- embedded default: the snapshot of `marts` and `ml` published after every dbt build, in an in-memory engine of
  this process, so the cockpit never takes or waits for the warehouse a run is writing;
- a ClickHouse server: the server itself, as the user of `IMPORTAU_COCKPIT_CLICKHOUSE_URL` (a user with the
  `importau_bi` role), else `CLICKHOUSE_URL`.
"""

from __future__ import annotations

import os
import threading
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from cockpit import queries
from ingestion.common.warehouse_snapshot import open_reader

REPO = Path(__file__).resolve().parents[1]
URL_ENV = "IMPORTAU_COCKPIT_CLICKHOUSE_URL"


def data_dir() -> str:
    """`IMPORTAU_DATA_DIR`, else `<repo>/data` (as the rest of the platform)."""
    return os.environ.get("IMPORTAU_DATA_DIR") or str(REPO / "data")


def warehouse_url() -> str:
    return os.environ.get(URL_ENV) or os.environ.get("CLICKHOUSE_URL", "")


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    currencies: tuple[str, ...] = ()
    banks: tuple[str, ...] = ()

    def parameters(self) -> dict:
        return {
            "start": self.start,
            "end": self.end,
            "currencies": list(self.currencies),
            "banks": list(self.banks),
        }


def _is_missing_table(error: BaseException) -> bool:
    """A table (or one of its columns, e.g. `model_kind` of a scores table from before it) that is not there yet."""
    text = str(error)
    return "UNKNOWN_TABLE" in text or "UNKNOWN_DATABASE" in text or "UNKNOWN_IDENTIFIER" in text


@dataclass
class CockpitData:
    """One reader for the app's process; results cached per snapshot (a new snapshot empties the cache)."""

    url: str
    data_dir: str
    _stack: ExitStack = field(default_factory=ExitStack)
    _cache: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        self.reader = self._stack.enter_context(open_reader(self.url or None, self.data_dir))

    @property
    def published_at(self) -> str:
        return getattr(self.reader, "published_at", "")

    def frame(self, name: str, filters: Filters | None = None, optional: bool = False) -> pd.DataFrame | None:
        """The rows of `queries.<name>` for these filters. `optional`: None when its table (or a column it reads)
        does not exist (the ML scores before the first scoring run, or a BI role that may not read `ml`)."""
        sql = getattr(queries, name)
        parameters = filters.parameters() if filters else {}
        version = self.reader.version()
        key = (name, repr(sorted(parameters.items())), version)
        with self._lock:
            if version and key in self._cache:
                return self._cache[key].copy()
        try:
            result = self.reader.query_df(sql, parameters=parameters)
        except Exception as error:
            if optional and (_is_missing_table(error) or "ACCESS_DENIED" in str(error)):
                return None
            raise
        with self._lock:
            if version:
                self._cache = {k: v for k, v in self._cache.items() if k[2] == version}
                self._cache[key] = result
        return result.copy()

    def close(self) -> None:
        self._stack.close()


def open_data() -> CockpitData:
    return CockpitData(warehouse_url(), data_dir())
