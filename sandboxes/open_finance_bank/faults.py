"""Faults the sandbox injects on request: the next `count` API requests (whose path contains `match`) misbehave.

| kind | what the client sees |
|---|---|
| `429`, `529`, `500`, `503`, `504` | that status with the official error envelope |
| `slow` | the normal answer after `seconds` |
| `malformed` | HTTP 200 with an HTML gateway page instead of JSON |
| `truncate` | HTTP 200 with the normal JSON cut in the middle (Content-Length matches the cut body) |
| `drop_echo` | the normal answer without the `x-fapi-interaction-id` header |
| `wrong_echo` | the normal answer echoing a different `x-fapi-interaction-id` |
| `reset` | the connection closes without an answer |

Consent expiry mid-run and changed transaction ids are state changes, not per-request faults: see
`SandboxBank.expire_consent` and `SandboxBank.rename_transaction`.
"""

import threading
from dataclasses import dataclass

ERROR_KINDS = {"429", "500", "503", "504", "529"}
KINDS = ERROR_KINDS | {"slow", "malformed", "truncate", "drop_echo", "wrong_echo", "reset"}


@dataclass
class Fault:
    kind: str
    count: int = 1
    match: str | None = None  # substring of the request path; None = any /open-banking/ path
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {sorted(KINDS)}")
        if self.count < 1:
            raise ValueError("count must be at least 1")

    def applies(self, path: str) -> bool:
        return path.startswith("/open-banking/") if self.match is None else self.match in path


class FaultPlan:
    """Pending faults, consumed first-in first-out by the requests they match (thread-safe)."""

    def __init__(self):
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.applies(path):
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[dict]:
        with self._lock:
            return [vars(fault).copy() for fault in self._faults]
