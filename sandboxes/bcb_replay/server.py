"""A threaded local HTTP server that answers like the BCB APIs, from the recordings in data/bcb_replay/.

From Python (tests, the demo):

    with ReplayServer() as server:             # 127.0.0.1, a free port
        client = BcbClient(server.sgs_base_url, server.olinda_base_url, server.closing_base_url)
        server.inject("429", count=2)           # the next two requests answer 429
        server.requests                         # raw paths received so far

From a shell:

    python -m sandboxes.bcb_replay.server --data-dir data/bcb_replay
    # prints BCB_SGS_BASE_URL=..., BCB_OLINDA_BASE_URL=..., BCB_CLOSING_FILE_BASE_URL=... then serves until ^C

Control endpoints (for other processes): POST /_replay/faults {"kind": "500", "count": 3, "match": "sgs.1/"},
DELETE /_replay/faults, GET|DELETE /_replay/requests, GET /_replay/health, POST /_replay/clock {"today": "YYYY-MM-DD"}
(or null).

A "today" (`ReplayServer(today=...)`, `server.today = day`, `--today`, the clock endpoint) is a cutoff for replays
and `importau soak`: nothing dated after it is served (SGS values, PTAX quotes, closing files, Focus surveys), as
if the later days had not happened yet. None (the default) serves every recording.
"""

import argparse
import json
import signal
import sys
import threading
import time
from datetime import date
from pathlib import Path

from sandboxes.bcb_replay import faults, layout, routes
from sandboxes.bcb_replay.render import JSON, Reply
from sandboxes.bcb_replay.store import ReplayStore
from sandboxes.common.faults import Fault, FaultPlan
from sandboxes.common.http_server import LocalServer, Request

CONTROL_PREFIX = "/_replay/"


class ReplayServer(LocalServer):
    """The replay server; a context manager (start on enter, stop on exit)."""

    def __init__(
        self,
        data_dir: Path | str = layout.DEFAULT_DATA_DIR,
        host: str = "127.0.0.1",
        port: int = 0,
        delay: float = 0.0,
        verbose: bool = False,
        today: date | None = None,
    ):
        super().__init__(host, port, name="bcb-replay", verbose=verbose)
        self.store = ReplayStore(data_dir)
        self.delay = delay
        self.today = today  # serve nothing dated after this day (None: every recording)
        self.plan = FaultPlan(faults.KINDS)
        self._requests: list[str] = []
        self._lock = threading.Lock()

    def handle(self, request: Request) -> Reply | None:
        if request.method != "GET" or request.target.startswith(CONTROL_PREFIX):
            return self.control(request.method, request.target, request.body)
        self.record(request.target)
        fault = self.plan.take(request.target)
        if self.delay:
            time.sleep(self.delay)
        if fault and fault.kind == "delay":
            time.sleep(fault.seconds)
        if fault and fault.kind == "reset":
            return None
        reply = routes.answer(self.store, request.target, cutoff=self.today)
        if fault:
            reply = faults.apply(fault, reply, routes.is_olinda(request.target))
        return reply

    # -- where it listens ----------------------------------------------------------------------------------

    @property
    def sgs_base_url(self) -> str:
        return f"{self.base_url}/dados/serie"

    @property
    def olinda_base_url(self) -> str:
        return f"{self.base_url}/olinda/servico"

    @property
    def closing_base_url(self) -> str:
        return f"{self.base_url}/Download/fechamento"

    def env(self) -> dict[str, str]:
        """The environment variables that point the platform at this server."""
        return {
            "BCB_SGS_BASE_URL": self.sgs_base_url,
            "BCB_OLINDA_BASE_URL": self.olinda_base_url,
            "BCB_CLOSING_FILE_BASE_URL": self.closing_base_url,
        }

    # -- faults and the request log -------------------------------------------------------------------------

    def inject(
        self,
        kind: str,
        count: int = 1,
        match: str | None = None,
        seconds: float = 0.0,
        retry_after: int | None = None,
    ) -> None:
        """Make the next `count` requests (whose raw path contains `match`) fail as `kind` (see faults.py)."""
        self.plan.add(Fault(kind, count, match, seconds, retry_after))

    def clear_faults(self) -> None:
        self.plan.clear()

    def record(self, raw_path: str) -> None:
        with self._lock:
            self._requests.append(raw_path)

    @property
    def requests(self) -> list[str]:
        """Raw request targets (path and query, exactly as sent) received so far, control calls excluded."""
        with self._lock:
            return list(self._requests)

    def reset_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def control(self, method: str, path: str, body: bytes) -> Reply:
        def reply(status: int, payload: object) -> Reply:
            return Reply(status, JSON, json.dumps(payload).encode())

        target = path[len(CONTROL_PREFIX) :].split("?")[0].strip("/")
        if target == "health" and method == "GET":
            return reply(200, {"status": "ok"})
        if target == "requests" and method in ("GET", "DELETE"):
            if method == "DELETE":
                self.reset_requests()
            return reply(200, self.requests)
        if target == "clock" and method == "POST":
            try:
                value = json.loads(body or b"{}").get("today")
                self.today = date.fromisoformat(value) if value else None
            except (AttributeError, TypeError, ValueError) as error:
                return reply(400, {"error": str(error)})
            return reply(200, {"today": self.today.isoformat() if self.today else None})
        if target == "faults" and method == "DELETE":
            self.clear_faults()
            return reply(200, [])
        if target == "faults" and method == "POST":
            try:
                options = json.loads(body or b"{}")
                self.inject(**options)
            except (TypeError, ValueError) as error:
                return reply(400, {"error": str(error)})
            return reply(200, self.plan.pending())
        return reply(404, {"error": f"no control endpoint {method} {path}"})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the BCB replay recordings like the live APIs.")
    parser.add_argument("--data-dir", type=Path, default=layout.DEFAULT_DATA_DIR)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = a free port (default)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before every answer")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.add_argument("--today", type=date.fromisoformat, help="serve nothing dated after this day (replays)")
    args = parser.parse_args(argv)
    server = ReplayServer(args.data_dir, args.host, args.port, args.delay, args.verbose, args.today).start()
    for name, value in server.env().items():
        print(f"{name}={value}", flush=True)
    print(f"BCB replay server on {server.base_url} (data: {args.data_dir}); Ctrl-C stops it", file=sys.stderr)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
