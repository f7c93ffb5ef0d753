"""A local stand-in for the Portal Único Siscomex DUIMP API: HTTPS on 127.0.0.1 that REQUIRES a client certificate.

What it speaks (ingestion/customs/portal_unico.py says which parts follow the public documentation):
- `POST /portal/api/autenticar` with a `Role-Type` header -> 200 with `Set-Token`, `X-CSRF-Token` and
  `X-CSRF-Expiration` (epoch ms; `token_ttl_s` after now);
- `GET /duimp/api/ext/sefaz/duimp/{numero}` with `Authorization` + `X-CSRF-Token` of a live session -> 200 and the
  DUIMP's JSON (the bytes it was given: the demo generator's DUIMP JSON), 404 for an unknown number, 401 when the
  session is unknown or expired;
- faults queued by the test (`fail_next(status, retry_after)`): 429/503 with `Retry-After`; `expire_sessions()`
  makes every session issued so far expire now.
The PKI (a test CA, the server's and the company's certificates, and an outsider's from another CA) is generated
at start-up in a private temporary folder (keys 0600, removed at `stop`), with the Open Finance sandbox's generator.
`CustomsPortal.from_company(company)` serves the demo company's DUIMPs (`writers.customs_declaration_files`).
"""

import json
import re
import secrets
import socket
import ssl
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ingestion.common.private_temp import make_private_dir, remove_private_dir
from sandboxes.open_finance_bank import certs as pki
from sandboxes.open_finance_bank.server import server_context

AUTH_PATH = "/portal/api/autenticar"
DUIMP_PATH = re.compile(r"^/duimp/api/ext/sefaz/duimp/(?P<numero>[0-9A-Z]+)$")
TEMP_PREFIX = "customs-portal-standin-"


class _State:
    def __init__(self, declarations: dict[str, bytes], token_ttl_s: float):
        self.declarations, self.token_ttl_s = declarations, token_ttl_s
        self.lock = threading.Lock()
        self.sessions: dict[tuple[str, str], float] = {}  # (authorization, csrf) -> expiry (epoch seconds)
        self.faults: deque[tuple[int, str]] = deque()
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status answered)
        self.rejected_handshakes = 0


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"
    server_version = "customs-portal-standin"

    def log_message(self, format: str, *args) -> None:  # quiet: tests read `requests`
        pass

    def do_POST(self) -> None:
        self._answer("POST")

    def do_GET(self) -> None:
        self._answer("GET")

    def _answer(self, method: str) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        status, headers, body = self._route(method, state)
        with state.lock:
            state.requests.append((method, self.path, status))
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", "Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _route(self, method: str, state: _State) -> tuple[int, dict[str, str], bytes]:
        if method == "POST" and self.path == AUTH_PATH:
            if not self.headers.get("Role-Type"):
                return _error(400, "Role-Type header missing")
            token, csrf = f"Bearer {secrets.token_urlsafe(24)}", secrets.token_urlsafe(24)
            expires = time.time() + state.token_ttl_s
            with state.lock:
                state.sessions[(token, csrf)] = expires
            headers = {"Set-Token": token, "X-CSRF-Token": csrf, "X-CSRF-Expiration": str(int(expires * 1000))}
            return 200, headers, b""
        match = DUIMP_PATH.match(self.path)
        if method != "GET" or match is None:
            return _error(404, f"no such service: {method} {self.path}")
        with state.lock:
            expires = state.sessions.get((self.headers.get("Authorization", ""), self.headers.get("X-CSRF-Token", "")))
            fault = state.faults.popleft() if state.faults else None
        if expires is None or expires <= time.time():
            return _error(401, "Token expirado ou inválido")
        if fault is not None:
            status, retry_after = fault
            return _error(status, "serviço indisponível", {"Retry-After": retry_after})
        body = state.declarations.get(match["numero"])
        if body is None:
            return _error(404, f"Duimp {match['numero']} não encontrada")
        return 200, {}, body


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    return status, headers or {}, json.dumps({"code": str(status), "message": message}).encode("utf-8")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: _State, context: ssl.SSLContext):
        self.state, self.context = state, context
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: socket.socket, client_address) -> None:
        """The TLS handshake, in the connection's own thread: no client certificate of the test CA, no request."""
        request.settimeout(10)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            with self.state.lock:
                self.state.rejected_handshakes += 1
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()


class CustomsPortal:
    """Start with `start()` (or as a context manager); `base_url`, `certs` and the fault helpers while it runs."""

    def __init__(self, declarations: dict[str, bytes], token_ttl_s: float = 3600.0):
        self.state = _State(dict(declarations), token_ttl_s)
        self.certs: pki.SandboxCerts | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._dir: str | None = None

    @classmethod
    def from_company(cls, company, **kwargs) -> "CustomsPortal":
        """The demo company's DUIMPs, keyed by their 15-character number, as the generator renders them."""
        from sandboxes.demo_company.writers import customs_declaration_files

        files = customs_declaration_files(company)
        return cls({name[6:-5]: data for name, data in files.items() if name.startswith("DUIMP_")}, **kwargs)

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the stand-in is not running"
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "CustomsPortal":
        self._dir = make_private_dir(TEMP_PREFIX)
        self.certs = pki.generate(Path(self._dir))
        self._server = _Server(self.state, server_context(self.certs))
        self._thread = threading.Thread(target=self._server.serve_forever, name="customs-portal", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None
        if self._dir:
            remove_private_dir(self._dir)
            self._dir = None

    def __enter__(self) -> "CustomsPortal":
        return self.start()

    def __exit__(self, *_) -> None:
        self.stop()

    def fail_next(self, status: int, retry_after: str = "1", times: int = 1) -> None:
        """The next `times` DUIMP consultations answer `status` (429 or 503) with this `Retry-After`."""
        with self.state.lock:
            self.state.faults.extend([(status, retry_after)] * times)

    def expire_sessions(self) -> None:
        with self.state.lock:
            self.state.sessions = {key: 0.0 for key in self.state.sessions}

    def requests(self) -> list[tuple[str, str, int]]:
        with self.state.lock:
            return list(self.state.requests)
