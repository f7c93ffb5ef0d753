"""A throwaway Prometheus (the Debian package `prometheus`, 2.42) on 127.0.0.1 that scrapes given targets.

It gets its own config, TSDB folder and a free port under the test's folder, never the packaged service's
(/etc/prometheus, port 9090), scrapes every second, runs in its own process group, and gets SIGTERM if the test
process dies first (PR_SET_PDEATHSIG), so no server outlives its test run. `.ci/services.sh` installs the package.
"""

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.servers.seaweedfs import _die_with_parent, stop_process_group

JOB = "importau"


@dataclass(frozen=True)
class PrometheusServer:
    url: str  # http://127.0.0.1:<port>
    pid: int

    def api(self, path: str, **params) -> dict:
        response = httpx.get(f"{self.url}/api/v1/{path}", params=params, timeout=5.0)
        response.raise_for_status()
        body = response.json()
        assert body["status"] == "success", body
        return body["data"]

    def targets(self) -> list[dict]:
        return self.api("targets", state="active")["activeTargets"]

    def wait_until_up(self, timeout: float = 30.0) -> list[dict]:
        """Every target scraped at least once and healthy (bounded by `timeout`)."""
        deadline = time.monotonic() + timeout
        while True:
            targets = self.targets()
            if targets and all(target["health"] == "up" for target in targets):
                return targets
            if time.monotonic() > deadline:
                raise TimeoutError(f"Prometheus targets not up after {timeout} s: {targets}")
            time.sleep(0.2)

    def query(self, promql: str, timeout: float = 15.0) -> dict[tuple, float]:
        """An instant query's samples as {sorted labels (without __name__, job, instance): value}; waits (bounded)
        until it returns something, since a target may be up before its samples are queryable."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.api("query", query=promql)["result"]
            if result or time.monotonic() > deadline:
                return {
                    tuple(sorted((k, v) for k, v in s["metric"].items() if k not in ("__name__", "job", "instance"))): (
                        float(s["value"][1])
                    )
                    for s in result
                }
            time.sleep(0.2)


def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if not found:
        raise RuntimeError("no `prometheus` binary: install the Debian package (bash .ci/services.sh does)")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(path: Path, targets: Sequence[str]) -> None:
    quoted = ", ".join(f'"{target}"' for target in targets)
    path.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
        f"scrape_configs:\n  - job_name: {JOB}\n    static_configs:\n      - targets: [{quoted}]\n"
    )


@contextmanager
def prometheus_server(workdir: Path, targets: Sequence[str], start_timeout: float = 30.0) -> Iterator[PrometheusServer]:
    """Start Prometheus scraping `targets` (host:port) every second, wait until it is ready, yield, stop it."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    write_config(workdir / "prometheus.yml", targets)
    port = free_port()
    command = [
        prometheus_binary(),
        f"--config.file={workdir / 'prometheus.yml'}",
        f"--storage.tsdb.path={workdir / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--storage.tsdb.retention.time=1h",
        "--log.level=warn",
    ]
    log_path = workdir / "prometheus.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    server = PrometheusServer(f"http://127.0.0.1:{port}", process.pid)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                if httpx.get(f"{server.url}/-/ready", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"Prometheus did not start (exit code {process.poll()}); log {log_path}:\n{tail}")
            time.sleep(0.1)
        yield server
    finally:
        stop_process_group(process)
