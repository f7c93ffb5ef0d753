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
an error; `revoke_tokens()` invalidates issued tokens (as if they expired). The server is the stand-ins' one base
(`sandboxes/common/http_server.py`), the injected errors their one fault plan (`sandboxes/common/faults.py`).
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from sandboxes.common.faults import FaultPlan
from sandboxes.common.http_server import LocalServer, Request, Response

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


@dataclass(eq=False)
class FakeAirbyte(LocalServer):
    """`with FakeAirbyte(connections={"conn-id": ["running", "succeeded"]}) as airbyte: airbyte.url`."""

    connections: dict[str, list[str]] = field(default_factory=dict)
    clients: dict[str, str] = field(default_factory=dict)  # client_id -> client_secret
    bearer_tokens: set[str] = field(default_factory=set)
    token_lifetime: int = 180
    first_status: str = "running"

    def __post_init__(self):
        super().__init__(name="fake-airbyte")
        self.requests: list[SeenRequest] = []
        self.jobs: dict[int, _Job] = {}
        self.issued_tokens: list[str] = []
        self._valid_tokens: set[str] = set()
        self.faults = FaultPlan()  # kinds are HTTP statuses; a fault's `match` is a substring of the path
        self._next_job = 1000
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"{self.base_url}{BASE_PATH}"

    # -- control ----------------------------------------------------------------------------------------------------

    def fail(self, status: int, count: int = 1, path_prefix: str = "") -> None:
        """Answer the next `count` calls whose path contains `path_prefix` (all start with /v1) with `status`."""
        self.faults.inject(str(status), count, path_prefix or None)

    def revoke_tokens(self) -> None:
        with self._lock:
            self._valid_tokens.clear()

    def calls(self, method: str | None = None, path_prefix: str = "") -> list[SeenRequest]:
        return [r for r in self.requests if (method is None or r.method == method) and r.path.startswith(path_prefix)]

    # -- request handling (called from the handler thread) ----------------------------------------------------------

    def handle(self, request: Request) -> Response:
        raw, content_type = request.body, request.headers.get("content-type", "")
        body: Any = None
        if raw:
            if "json" in content_type:
                body = json.loads(raw)
            elif "x-www-form-urlencoded" in content_type:
                body = dict(parse_qsl(raw.decode()))
            else:
                body = raw.decode(errors="replace")
        status, answer = self.answer(request.method, request.path, request.headers, body)
        content_type = "application/json" if status < 400 else "application/problem+json"
        return Response(status, json.dumps(answer).encode(), content_type)

    def answer(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict]:
        with self._lock:
            self.requests.append(SeenRequest(method, path, headers, body))
        fault = self.faults.take(path)
        if fault is not None:
            return int(fault.kind), _problem(int(fault.kind), "injected fault")
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
