"""How the sandbox institution answers one request, behind mutual TLS (`sandboxes/common/http_server.py`).

The handshake demands a client certificate signed by the sandbox CA: a client without the company certificate
(or with one from another CA) never reaches `answer`. Requests then go to the token endpoint (`oauth.py`),
the control API (`control.py`) or the Open Finance routes (`routes.py`), with faults (`faults.py`) applied on the
way out; the authorization server's back-channel paths (discovery, JWKS, PAR) go to `authorization.py`.
`FrontChannel` is the second listener, the one a person's browser reaches (the authorize endpoint): TLS without a
client certificate. `SandboxBank` (bank.py) is the public face.
"""

import base64
import hashlib
import time
import uuid

from sandboxes.common.http_server import LocalServer, Request
from sandboxes.open_finance_bank import authorization, control, faults, oauth, routes
from sandboxes.open_finance_bank.render import Reply, standard_error

TOKEN_PATH = "/auth/token"
# Where the sandbox PKI (with its private keys) lives while it runs: ingestion/common/private_temp.py removes it on
# every exit path, and a folder left by a killed process at the next start.
TEMP_PREFIX = "open-finance-sandbox-"
INTERACTION = "x-fapi-interaction-id"
IDLE_TIMEOUT_S = 30


def thumbprint(der: bytes | None) -> str:
    """RFC 8705 `x5t#S256`: base64url SHA-256 of the certificate's DER, no padding."""
    if not der:
        return ""
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


def _with_headers(reply: Reply, interaction_id: str | None) -> Reply:
    # None = the sandbox's own id (control, token, a request without a valid id); "" = no header at all
    echo = str(uuid.uuid4()) if interaction_id is None else interaction_id
    headers = {INTERACTION: echo} if echo else {}
    headers["x-v"] = "1.0.0"
    return Reply(reply.status, reply.body, reply.content_type, {**headers, **reply.headers})


def answer(bank, request: Request) -> Reply | None:
    """The reply to one request (None: close the connection without answering, the `reset` fault)."""
    method, path, body, headers = request.method, request.path, request.body, request.headers
    state = bank.state
    peer = thumbprint(request.peer_certificate)
    if path in authorization.BACK_CHANNEL_PATHS:
        reply = authorization.handle(bank, method, path, request.query, headers, body, peer, front=False)
        return _with_headers(reply, None)
    if path.startswith(control.PREFIX):
        return _with_headers(control.handle(bank, method, path, body), None)
    if path == TOKEN_PATH and method == "POST":
        reply = oauth.token_endpoint(state, body, headers.get("content-type", ""), bank.token_audiences, peer)
        return _with_headers(reply, None)
    sent_id = headers.get(INTERACTION)
    with state.lock:
        state.requests.append({"method": method, "path": path, "query": request.query, INTERACTION: sent_id})
    fault = state.faults.take(path)
    if fault and fault.kind == "reset":
        return None
    if fault and fault.kind == "slow":
        time.sleep(fault.seconds)
    if not routes.valid_interaction_id(sent_id):
        return _with_headers(standard_error(400, f"{INTERACTION} must be a UUID (RFC 4122)"), None)
    reply = routes.route(
        state, method, path, request.query_params(), headers, body, bank.base_url, bank.base_url + request.target, peer
    )
    reply = faults.apply(fault, reply)
    echo = sent_id
    if fault and fault.kind == "drop_echo":
        echo = ""
    elif fault and fault.kind == "wrong_echo":
        echo = "00000000-0000-4000-8000-000000000000"
    return _with_headers(reply, echo)


class FrontChannel(LocalServer):
    """The listener a person's browser reaches: TLS with the sandbox's server certificate and no client certificate
    (a browser has none), serving only the authorization server's front-channel paths (authorization.py)."""

    def __init__(self, bank, host: str, verbose: bool):
        super().__init__(host, 0, name="open-finance-sandbox-front", verbose=verbose, idle_timeout=IDLE_TIMEOUT_S)
        self.bank = bank

    def handle(self, request: Request) -> Reply:
        return authorization.handle(
            self.bank, request.method, request.path, request.query, request.headers, request.body, "", front=True
        )
