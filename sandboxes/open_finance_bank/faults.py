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

A fault without `match` applies to any `/open-banking/` path.
Consent expiry mid-run and changed transaction ids are state changes, not per-request faults: see
`SandboxBank.expire_consent` and `SandboxBank.rename_transaction`.
"""

from sandboxes.common.faults import Fault, FaultPlan
from sandboxes.open_finance_bank.render import Reply, standard_error

ERROR_KINDS = {"429", "500", "503", "504", "529"}
KINDS = ERROR_KINDS | {"slow", "malformed", "truncate", "drop_echo", "wrong_echo", "reset"}
SCOPE = "/open-banking/"  # what a fault without `match` applies to


def new_plan() -> FaultPlan:
    """The sandbox's queue of faults (the stand-ins' one fault plan, `sandboxes/common/faults.py`)."""
    return FaultPlan(KINDS, scope=SCOPE)


def apply(fault: Fault | None, reply: Reply) -> Reply:
    """The reply a fault turns `reply` into (`slow`, `reset` and the echo kinds are handled by the server)."""
    if fault is None:
        return reply
    if fault.kind in ERROR_KINDS:
        return standard_error(int(fault.kind), f"injected fault {fault.kind}")
    if fault.kind == "malformed":
        return Reply(200, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
    if fault.kind == "truncate" and reply.status == 200:
        return Reply(200, reply.body[: max(1, len(reply.body) // 2)], reply.content_type, dict(reply.headers))
    return reply
