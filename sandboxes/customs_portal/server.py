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
import threading
import time
from pathlib import Path

from ingestion.common.private_temp import make_private_dir, remove_private_dir
from sandboxes.common.faults import Fault, FaultPlan
from sandboxes.common.http_server import LocalServer, Request, Response, server_tls_context
from sandboxes.open_finance_bank import certs as pki

AUTH_PATH = "/portal/api/autenticar"
DUIMP_PATH = re.compile(r"^/duimp/api/ext/sefaz/duimp/(?P<numero>[0-9A-Z]+)$")
TEMP_PREFIX = "customs-portal-standin-"
FAULT_KINDS = ("429", "503")
IDLE_TIMEOUT_S = 30.0  # a connection that sends nothing for this long is closed


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps({"code": str(status), "message": message}).encode("utf-8")
    return Response(status, body, headers=headers or {})


class CustomsPortal(LocalServer):
    """Start with `start()` (or as a context manager); `base_url`, `certs` and the fault helpers while it runs."""

    def __init__(self, declarations: dict[str, bytes], token_ttl_s: float = 3600.0):
        super().__init__(name="customs-portal", idle_timeout=IDLE_TIMEOUT_S)
        self.declarations, self.token_ttl_s = dict(declarations), token_ttl_s
        self.lock = threading.Lock()
        self.sessions: dict[tuple[str, str], float] = {}  # (authorization, csrf) -> expiry (epoch seconds)
        self.faults = FaultPlan(FAULT_KINDS, scope="/duimp/")  # only the DUIMP consultations misbehave
        self._requests: list[tuple[str, str, int]] = []  # (method, path, status answered)
        self.rejected_handshakes = 0
        self.certs: pki.SandboxCerts | None = None
        self._dir: str | None = None

    @classmethod
    def from_company(cls, company, **kwargs) -> "CustomsPortal":
        """The demo company's DUIMPs, keyed by their 15-character number, as the generator renders them."""
        from sandboxes.demo_company.writers import customs_declaration_files

        files = customs_declaration_files(company)
        return cls({name[6:-5]: data for name, data in files.items() if name.startswith("DUIMP_")}, **kwargs)

    # -- life cycle: the PKI lives as long as the server --------------------------------------------------

    def start(self) -> "CustomsPortal":
        self._dir = make_private_dir(TEMP_PREFIX)
        self.certs = pki.generate(Path(self._dir))
        self.tls = server_tls_context(self.certs.server_cert, self.certs.server_key, client_ca=self.certs.ca_cert)
        return super().start()

    def stop(self) -> None:
        super().stop()
        if self._dir:
            remove_private_dir(self._dir)
            self._dir = None

    def handshake_refused(self, client_address, error: Exception) -> None:
        with self.lock:
            self.rejected_handshakes += 1

    # -- the API ------------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        answer = self._route(request)
        with self.lock:
            self._requests.append((request.method, request.target, answer.status))
        return answer

    def _route(self, request: Request) -> Response:
        if request.method == "POST" and request.path == AUTH_PATH:
            if not request.headers.get("role-type"):
                return _error(400, "Role-Type header missing")
            token, csrf = f"Bearer {secrets.token_urlsafe(24)}", secrets.token_urlsafe(24)
            expires = time.time() + self.token_ttl_s
            with self.lock:
                self.sessions[(token, csrf)] = expires
            headers = {"Set-Token": token, "X-CSRF-Token": csrf, "X-CSRF-Expiration": str(int(expires * 1000))}
            return Response(200, b"", headers=headers)
        match = DUIMP_PATH.match(request.path)
        if request.method != "GET" or match is None:
            return _error(404, f"no such service: {request.method} {request.target}")
        with self.lock:
            session = (request.headers.get("authorization", ""), request.headers.get("x-csrf-token", ""))
            expires = self.sessions.get(session)
        if expires is None or expires <= time.time():
            return _error(401, "Token expirado ou inválido")
        fault = self.faults.take(request.target)  # only a request with a live session meets a queued fault
        if fault is not None:
            return _error(int(fault.kind), "serviço indisponível", {"Retry-After": str(fault.retry_after)})
        body = self.declarations.get(match["numero"])
        if body is None:
            return _error(404, f"Duimp {match['numero']} não encontrada")
        return Response(200, body)

    # -- what the tests drive -----------------------------------------------------------------------------

    def fail_next(self, status: int, retry_after: str = "1", times: int = 1) -> None:
        """The next `times` DUIMP consultations answer `status` (429 or 503) with this `Retry-After`."""
        self.faults.add(Fault(str(status), count=times, retry_after=retry_after))

    def expire_sessions(self) -> None:
        with self.lock:
            self.sessions = {key: 0.0 for key in self.sessions}

    def requests(self) -> list[tuple[str, str, int]]:
        with self.lock:
            return list(self._requests)
