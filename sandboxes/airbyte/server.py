"""A local stand-in for the Airbyte API (the endpoints `AirbyteSync` calls), for tests and demos.

Plain stdlib HTTP on 127.0.0.1, random port, base path `/v1` like https://api.airbyte.com/v1:

* `POST /v1/applications/token` (form or JSON `client_id`, `client_secret`, `grant_type=client_credentials`)
  → `{"access_token", "token_type": "Bearer", "expires_in"}`; unknown credentials → 401.
* `POST /v1/jobs` `{"connectionId", "jobType"}` → 200 `JobResponse` (`jobId`, `status`, `jobType`, `startTime`,
  `connectionId`, `lastUpdatedAt`, `duration`, `bytesSynced`, `rowsSynced`); unknown connection → 404, a job
  already running for the connection → 409.
* `GET /v1/jobs/{jobId}` → `JobResponse`, its status advancing one step of the connection's script per read
  (the last step repeats: `["running"]` never finishes).
* `DELETE /v1/jobs/{jobId}` → the job, now `cancelled`.

Errors are problem+json bodies (`type`, `title`, `status`, `detail`) as the Airbyte API sends them. Every call
without a valid `Authorization: Bearer` (an issued token or one of `bearer_tokens`) gets 401. `requests` logs
every call (method, path, headers, parsed body); `fail(status, count, path_prefix)` answers the next calls with
an error; `revoke_tokens()` invalidates issued tokens (as if they expired).
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

BASE_PATH = "/v1"
TERMINAL = ("succeeded", "failed", "cancelled", "incomplete")


@dataclass
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON / form dict, or None


@dataclass
class _Job:
    job_id: int
    connection_id: str
    job_type: str
    steps: list[str]
    started: str
    reads: int = 0
    status: str = "pending"

    def response(self) -> dict:
        body = {
            "jobId": self.job_id,
            "status": self.status,
            "jobType": self.job_type,
            "startTime": self.started,
            "connectionId": self.connection_id,
            "lastUpdatedAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration": f"PT{self.reads}S",
        }
        if self.status == "succeeded":
            body.update(bytesSynced=4096, rowsSynced=42)
        return body


@dataclass
class FakeAirbyte:
    """`with FakeAirbyte(connections={"conn-id": ["running", "succeeded"]}) as airbyte: airbyte.url`."""

    connections: dict[str, list[str]] = field(default_factory=dict)
    clients: dict[str, str] = field(default_factory=dict)  # client_id -> client_secret
    bearer_tokens: set[str] = field(default_factory=set)
    token_lifetime: int = 180
    first_status: str = "running"

    def __post_init__(self):
        self.requests: list[SeenRequest] = []
        self.jobs: dict[int, _Job] = {}
        self.issued_tokens: list[str] = []
        self._valid_tokens: set[str] = set()
        self._faults: list[tuple[int, str]] = []
        self._next_job = 1000
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------------------------

    def start(self) -> FakeAirbyte:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-airbyte", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> FakeAirbyte:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{BASE_PATH}"

    # -- control ----------------------------------------------------------------------------------------------------

    def fail(self, status: int, count: int = 1, path_prefix: str = "") -> None:
        """Answer the next `count` calls whose path starts with `path_prefix` with `status`."""
        with self._lock:
            self._faults.extend([(status, path_prefix)] * count)

    def revoke_tokens(self) -> None:
        with self._lock:
            self._valid_tokens.clear()

    def calls(self, method: str | None = None, path_prefix: str = "") -> list[SeenRequest]:
        return [r for r in self.requests if (method is None or r.method == method) and r.path.startswith(path_prefix)]

    # -- request handling (called from the handler thread) ----------------------------------------------------------

    def _take_fault(self, path: str) -> int | None:
        with self._lock:
            for index, (status, prefix) in enumerate(self._faults):
                if path.startswith(prefix):
                    del self._faults[index]
                    return status
        return None

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict]:
        with self._lock:
            self.requests.append(SeenRequest(method, path, headers, body))
        fault = self._take_fault(path)
        if fault is not None:
            return fault, _problem(fault, "injected fault")
        if not path.startswith(BASE_PATH + "/"):
            return 404, _problem(404, f"no route {path}")
        route = path[len(BASE_PATH) :]
        if route == "/applications/token" and method == "POST":
            return self._token(body)
        if not self._authorised(headers.get("authorization", "")):
            return 401, _problem(401, "Invalid or expired credentials")
        if route == "/jobs" and method == "POST":
            return self._create(body)
        if route.startswith("/jobs/"):
            try:
                job_id = int(route.split("/")[2])
            except ValueError:
                return 400, _problem(400, "jobId must be an integer")
            with self._lock:
                job = self.jobs.get(job_id)
                if job is None:
                    return 404, _problem(404, f"Could not find job with id: {job_id}")
                if method == "GET":
                    if job.status not in TERMINAL:
                        job.status = job.steps[min(job.reads, len(job.steps) - 1)]
                        job.reads += 1
                    return 200, job.response()
                if method == "DELETE":
                    if job.status not in TERMINAL:
                        job.status = "cancelled"
                    return 200, job.response()
        return 404, _problem(404, f"no route {method} {path}")

    def _authorised(self, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        with self._lock:
            return scheme.lower() == "bearer" and (token in self._valid_tokens or token in self.bearer_tokens)

    def _token(self, body: Any) -> tuple[int, dict]:
        body = body if isinstance(body, dict) else {}
        client_id, secret = body.get("client_id"), body.get("client_secret")
        if body.get("grant_type", "client_credentials") != "client_credentials":
            return 400, _problem(400, "unsupported grant_type")
        if not client_id or self.clients.get(client_id) != secret:
            return 401, _problem(401, "Invalid client credentials")
        token = "tok-" + secrets.token_urlsafe(16)
        with self._lock:
            self.issued_tokens.append(token)
            self._valid_tokens.add(token)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime}

    def _create(self, body: Any) -> tuple[int, dict]:
        if not isinstance(body, dict) or not body.get("connectionId") or not body.get("jobType"):
            return 400, _problem(400, "connectionId and jobType are required")
        connection_id = body["connectionId"]
        if connection_id not in self.connections:
            return 404, _problem(404, f"Could not find connection with id: {connection_id}")
        with self._lock:
            if any(j.connection_id == connection_id and j.status not in TERMINAL for j in self.jobs.values()):
                return 409, _problem(409, f"A sync is already running for: {connection_id}")
            self._next_job += 1
            job = _Job(
                job_id=self._next_job,
                connection_id=connection_id,
                job_type=body["jobType"],
                steps=list(self.connections[connection_id]) or ["running"],
                started=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                status=self.first_status,
            )
            self.jobs[job.job_id] = job
            return 200, job.response()


def _problem(status: int, detail: str) -> dict:
    titles = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 409: "conflict"}
    return {
        "type": "https://reference.airbyte.com/reference/errors",
        "title": titles.get(status, "server-error"),
        "status": status,
        "detail": detail,
    }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeAirbyte
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        content_type = self.headers.get("content-type", "")
        body: Any = None
        if raw:
            if "json" in content_type:
                body = json.loads(raw)
            elif "x-www-form-urlencoded" in content_type:
                body = dict(parse_qsl(raw.decode()))
            else:
                body = raw.decode(errors="replace")
        headers = {key.lower(): value for key, value in self.headers.items()}
        status, answer = self.fake.handle(self.command, urlsplit(self.path).path, headers, body)
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if status < 400 else "application/problem+json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = _serve

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass
