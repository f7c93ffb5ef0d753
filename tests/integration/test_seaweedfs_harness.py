"""The SeaweedFS helper itself: it starts on free ports with the fixed keys, and leaves no process behind."""

import os
import time

import pytest
from minio import Minio

from tests.servers.seaweedfs import seaweedfs_s3

pytestmark = pytest.mark.integration


def test_start_use_stop_leaves_no_process(tmp_path):
    started = time.monotonic()
    with seaweedfs_s3(tmp_path, bucket="harness") as server:
        startup = time.monotonic() - started
        client = Minio(server.host_port, server.access_key, server.secret_key, secure=False)
        assert client.bucket_exists("harness")
        leader = _weed_pid(tmp_path)
    assert startup < 30
    with pytest.raises(ProcessLookupError):
        os.killpg(leader, 0)


def _weed_pid(workdir) -> int:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    cmdline = handle.read().split(b"\0")
            except OSError:
                continue
            if b"mini" in cmdline and any(str(workdir).encode() in part for part in cmdline):
                return int(entry)
    raise AssertionError("weed mini is not running")
