"""A monthly call budget per (institution, endpoint), persisted so a backfill cannot burn the bank's limits.

Institutions enforce monthly operational limits per endpoint; a call over the limit is refused and still
counts against the company. A charge runs before every call (retries included: the institution counts them
too) and raises `CallBudgetExceeded` without calling once the month's budget is used up.

The counts live in a small JSON file, `{"2025-03": {"<institution>": {"<endpoint>": 12}}}`, updated under an
exclusive `flock` on `<file>.lock`, so concurrent runs (several partitions, several processes) share one count.
Months are UTC calendar months; old months stay in the file as a record (a few hundred bytes each).
Endpoints are templates, e.g. `accounts/v2/accounts/{accountId}/transactions-current`.

Two ways to charge:

* `CallBudget.charge(...)`: one call, one locked read-modify-write of the file (a standalone call).
* `CallBudget.session()` -> `BudgetSession` (what a pull uses): calls are charged in memory against blocks
  *reserved* from the file. When a session has no reserved call left for an endpoint it takes the lock once,
  reads the month's count, adds a block (1, 2, 4, ... up to `max_block` calls, never past the budget) to the
  file and releases the lock; the next calls of that endpoint cost no file access. Closing the session
  (`with` exit, on success and on any exception) gives the unused reserved calls back under the lock.

Guarantees, both ways: the sum over every process of the calls made never exceeds the budget (a call is
only made against a call already written to the file under the lock), and the count in the file is never lower
than the calls really made, at any instant. A process killed mid-pull (SIGKILL, power loss) leaves its unused
reservations counted: an over-count of at most `max_block - 1` calls per endpoint it was calling, which the
next month forgets; an under-count cannot happen. While a session runs, the file (and `used()`) includes its
reserved-but-unmade calls, so a pull running at the same time may be refused up to that many calls early.
"""

import fcntl
import json
import logging
import os
import threading
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from ingestion.open_finance.errors import CallBudgetExceeded

log = logging.getLogger(__name__)

DEFAULT_MAX_BLOCK = 64  # the most calls a session reserves from the file at once, per endpoint


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
        return self.reserve(self.month(), institution, endpoint, budget, 1)[1]

    def session(self, max_block: int = DEFAULT_MAX_BLOCK) -> "BudgetSession":
        """A session charging in memory against blocks reserved from the file; use it as a context manager."""
        return BudgetSession(self, max_block)

    def reserve(self, month: str, institution: str, endpoint: str, budget: int, wanted: int) -> tuple[int, int]:
        """Add up to `wanted` calls to the count, never past `budget`: (calls granted >= 1, count after).

        Raises `CallBudgetExceeded` (adding nothing) when `budget` calls are already counted.
        """
        with self._locked() as state:
            counts = state.setdefault(month, {}).setdefault(institution, {})
            used = int(counts.get(endpoint, 0))
            if used >= budget:
                raise CallBudgetExceeded(institution, endpoint, budget, month, used)
            granted = max(1, min(wanted, budget - used))
            counts[endpoint] = used + granted
            return granted, used + granted

    def give_back(self, unused: dict[tuple[str, str, str], int]) -> None:
        """Return reserved calls that were not made: {(month, institution, endpoint): calls} (one locked write)."""
        unused = {key: n for key, n in unused.items() if n > 0}
        if not unused:
            return
        with self._locked() as state:
            for (month, institution, endpoint), calls in unused.items():
                counts = state.setdefault(month, {}).setdefault(institution, {})
                counts[endpoint] = max(0, int(counts.get(endpoint, 0)) - calls)

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
                        temp = self.path.with_name(self.path.name + f".{os.getpid()}.{threading.get_ident()}.tmp")
                        temp.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
                        os.replace(temp, self.path)
                finally:
                    fcntl.flock(lock_file, fcntl.LOCK_UN)


class BudgetSession:
    """The calls of one pull, charged in memory against blocks reserved from a `CallBudget` (thread-safe).

    `charge(institution, endpoint, budget)` has the signature of `CallBudget.charge`. Per (month, institution,
    endpoint) the session holds the calls reserved and not yet made; when none is left it reserves the next
    block, twice the previous one (1, 2, 4, ... `max_block`), so an endpoint called once costs one reserved
    call and one called a thousand times about 20 locked file writes instead of a thousand. `close()` (the
    `with` exit) returns what is left; after it the session still works, reserving afresh.
    """

    def __init__(self, budget: CallBudget, max_block: int = DEFAULT_MAX_BLOCK):
        if max_block < 1:
            raise ValueError(f"max_block must be at least 1, got {max_block}")
        self.budget, self.max_block = budget, max_block
        self._held: dict[tuple[str, str, str], int] = {}  # reserved, not yet made
        self._next_block: dict[tuple[str, str, str], int] = {}
        self.charged: dict[tuple[str, str, str], int] = {}  # calls charged by this session
        self.reservations = 0  # locked file writes made to reserve
        self._lock = threading.Lock()

    def charge(self, institution: str, endpoint: str, budget: int) -> int:
        """Count one call; raises `CallBudgetExceeded` when the file has no call left to reserve.

        Returns how many calls of this endpoint the session has charged this month.
        """
        key = (self.budget.month(), institution, endpoint)
        with self._lock:
            if self._held.get(key, 0) <= 0:
                block = self._next_block.get(key, 1)
                granted, _ = self.budget.reserve(*key, budget, block)
                self.reservations += 1
                self._held[key] = granted
                self._next_block[key] = min(self.max_block, block * 2)
            self._held[key] -= 1
            self.charged[key] = self.charged.get(key, 0) + 1
            return self.charged[key]

    def held(self) -> int:
        """Reserved calls not made yet (they are in the file's count until `close`)."""
        with self._lock:
            return sum(self._held.values())

    def close(self) -> None:
        """Give the unused reserved calls back to the file (one locked write, none when nothing is held)."""
        with self._lock:
            unused, self._held = self._held, {}
            try:
                self.budget.give_back(unused)
            except BaseException:
                self._held = unused  # still counted in the file: an over-count, never an under-count
                raise

    def __enter__(self) -> "BudgetSession":
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        try:
            self.close()
        except Exception as error:  # noqa: BLE001 - never hide the pull's own exception behind this one
            if exc is None:
                raise
            log.warning(
                "open finance call budget: could not return %d reserved call(s) to %s (%s: %s); they stay "
                "counted this month",
                sum(self._held.values()),
                self.budget.path,
                type(error).__name__,
                error,
            )
