"""The stand-ins' shared server base and fault plan (`sandboxes/common/`): a free port on 127.0.0.1, a bounded stop
whatever the handlers do, a reset closes without answering, mutual TLS turns away a client without a certificate
of the right CA, and faults are consumed first-in first-out by the requests they match."""

import socket
import ssl
import threading
import time

import httpx
import pytest

from sandboxes.common.faults import Fault, FaultPlan
from sandboxes.common.http_server import LocalServer, Request, Response, server_tls_context
from sandboxes.open_finance_bank import certs as pki


class Echo(LocalServer):
    def __init__(self, **options):
        super().__init__(name="echo", **options)
        self.release = threading.Event()
        self.refused: list[Exception] = []

    def handle(self, request: Request) -> Response | None:
        if request.path == "/reset":
            return None
        if request.path == "/hang":
            self.release.wait(30)
        peer = b"client-cert" if request.peer_certificate else b""
        return Response(200, request.method.encode() + b" " + request.target.encode() + b" " + request.body + peer)

    def handshake_refused(self, client_address, error: Exception) -> None:
        self.refused.append(error)


def test_serves_on_a_free_local_port_and_answers():
    with Echo() as server:
        assert server.host == "127.0.0.1" and server.port > 0 and server.base_url.startswith("http://127.0.0.1:")
        answer = httpx.post(server.base_url + "/x?a=1", content=b"hi", timeout=5)
        assert answer.status_code == 200 and answer.content == b"POST /x?a=1 hi"
        assert answer.headers["content-type"] == "application/json"
    assert not server.running
    with pytest.raises(RuntimeError, match="echo is not running"):
        _ = server.base_url


def test_a_reset_closes_the_connection_without_an_answer():
    with Echo() as server, pytest.raises(httpx.RemoteProtocolError):
        httpx.get(server.base_url + "/reset", timeout=5)


def test_stop_is_bounded_with_a_hung_handler_and_an_idle_keep_alive_connection():
    server = Echo(shutdown_timeout=2.0).start()
    idle = socket.create_connection((server.host, server.port), timeout=5)
    idle.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
    received = b""
    while not received.endswith(b"GET /a "):  # headers and body may come in two reads
        received += idle.recv(1000)
    # served; the connection stays open (keep-alive)
    outcome: list[Exception] = []

    def wait_for_the_hung_handler() -> None:
        try:
            httpx.get(server.base_url + "/hang", timeout=10)
        except httpx.HTTPError as error:
            outcome.append(error)

    hung = threading.Thread(target=wait_for_the_hung_handler, daemon=True)
    hung.start()
    time.sleep(0.3)
    started = time.monotonic()
    server.stop()
    elapsed = time.monotonic() - started
    assert elapsed < server.shutdown_timeout + 1
    assert idle.recv(1000) == b""  # the idle connection was closed by the stop
    with pytest.raises(OSError):
        socket.create_connection((server.host, server.port), timeout=2)
    hung.join(5)
    assert isinstance(outcome[0], httpx.RemoteProtocolError)  # its client is told, not left waiting
    server.release.set()
    idle.close()


def client(certs, cert=None, key=None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=certs.ca_cert)
    if cert is not None:
        context.load_cert_chain(cert, key)
    return context


def test_mutual_tls_refuses_a_client_without_a_certificate_of_its_ca(tmp_path):
    certs = pki.generate(tmp_path)
    tls = server_tls_context(certs.server_cert, certs.server_key, client_ca=certs.ca_cert)
    with Echo(tls=tls) as server:
        assert server.base_url.startswith("https://")
        good = httpx.get(server.base_url + "/ok", verify=client(certs, certs.client_cert, certs.client_key))
        assert good.status_code == 200 and good.content.endswith(b"client-cert")
        for context in (client(certs), client(certs, certs.outsider_cert, certs.outsider_key)):
            with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError, ssl.SSLError)):
                httpx.get(server.base_url + "/ok", verify=context, timeout=5)
        deadline = time.monotonic() + 5
        while len(server.refused) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(server.refused) == 2


def test_fault_plan_matches_counts_down_and_refuses_unknown_kinds():
    plan = FaultPlan({"429", "slow"}, scope="/api/")
    plan.add(Fault("429", count=2, match="/balances"))
    plan.add(Fault("slow", seconds=1.5))
    assert plan.take("/other/balances") == Fault("429", 1, "/balances")
    assert plan.take("/other/x") is None  # no match, outside the default scope
    assert plan.take("/api/x") == Fault("slow", 1, None, 1.5)
    assert plan.take("/api/balances") == Fault("429", 1, "/balances")
    assert plan.take("/api/balances") is None and plan.pending() == []
    with pytest.raises(ValueError, match="unknown fault kind 'teapot'"):
        plan.add(Fault("teapot"))
    with pytest.raises(ValueError, match="count >= 1"):
        Fault("429", count=0)
    anything = FaultPlan()
    anything.inject("503", count=1)
    assert anything.pending() == [{"kind": "503", "count": 1, "match": None, "seconds": 0.0, "retry_after": None}]
