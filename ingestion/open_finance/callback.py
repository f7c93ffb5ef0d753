"""The one-shot local listener that receives the bank's redirect at the end of the consent journey.

The redirect URI is a loopback address (`http://127.0.0.1:<port>/<path>`, or https with a certificate the browser
trusts). FAPI 1 Advanced's `response_type=code id_token` returns its parameters in the URL *fragment*, which a
browser never sends to a server: the listener answers the bare callback with a tiny page whose script posts the
fragment back (`POST <path>`, form-encoded), the usual relay of native OAuth clients. A redirect that carries its
parameters in the query (an error from a bank that uses the query, `response_mode=query`) is taken as it is.

The first request that carries `code`, `error` or `state` ends the wait; nothing is logged (the code is a secret);
`wait(timeout)` is bounded and raises `CallbackTimeout`. Other paths answer 404. Each connection has its own
thread, and over https its TLS handshake runs there too (bounded by `HANDSHAKE_TIMEOUT_S`), so a client that
connects and stays silent blocks nobody else.
"""

import ipaddress
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit, urlunsplit

LOOPBACK_NAMES = {"localhost"}
HANDSHAKE_TIMEOUT_S = 10.0  # a client that opens an https connection and never completes the TLS handshake
_KEYS = {"code", "error", "state", "id_token"}

RELAY_PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>Importau: Open Finance</title></head>
<body><p id="m">Finishing the connection...</p>
<script>
var body = window.location.hash.substring(1);
var m = document.getElementById("m");
if (!body) { m.textContent = "The bank returned no parameters. Go back to the terminal."; }
else {
  fetch(window.location.pathname, {method: "POST", body: body,
        headers: {"Content-Type": "application/x-www-form-urlencoded"}})
    .then(function () { m.textContent = "Done: you may close this window and go back to the terminal."; })
    .catch(function () { m.textContent = "Could not reach the terminal's listener."; });
  history.replaceState(null, "", window.location.pathname);
}
</script></body></html>
"""
DONE_PAGE = (
    b"<!doctype html><html><body><p>Done: you may close this window and go back to the terminal.</p></body></html>"
)


class CallbackError(RuntimeError):
    """The listener could not start (address taken, not a loopback redirect URI)."""


class CallbackTimeout(TimeoutError):
    """No callback arrived within the bound."""


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"
    timeout = 10

    def log_message(self, format: str, *args) -> None:  # the query holds the code: never logged
        return

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != self.server.callback_path:
            return self._send(404, b"not found", "text/plain")
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        if _KEYS & set(params):
            self.server.deliver(params)
            return self._send(200, DONE_PAGE)
        return self._send(200, RELAY_PAGE)

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        length = min(int(self.headers.get("Content-Length") or 0), 64 * 1024)
        body = self.rfile.read(length) if length else b""
        if parts.path != self.server.callback_path:
            return self._send(404, b"not found", "text/plain")
        params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if not _KEYS & set(params):
            return self._send(400, b"no callback parameters", "text/plain")
        self.server.deliver(params)
        return self._send(200, DONE_PAGE)

    def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a browser's idle keep-alive connection (or its favicon request) blocks nobody

    def __init__(self, address, callback_path: str, context: ssl.SSLContext | None):
        self.callback_path, self.context = callback_path, context
        self.result: dict[str, str] | None = None
        self.arrived = threading.Event()
        self._lock = threading.Lock()
        super().__init__(address, _Handler)

    def get_request(self):
        """Accept only: no TLS byte is read here, in the one thread that accepts every connection, or a client that
        connects and never speaks would hold up the others (the bank's redirect among them)."""
        sock, address = super().get_request()
        if self.context is not None:
            sock = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def finish_request(self, request, client_address) -> None:
        """In the connection's own thread: the TLS handshake, bounded by HANDSHAKE_TIMEOUT_S, then the request.
        A failed or timed-out handshake ends this connection only (`handle_error`)."""
        if self.context is not None:
            request.settimeout(HANDSHAKE_TIMEOUT_S)
            request.do_handshake()
        super().finish_request(request, client_address)

    def deliver(self, params: dict[str, str]) -> None:
        with self._lock:
            if self.result is None:  # one-shot: the first callback wins
                self.result = params
                self.arrived.set()

    def handle_error(self, request, client_address) -> None:  # a bad handshake or a reset: keep listening
        return


class CallbackListener:
    """Listen on the redirect URI's loopback address until one callback arrives (or the wait times out).

    with CallbackListener("http://127.0.0.1:0/callback") as listener:   # port 0: any free port
        url = listener.redirect_uri                                      # the real port
        params = listener.wait(300)
    """

    def __init__(self, redirect_uri: str, ssl_context: ssl.SSLContext | None = None):
        parts = urlsplit(redirect_uri)
        if parts.scheme not in ("http", "https") or not parts.hostname or not is_loopback(parts.hostname):
            raise CallbackError(
                f"redirect URI {redirect_uri} is not a loopback http(s) URL (http://127.0.0.1:<port>/<path>): "
                "the callback is received on this machine"
            )
        if parts.scheme == "https" and ssl_context is None:
            raise CallbackError(
                f"redirect URI {redirect_uri} is https: set OPEN_FINANCE_CALLBACK_CERT_PATH and "
                "OPEN_FINANCE_CALLBACK_KEY_PATH to a certificate for it that the browser trusts"
            )
        self._parts = parts
        self._context = ssl_context if parts.scheme == "https" else None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def redirect_uri(self) -> str:
        if self._server is None:
            return urlunsplit(self._parts)
        host = self._parts.hostname or "127.0.0.1"
        netloc = f"[{host}]" if ":" in host else host
        port = self._server.server_address[1]
        return urlunsplit((self._parts.scheme, f"{netloc}:{port}", self._parts.path or "/", "", ""))

    def start(self) -> "CallbackListener":
        host = self._parts.hostname or "127.0.0.1"
        address = ("127.0.0.1" if host == "localhost" else host, self._parts.port or 0)
        try:
            self._server = _Server(address, self._parts.path or "/", self._context)
        except OSError as error:
            raise CallbackError(
                f"cannot listen on {address[0]}:{address[1]} for the redirect URI {urlunsplit(self._parts)}: "
                f"{error.strerror or error}"
            ) from None
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.2,), daemon=True)
        self._thread.name = "open-finance-callback"
        self._thread.start()
        return self

    def wait(self, timeout: float) -> dict[str, str]:
        """The callback's parameters; `CallbackTimeout` when none arrived within `timeout` seconds."""
        assert self._server is not None, "start the listener first"
        if not self._server.arrived.wait(timeout):
            raise CallbackTimeout(f"no callback reached {self.redirect_uri} within {timeout:g} s")
        return dict(self._server.result or {})

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> "CallbackListener":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()
