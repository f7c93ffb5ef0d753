"""The HTTPS plumbing of the sandbox institution: mutual TLS required on every connection, one thread each.

The handshake demands a client certificate signed by the sandbox CA: a client without the company certificate
(or with one from another CA) never reaches a handler. Requests then go to the token endpoint (`oauth.py`),
the control API (`control.py`) or the Open Finance routes (`routes.py`), with faults applied on the way out.
`SandboxBank` (bank.py) is the public face.
"""

import base64
import hashlib
import logging
import socket
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from ingestion.common.private_temp import make_private_dir, remove_private_dir
from sandboxes.open_finance_bank import authorization, control, faults, oauth, routes
from sandboxes.open_finance_bank.render import Reply, standard_error

log = logging.getLogger(__name__)
TOKEN_PATH = "/auth/token"
# Where the sandbox PKI (with its private keys) lives while it runs: ingestion/common/private_temp.py removes it on
# every exit path, and a folder left by a killed process at the next start.
TEMP_PREFIX = "open-finance-sandbox-"
INTERACTION = "x-fapi-interaction-id"


def thumbprint(der: bytes | None) -> str:
    """RFC 8705 `x5t#S256`: base64url SHA-256 of the certificate's DER, no padding."""
    if not der:
        return ""
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


def _apply(fault: faults.Fault | None, reply: Reply) -> Reply:
    if fault is None:
        return reply
    if fault.kind in faults.ERROR_KINDS:
        return standard_error(int(fault.kind), f"injected fault {fault.kind}")
    if fault.kind == "malformed":
        return Reply(200, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
    if fault.kind == "truncate" and reply.status == 200:
        return Reply(200, reply.body[: max(1, len(reply.body) // 2)], reply.content_type, dict(reply.headers))
    return reply


class _Handler(BaseHTTPRequestHandler):
    server: "_TLSServer"
    protocol_version = "HTTP/1.1"
    server_version = "open-finance-sandbox"
    timeout = 30

    def log_message(self, format: str, *args) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        bank = self.server.bank
        state = bank.state
        peer = thumbprint(self.connection.getpeercert(binary_form=True))
        if self.server.front_channel or parts.path in authorization.BACK_CHANNEL_PATHS:
            reply = authorization.handle(
                bank, method, parts.path, parts.query, headers, body, peer, self.server.front_channel
            )
            return self._send(reply, None)
        if parts.path.startswith(control.PREFIX):
            return self._send(control.handle(bank, method, parts.path, body), None)
        if parts.path == TOKEN_PATH and method == "POST":
            reply = oauth.token_endpoint(state, body, headers.get("content-type", ""), bank.token_audiences, peer)
            return self._send(reply, None)
        sent_id = headers.get(INTERACTION)
        with state.lock:
            state.requests.append({"method": method, "path": parts.path, "query": parts.query, INTERACTION: sent_id})
        fault = state.faults.take(parts.path)
        if fault and fault.kind == "reset":
            self.close_connection = True
            return
        if fault and fault.kind == "slow":
            time.sleep(fault.seconds)
        if not routes.valid_interaction_id(sent_id):
            reply = standard_error(400, f"{INTERACTION} must be a UUID (RFC 4122)")
            return self._send(reply, None)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        reply = routes.route(
            state, method, parts.path, query, headers, body, bank.base_url, bank.base_url + self.path, peer
        )
        reply = _apply(fault, reply)
        echo = sent_id
        if fault and fault.kind == "drop_echo":
            echo = ""
        elif fault and fault.kind == "wrong_echo":
            echo = "00000000-0000-4000-8000-000000000000"
        self._send(reply, echo)

    def _send(self, reply: Reply, interaction_id: str | None) -> None:
        self.send_response(reply.status)
        if reply.body or reply.status != 204:
            self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        # None = the sandbox's own id (control, token, a request without a valid id); "" = no header at all
        echo = str(uuid.uuid4()) if interaction_id is None else interaction_id
        if echo:
            self.send_header(INTERACTION, echo)
        self.send_header("x-v", "1.0.0")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, bank, context: ssl.SSLContext, verbose: bool, front_channel: bool = False):
        self.bank, self.context, self.verbose, self.front_channel = bank, context, verbose, front_channel
        super().__init__(address, _Handler)

    def finish_request(self, request: socket.socket, client_address) -> None:
        """The TLS handshake runs here, in the connection's own thread (a stalled client blocks nobody)."""
        request.settimeout(10)
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # headers and body leave at once
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as error:
            with self.bank.state.lock:
                self.bank.state.rejected_handshakes += 1
            log.debug("sandbox: TLS handshake refused from %s: %s", client_address, error)
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address) -> None:
        if self.verbose:
            super().handle_error(request, client_address)


def server_context(certs, require_client_cert: bool = True) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certs.server_cert, certs.server_key)
    context.load_verify_locations(cafile=certs.ca_cert)
    # mutual TLS: no client certificate, no connection (the front channel, where a browser comes, asks for none)
    context.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_NONE
    return context


class Listener:
    """Owns the socket, the thread and the temp dir of one running sandbox.

    `front_channel=True`: the listener a person's browser reaches (the authorize endpoint, authorization.py): TLS
    without a client certificate, and nothing but the authorization server's front-channel paths."""

    def __init__(self, bank, host: str, port: int, verbose: bool, front_channel: bool = False):
        self.bank, self.host, self.port, self.verbose = bank, host, port, verbose
        self.front_channel = front_channel
        self._server: _TLSServer | None = None
        self._thread: threading.Thread | None = None
        self.temp_dir: str | None = None

    def start(self, certs) -> int:
        context = server_context(certs, require_client_cert=not self.front_channel)
        self._server = _TLSServer((self.host, self.port), self.bank, context, self.verbose, self.front_channel)
        self.port = self._server.server_address[1]
        name = "open-finance-sandbox-front" if self.front_channel else "open-finance-sandbox"
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None
        if self.temp_dir:
            remove_private_dir(self.temp_dir)
            self.temp_dir = None

    def make_temp_dir(self) -> str:
        self.temp_dir = make_private_dir(TEMP_PREFIX)
        return self.temp_dir
