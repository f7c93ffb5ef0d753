"""The one small HTTP(S) server base of the stand-ins: 127.0.0.1, a free port, one thread per connection.

    class Echo(LocalServer):
        def handle(self, request: Request) -> Answer | None:
            return Response(200, request.body, "text/plain")

    with Echo() as server:                  # start on enter, stop on exit
        httpx.post(server.base_url + "/x", content=b"hi")

- `LocalServer(host="127.0.0.1", port=0, tls=None, name=..., verbose=False, idle_timeout=None)`: a subclass
  implements `handle(request) -> Answer | None`; None closes the connection without answering (a "reset").
  `start()` binds (port 0 = a free port, read back into `.port`) and serves from a daemon thread; `stop()` stops
  accepting, closes the open connections and returns within `shutdown_timeout` whatever the handlers are doing.
  `base_url` is `http(s)://host:port`; `running` says whether it serves.
- TLS: `tls=server_tls_context(cert, key, client_ca=None)`; with `client_ca` the handshake requires a client
  certificate signed by it (mutual TLS). The handshake runs in the connection's thread (a stalled client blocks
  nobody); a refused one calls `handshake_refused(client_address, error)`. `Request.peer_certificate` is the
  client certificate's DER.
- An `Answer` is anything with `status`, `body`, `content_type` and `headers` (`Response`, or a stand-in's own
  reply class). Content-Type is left out when `content_type` is empty, or for a 204 without body.
"""

import logging
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger(__name__)
HANDSHAKE_TIMEOUT_S = 10.0


class Answer(Protocol):
    status: int
    body: bytes
    content_type: str | None
    headers: dict[str, str]


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path and query exactly as sent
    headers: dict[str, str]  # names in lower case
    body: bytes
    peer_certificate: bytes | None = None  # DER of the client certificate (mutual TLS)
    client_address: tuple = ()

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> str:
        return urlsplit(self.target).query

    def query_params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))


def server_tls_context(cert_file, key_file, client_ca=None) -> ssl.SSLContext:
    """A server context (TLS 1.2 or later); with `client_ca`, mutual TLS: no client certificate, no connection."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    if client_ca is not None:
        context.load_verify_locations(cafile=client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid the 40 ms delayed-ACK stall

    def setup(self) -> None:
        self.timeout = self.server.owner.idle_timeout
        super().setup()

    def version_string(self) -> str:
        return self.server.owner.name

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        if self.server.owner.verbose:
            super().log_message(format, *args)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        peer = self.connection.getpeercert(binary_form=True) if isinstance(self.connection, ssl.SSLSocket) else None
        request = Request(
            self.command,
            self.path,
            {name.lower(): value for name, value in self.headers.items()},
            body,
            peer,
            self.client_address,
        )
        answer = self.server.owner.handle(request)
        if answer is None:  # a reset: close without answering
            self.close_connection = True
            return
        self.send_response(answer.status)
        if answer.content_type and (answer.body or answer.status != 204):
            self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):  # the client gave up (e.g. a timeout test)
            self.close_connection = True

    do_GET = do_POST = do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: "LocalServer"):
        self.owner = owner
        super().__init__((owner.host, owner.port), _Handler)

    def finish_request(self, request: socket.socket, client_address) -> None:
        owner = self.owner
        connection = request
        if owner.tls is not None:
            request.settimeout(HANDSHAKE_TIMEOUT_S)
            try:
                connection = owner.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as error:
                owner.handshake_refused(client_address, error)
                return
            connection.settimeout(owner.idle_timeout)
        owner._track(connection, True)
        try:
            self.RequestHandlerClass(connection, client_address, self)
        finally:
            owner._track(connection, False)
            if connection is not request:
                try:
                    connection.close()
                except OSError:
                    pass

    def handle_error(self, request, client_address) -> None:
        if self.owner.verbose:
            super().handle_error(request, client_address)


class LocalServer:
    """Base of the stand-ins' servers; a context manager (start on enter, stop on exit)."""

    poll_interval = 0.05  # how soon stop() is noticed by the accepting loop

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        name: str = "local-server",
        verbose: bool = False,
        idle_timeout: float | None = None,
        shutdown_timeout: float = 5.0,
    ):
        self.host, self.port, self.tls, self.name = host, port, tls, name
        self.verbose, self.idle_timeout, self.shutdown_timeout = verbose, idle_timeout, shutdown_timeout
        self._http: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    # -- what a subclass provides ------------------------------------------------------------------------

    def handle(self, request: Request) -> Answer | None:
        raise NotImplementedError

    def handshake_refused(self, client_address, error: Exception) -> None:
        log.debug("%s: TLS handshake refused from %s: %s", self.name, client_address, error)

    # -- life cycle --------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._http is not None

    def start(self):
        if self._http is not None:
            raise RuntimeError(f"{self.name} is already running")
        self._http = _Server(self)
        self.port = self._http.server_address[1]
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": self.poll_interval}, name=self.name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close every open connection, and return within `shutdown_timeout`."""
        http, thread = self._http, self._thread
        if http is None:
            return
        self._http = self._thread = None
        deadline = time.monotonic() + self.shutdown_timeout
        http.shutdown()  # the accepting loop notices within poll_interval
        http.server_close()
        with self._connections_lock:
            open_connections = list(self._connections)
        for connection in open_connections:  # idle keep-alive readers wake up and end
            try:
                socket.socket.shutdown(connection, socket.SHUT_RDWR)
            except OSError:
                pass
        if thread is not None:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- where it listens --------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._http is None:
            raise RuntimeError(f"{self.name} is not running")
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def _track(self, connection: socket.socket, opened: bool) -> None:
        with self._connections_lock:
            if opened:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)
