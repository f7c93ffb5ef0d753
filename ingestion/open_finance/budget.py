"""A monthly call budget per (institution, endpoint), persisted so a backfill cannot burn the bank's limits.

Institutions enforce monthly operational limits per endpoint; a call over the limit is refused and still
counts against the company. `CallBudget.charge` runs before every call (retries included: the institution
counts them too) and raises `CallBudgetExceeded` without calling once the month's budget is used up.

The counts live in a small JSON file, `{"2025-03": {"<institution>": {"<endpoint>": 12}}}`, updated under an
exclusive `flock` on `<file>.lock`, so concurrent runs (several partitions, several processes) share one count.
Months are UTC calendar months; old months stay in the file as a record (a few hundred bytes each).
Endpoints are templates, e.g. `accounts/v2/accounts/{accountId}/transactions-current`.
"""

import fcntl
import json
import os
import threading
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from ingestion.open_finance.errors import CallBudgetExceeded


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CallBudget:
    """Counts calls per institution, endpoint and month; `path=None` keeps the counts in memory (tests)."""

    def __init__(self, path: str | Path | None, clock: Callable[[], datetime] = _utc_now):
        self.path = Path(path) if path else None
        self.clock = clock
        self._memory: dict = {}
        self._lock = threading.Lock()

    def month(self) -> str:
        return self.clock().strftime("%Y-%m")

    def charge(self, institution: str, endpoint: str, budget: int) -> int:
        """Count one call; raises `CallBudgetExceeded` (counting nothing) when `budget` calls were already made."""
        month = self.month()
        with self._locked() as state:
            counts = state.setdefault(month, {}).setdefault(institution, {})
            used = int(counts.get(endpoint, 0))
            if used >= budget:
                raise CallBudgetExceeded(institution, endpoint, budget, month, used)
            counts[endpoint] = used + 1
            return used + 1

    def used(self, institution: str, endpoint: str, month: str | None = None) -> int:
        with self._locked(write=False) as state:
            return int(state.get(month or self.month(), {}).get(institution, {}).get(endpoint, 0))

    def usage(self, month: str | None = None) -> dict[str, dict[str, int]]:
        """Every count of a month: {institution: {endpoint: calls}}."""
        with self._locked(write=False) as state:
            return json.loads(json.dumps(state.get(month or self.month(), {})))

    @contextmanager
    def _locked(self, write: bool = True):
        with self._lock:
            if self.path is None:
                yield self._memory
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path.with_name(self.path.name + ".lock"), "a+") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                try:
                    state = json.loads(self.path.read_text(encoding="utf-8") or "{}") if self.path.exists() else {}
                    yield state
                    if write:
                        temp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
                        temp.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
                        os.replace(temp, self.path)
                finally:
                    fcntl.flock(lock_file, fcntl.LOCK_UN)
