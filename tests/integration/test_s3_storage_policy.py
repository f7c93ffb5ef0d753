"""CLICKHOUSE_STORAGE_POLICY on a real S3 (SeaweedFS on 127.0.0.1): raw and marts MergeTree parts live on S3.

Each step is its own process (chDB hosts one engine per process; a new process is a restart of the engine):
the raw loader creates and loads a table on the policy, a second load adds parts, OPTIMIZE FINAL merges them,
the rows are read back; a new process reads them again; dbt builds a mart (marts) on the policy; a last process
reads all of them. Nothing under the data folder, nor the engine's config file, holds the secret.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from minio import Minio

from tests.dbt.dbt_harness import dbt_env, run_dbt

pytestmark = pytest.mark.integration
HERE = Path(__file__).resolve().parent
POLICY = "importau_s3"
PREFIX = "warehouse-disk"


def _env(data_dir: Path, seaweedfs) -> dict:
    env = dbt_env(data_dir)
    env.update(
        CLICKHOUSE_STORAGE_POLICY=POLICY,
        CLICKHOUSE_S3_DISK_URL=f"s3://{seaweedfs.bucket}/{PREFIX}",
        S3_ENDPOINT_URL=seaweedfs.endpoint,
        S3_ACCESS_KEY_ID=seaweedfs.access_key,
        S3_SECRET_ACCESS_KEY=seaweedfs.secret_key,
        S3_REGION=seaweedfs.region,
    )
    return env


def _worker(env: dict, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(HERE / "s3_storage_worker.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_tables_on_the_s3_policy_survive_merges_and_restarts(tmp_path, seaweedfs, monkeypatch):
    env = _env(tmp_path, seaweedfs)
    loaded = _worker(env, "load", str(tmp_path))
    assert loaded["first_load_rows"] == 200
    before, after = loaded["before_merge"], loaded["after_merge"]
    assert before["disk_types"][POLICY] == "ObjectStorage"
    assert {disk for _, disk in before["parts"]} == {POLICY}
    assert len(before["parts"]) > len(after["parts"]) == 2  # February's parts merged into one; one per month
    assert {disk for _, disk in after["parts"]} == {POLICY}
    assert after["checksum"] == before["checksum"]
    assert after["checksum"][0] == 100 + 160 + 80  # January, corrected February, its day-3 rows inserted again

    objects = Minio(seaweedfs.host_port, seaweedfs.access_key, seaweedfs.secret_key, secure=False)
    stored = list(objects.list_objects(seaweedfs.bucket, prefix=f"{PREFIX}/", recursive=True))
    assert stored, "no object under the disk's prefix: the parts are not on S3"

    restarted = _worker(env, "read", str(tmp_path))["read"]
    assert restarted["checksum"] == after["checksum"]
    assert restarted["parts"] == after["parts"]

    # dbt: the mart is on the policy; the seeds (reference CSVs in raw) and staging/intermediate stay local.
    monkeypatch.setattr("tests.dbt.dbt_harness.dbt_env", lambda data_dir: env)
    built = run_dbt(tmp_path, "build", "--select", "+dim_calendar", "--exclude", "resource_type:test")
    assert built.returncode == 0, built.output[-4000:]
    final = _worker(env, "read", str(tmp_path), "raw.br_holidays_anbima_b3", "marts.dim_calendar")
    assert final["read"]["checksum"] == after["checksum"]
    assert final["marts.dim_calendar"]["checksum"][0] > 0
    assert {disk for _, disk in final["marts.dim_calendar"]["parts"]} == {POLICY}
    assert {disk for _, disk in final["raw.br_holidays_anbima_b3"]["parts"]} == {"default"}

    secret = seaweedfs.secret_key.encode()
    holding = [str(path) for path in tmp_path.rglob("*") if path.is_file() and secret in path.read_bytes()]
    assert holding == []
    config = Path(f"{tmp_path / 'warehouse'}.storage.xml")
    assert 'from_env="S3_SECRET_ACCESS_KEY"' in config.read_text()
    assert config.stat().st_mode & 0o077 == 0


def test_the_documented_server_policy_keeps_raw_parts_on_s3(tmp_path, seaweedfs):
    """docs/clickhouse/importau_s3_storage.xml as the engine's config (its endpoint pointed at the test's S3): the
    policy the README tells operators to install starts, and the raw loader's parts land on it."""
    env = dbt_env(tmp_path)
    env.update(
        IMPORTAU_WAREHOUSE_S3_ACCESS_KEY_ID=seaweedfs.access_key,
        IMPORTAU_WAREHOUSE_S3_SECRET_ACCESS_KEY=seaweedfs.secret_key,
    )
    documented = (HERE.parents[1] / "docs" / "clickhouse" / "importau_s3_storage.xml").read_text()
    endpoint = "https://minio.example.com:9000/importau-warehouse/tables/server-1/"
    assert endpoint in documented
    config = tmp_path / "server.xml"
    config.write_text(documented.replace(endpoint, f"{seaweedfs.endpoint}/{seaweedfs.bucket}/documented/"))
    found = _worker(env, "documented-config", str(tmp_path), str(config))
    assert found["checksum"][0] == 60
    assert {disk for _, disk in found["parts"]} == {"importau_s3_cache"}
    assert found["disk_types"]["importau_s3_objects"] == "ObjectStorage"
    objects = Minio(seaweedfs.host_port, seaweedfs.access_key, seaweedfs.secret_key, secure=False)
    assert list(objects.list_objects(seaweedfs.bucket, prefix="documented/", recursive=True))
