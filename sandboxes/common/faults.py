"""The one fault plan of the stand-ins: "the next `count` requests whose target contains `match` misbehave as `kind`".

    plan = FaultPlan(KINDS)                         # the kinds this stand-in knows (None: any kind)
    plan.add(Fault("429", count=2, match="/balances"))
    fault = plan.take(request.target)               # at most one fault per request, or None

Each stand-in says what a kind does to its answer (`sandboxes/bcb_replay/faults.py`,
`sandboxes/open_finance_bank/faults.py`, `sandboxes/airbyte/server.py`); the plan only queues and hands them out.
Faults are consumed first-in first-out by the requests they match; thread-safe.
"""

import threading
from collections.abc import Collection
from dataclasses import asdict, dataclass, replace


@dataclass
class Fault:
    kind: str
    count: int = 1
    match: str | None = None  # a substring of the request target; None = the plan's default scope
    seconds: float = 0.0  # for the kinds that wait (`delay`, `slow`)
    retry_after: int | None = None  # for a 429 that carries a Retry-After header

    def __post_init__(self) -> None:
        self.kind = str(self.kind)
        if self.count < 1:
            raise ValueError(f"a fault needs count >= 1 (got {self.count})")


class FaultPlan:
    """Pending faults. `kinds` limits what may be injected (None: any); `scope` is the target prefix a fault
    without `match` applies to ("" = every request)."""

    def __init__(self, kinds: Collection[str] | None = None, scope: str = ""):
        self.kinds = frozenset(kinds) if kinds is not None else None
        self.scope = scope
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        if self.kinds is not None and fault.kind not in self.kinds:
            raise ValueError(f"unknown fault kind {fault.kind!r}; known: {', '.join(sorted(self.kinds))}")
        with self._lock:
            self._faults.append(fault)

    def inject(self, kind: str, count: int = 1, match: str | None = None, **options) -> None:
        """`add(Fault(kind, count, match, ...))`."""
        self.add(Fault(kind, count, match, **options))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[dict]:
        """What is still queued, as plain dicts (for the control endpoints)."""
        with self._lock:
            return [asdict(fault) for fault in self._faults]

    def applies(self, fault: Fault, target: str) -> bool:
        return target.startswith(self.scope) if fault.match is None else fault.match in target

    def take(self, target: str) -> Fault | None:
        """The fault this request meets (a copy with count 1), or None; the queued one counts down."""
        with self._lock:
            for fault in self._faults:
                if self.applies(fault, target):
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return replace(fault, count=1)
        return None
