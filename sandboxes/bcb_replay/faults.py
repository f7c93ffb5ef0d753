"""Faults the replay server can inject into its next answers, for tests of retries and quarantine.

Kinds:
- `429`, `500`, `502`, `503`, `504`: that status instead of the answer (Olinda-style `/*...*/` body for Olinda
  paths, the HTML page a gateway sends elsewhere); `retry_after` adds a Retry-After header to a 429;
- `html`: HTTP 200 with an HTML error page instead of the body (seen under bursts of requests);
- `truncated`: HTTP 200 with the first half of the real body only;
- `non_numeric`: the first value of the real body replaced by `"n/d"` (SGS `valor`, Olinda `cotacaoVenda`,
  Focus `Mediana`/`mediana`, the closing file's sell column);
- `empty_value`: the first SGS `valor` (or closing-file sell) replaced by an empty string;
- `delay`: answer normally after `seconds` (to trigger client timeouts);
- `reset`: close the connection without answering.
A fault applies to the next `count` requests whose raw path contains `match` (every request when None); the queue
is the stand-ins' one fault plan, `sandboxes/common/faults.py`.
"""

import re

from sandboxes.bcb_replay import render
from sandboxes.bcb_replay.render import Reply
from sandboxes.common.faults import Fault

STATUS_KINDS = frozenset({"429", "500", "502", "503", "504"})
BODY_KINDS = frozenset({"html", "truncated", "non_numeric", "empty_value"})
KINDS = STATUS_KINDS | BODY_KINDS | {"delay", "reset"}


_FIRST_VALUE = [
    re.compile(r'("valor":)"[^"]*"'),
    re.compile(r'("cotacaoVenda":)[-0-9.Ee+]+'),
    re.compile(r'("[Mm]ediana":)[-0-9.Ee+]+'),
]
_CLOSING_SELL = re.compile(r"^((?:[^;\n]*;){5})[^;\n]*", re.MULTILINE)


def _replace_first_value(text: str, replacement: str) -> str:
    for pattern in _FIRST_VALUE:
        changed, count = pattern.subn(lambda m: f'{m.group(1)}"{replacement}"', text, count=1)
        if count:
            return changed
    return _CLOSING_SELL.sub(lambda m: m.group(1) + replacement, text, count=1)


def apply(fault: Fault, reply: Reply, olinda: bool) -> Reply:
    """The reply a fault turns `reply` into (`delay` and `reset` are handled by the server)."""
    if fault.kind in STATUS_KINDS:
        status = int(fault.kind)
        message = "Too Many Requests" if status == 429 else "Erro desconhecido"
        faulty = render.olinda_error(status, message) if olinda else render.html_page(status, f"{status} Error")
        if status == 429 and fault.retry_after is not None:
            faulty.headers["Retry-After"] = str(fault.retry_after)
        return faulty
    if fault.kind == "html":
        return render.html_page(200, "Sistema temporariamente indisponível")
    text = reply.body.decode("utf-8")
    if fault.kind == "truncated":
        return Reply(200, reply.content_type, text[: max(1, len(text) // 2)].encode("utf-8"))
    if fault.kind == "non_numeric":
        return Reply(reply.status, reply.content_type, _replace_first_value(text, "n/d").encode("utf-8"))
    if fault.kind == "empty_value":
        return Reply(reply.status, reply.content_type, _replace_first_value(text, "").encode("utf-8"))
    return reply
