"""No secret at rest in anything the platform writes (issue 13).

The main test runs the demo's ingestion on an S3 lake (SeaweedFS on 127.0.0.1, keys only in the environment):
the demo's own stand-ins (ERP file drops, BCB replay, the Open Finance sandbox bank over mutual TLS, with tokens)
and its three source jobs (lake on S3 -> raw on chDB) on a Dagster instance of its own, with the demo's log file,
then records one model training in the embedded MLflow store, as the ML assets do. It leaves out the demo's dbt
transform: dbt reads only the warehouse, never the lake or its keys, and took minutes here. Then it scans every
folder the run wrote (data dir: warehouse, Dagster home, logs, MLflow, ERP inbox; the temp folder; every lake object
in the bucket) for the S3 secret key, PEM private keys, bearer tokens, JWTs and DSN passwords, looking inside
Parquet, zip (MLflow's skops models) and the warehouse's compressed tables (through SQL). On the code before this
change it fails: chDB kept the key in `<warehouse>/named_collections/importau_lake_s3.sql` (mode 0644).

The others test the ClickHouse side of the lake: on chDB the keys are query parameters that never reach its
folder; a collection an earlier version persisted is dropped; a server (its SQL run on chDB 26.9 behind a client
that the lake takes for a server's) uses the operator's collection from docs/clickhouse/importau_lake_s3.xml,
creates one only on encrypted storage, and otherwise refuses, saying what to configure.
"""

import io
import json
import os
import re
import subprocess
import sys
import urllib.parse
import uuid
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestion.common.lake import SERVER_CONFIG_EXAMPLE, LakeError, S3Lake
from ingestion.common.raw_load import ensure_raw_table, replace_partitions

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
START, END = "2024-12-16", "2024-12-31"  # the sandbox bank's last day; every source has data in it
PEM_KEY = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----")
JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
BEARER = re.compile(rb"(?i)bearer[\s:=\"']+([A-Za-z0-9._~+/-]{16,}=*)")
DSN_PASSWORD = re.compile(rb"[a-z][a-z0-9+.-]*://[^\s/:@'\"<>]+:([^\s/@'\"<>]+)@")
KV_PASSWORD = re.compile(rb"(?i)\bpassword\s*=\s*([^\s&;'\"]+)")
MASKS = {b"***", b"[HIDDEN]", b"[REDACTED]", b"..."}
STRIP = ("IMPORTAU_", "DAGSTER_", "CLICKHOUSE_", "LAKE_", "S3_", "OPEN_FINANCE_", "BCB_", "ERP_", "MLFLOW_", "DEMO_")

# The demo's ingestion, as `importau demo` runs it (orchestration/commands/demo.py) minus the dbt transform, then
# one training recorded in MLflow as the ML assets record it (orchestration/defs/ml/factory.py).
DEMO_INGESTION = """
import os, sys
from orchestration.env_defaults import apply_env_defaults

apply_env_defaults()
from orchestration.commands.demo import RANGE_END_TAG, RANGE_START_TAG, run_job
from orchestration.commands.demo_services import demo_services_env
from orchestration.commands.local_instance import prepare_local_instance
from orchestration.commands.progress import new_log_file, progress_session
from orchestration.defs.jobs import SOURCE_JOBS
from orchestration.partitions import month_key

start, end = sys.argv[1], sys.argv[2]
prepare_local_instance()
with progress_session(new_log_file(os.environ["IMPORTAU_DATA_DIR"], "demo")):
    with demo_services_env() as service_env:
        os.environ.update(service_env)
        for name, _ in SOURCE_JOBS:
            success, run_id = run_job(name, {RANGE_START_TAG: month_key(start), RANGE_END_TAG: month_key(end)})
            if not success:
                sys.exit(f"{name} failed: run {run_id}")

from ml_assets.cash_flow.train import MODEL_NAME, train
from ml_assets.common import tracking
from ml_assets.common.training import record_training
from orchestration.resources.mlflow import MLflowResource
from tests.ml.synthetic import synthetic_cash_flow

store = MLflowResource(data_dir=os.environ["IMPORTAU_DATA_DIR"]).configure()
record_training(MODEL_NAME, train(synthetic_cash_flow()), store, tracking.run_tags(MODEL_NAME, run_id, None))
print("INGESTED", flush=True)
"""


# -- the scanner ---------------------------------------------------------------------------------------------


def _layers(name: str, data: bytes) -> list[tuple[str, bytes]]:
    """The bytes to search: the file itself, plus the text inside Parquet and zip (compressed otherwise)."""
    layers = [(name, data)]
    if data[:4] == b"PAR1":
        table = pq.read_table(io.BytesIO(data))
        layers.append((f"{name} (rows)", json.dumps(table.to_pylist(), default=str).encode()))
    elif data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                layers += _layers(f"{name}!{member}", archive.read(member))
    return layers


def scan_bytes(name: str, data: bytes, secrets: list[str], patterns: bool = True) -> list[str]:
    """What `data` holds: any of `secrets` (as is or URL-encoded) and, with `patterns`, a PEM private key, a JWT,
    a bearer token or an unmasked password (in a DSN or as `password=`)."""
    found = []
    for where, text in _layers(name, data):
        for secret in secrets:
            if any(form.encode() in text for form in {secret, urllib.parse.quote(secret, safe="")}):
                found.append(f"{where}: the secret {secret[:4]}...")
        if not patterns:
            continue
        for label, pattern in (("PEM private key", PEM_KEY), ("JWT", JWT)):
            if pattern.search(text):
                found.append(f"{where}: a {label}")
        for label, pattern in (("bearer token", BEARER), ("DSN password", DSN_PASSWORD), ("password=", KV_PASSWORD)):
            for match in pattern.finditer(text):
                if match.group(1) not in MASKS and match.group(1).strip(b"*"):
                    found.append(f"{where}: a {label} {match.group(0)[:60]!r}")
    return found


def scan_folders(folders: list[Path], secrets: list[str], patterns: bool = True) -> tuple[list[str], int]:
    """Every finding in every file under the folders, and how many files were read."""
    found, files = [], 0
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
            files += 1
            found += scan_bytes(str(path), path.read_bytes(), secrets, patterns)
    return found, files


def lake_objects(seaweedfs, prefix: str) -> dict[str, bytes]:
    """Every object under the prefix, with its bytes."""
    from minio import Minio

    client = Minio(seaweedfs.host_port, seaweedfs.access_key, seaweedfs.secret_key, secure=False)
    objects = {}
    for item in client.list_objects(seaweedfs.bucket, prefix=f"{prefix}/", recursive=True):
        response = client.get_object(seaweedfs.bucket, item.object_name)
        try:
            objects[item.object_name] = response.read()
        finally:
            response.close()
            response.release_conn()
    return objects


def warehouse_hits(chdb_folder: Path, secret: str) -> list[str]:
    """Tables of the warehouse holding the secret in any row (parts are compressed: the bytes would not show it)."""
    script = """
import json, sys
from ingestion.common.warehouse import open_warehouse
with open_warehouse("chdb://" + sys.argv[1], sys.argv[1], owner="secrets scan") as wh:
    tables = wh.query_rows("SELECT database, name FROM system.tables WHERE database NOT IN "
                           "('system', 'INFORMATION_SCHEMA', 'information_schema') AND NOT is_temporary "
                           "AND engine NOT LIKE '%View'")
    hits = [f"{d}.{t}" for d, t in tables if wh.query_rows(
        f"SELECT count() FROM `{d}`.`{t}` WHERE position(formatRow('TSV', *), {{s:String}}) > 0",
        parameters={"s": sys.argv[2]})[0][0]]
    print(json.dumps({"tables": len(tables), "hits": hits}))
"""
    completed = subprocess.run(
        [sys.executable, "-c", script, str(chdb_folder), secret],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["tables"] > 10, result  # the raw tables of three sources were searched
    return result["hits"]


def test_the_scanner_finds_each_kind_of_secret(tmp_path):
    """The scan below is not vacuous: each pattern, also inside zstd Parquet and a zip."""
    secret = "importau-scan-secret-Xy9"
    (tmp_path / "importau_lake_s3.sql").write_text(f"CREATE NAMED COLLECTION x AS secret_access_key = '{secret}'")
    table = pa.table({"note": ["eyJhbGciOiJQUzI1NiJ9.eyJzdWIiOiJjbGllbnQifQ.c2lnbmF0dXJlLWJ5dGVz"]})
    pq.write_table(table, tmp_path / "part-000.parquet", compression="zstd")
    with zipfile.ZipFile(tmp_path / "model.skops", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("key.pem", "-----BEGIN PRIVATE KEY-----\nMIIE...\n")
    (tmp_path / "a.log").write_text(
        "Authorization: Bearer 0123456789abcdefABCDEF\npostgresql://user:p%40ss@host/db\nhost=h password=hunter22\n"
        "masked: postgresql://user:***@host/db password=***\n"
    )
    found, files = scan_folders([tmp_path], [secret])
    assert files == 4
    text = "\n".join(found)
    for expected in (
        "importau_lake_s3.sql: the secret",
        "(rows): a JWT",
        "model.skops!key.pem: a PEM",
        "a bearer token",
    ):
        assert expected in text, text
    assert len([f for f in found if "password" in f]) == 2, text  # the masked ones are not findings


# -- the demo's ingestion on an S3 lake ----------------------------------------------------------------------


def test_a_demo_run_on_s3_leaves_no_secret_in_anything_it_wrote(tmp_path, seaweedfs):
    data_dir, temp = tmp_path / "data", tmp_path / "tmp"
    temp.mkdir()
    prefix = f"secrets-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(STRIP)}
    env.update(
        IMPORTAU_DATA_DIR=str(data_dir),
        DAGSTER_HOME=str(data_dir / "dagster_home"),
        APP_ENV="ci",
        TMPDIR=str(temp),
        PYTHONPATH=str(REPO_ROOT),
        LAKE_URL=f"s3://{seaweedfs.bucket}/{prefix}",
        S3_ENDPOINT_URL=seaweedfs.endpoint,
        S3_ACCESS_KEY_ID=seaweedfs.access_key,
        S3_SECRET_ACCESS_KEY=seaweedfs.secret_key,
    )
    completed = subprocess.run(
        [sys.executable, "-c", DEMO_INGESTION, START, END],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0 and "INGESTED" in completed.stdout, (
        completed.stdout[-3000:] + completed.stderr[-5000:]
    )
    objects = lake_objects(seaweedfs, prefix)
    for source in ("bcb", "open_finance", "erp"):
        assert any(name.startswith(f"{prefix}/{source}/") for name in objects), sorted(objects)[:20]
    wrote = {name: (data_dir / name).is_dir() for name in ("warehouse", "dagster_home", "logs", "mlflow", "erp")}
    assert all(wrote.values()), wrote

    found, files = scan_folders([data_dir, temp], [seaweedfs.secret_key])
    for name, data in objects.items():
        found += scan_bytes(f"s3://{seaweedfs.bucket}/{name}", data, [seaweedfs.secret_key])
    print(f"scanned {files} files and {len(objects)} lake objects")
    assert found == [], "\n".join(found)
    assert sorted(p.name for p in temp.iterdir()) == []  # no key folder, token store or parking left behind
    assert warehouse_hits(data_dir / "warehouse", seaweedfs.secret_key) == []


# -- the lake's ClickHouse side -------------------------------------------------------------------------------

SCHEMA = pa.schema([pa.field("currency", pa.string(), nullable=False), pa.field("buy", pa.decimal128(38, 15))])
DAY = date(2024, 3, 14)


def _lake(seaweedfs, **kwargs) -> S3Lake:
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    lake = S3Lake(seaweedfs.endpoint, seaweedfs.access_key, seaweedfs.secret_key, seaweedfs.bucket, prefix, **kwargs)
    lake.write_partition("bcb", "ptax_quotes", DAY, pa.table({"currency": ["USD"], "buy": [Decimal("5.1")]}, SCHEMA))
    return lake


class ServerClient:
    """A ClickHouse server's client as the lake is told it is one (`embedded=False`), running every
    statement on the real ClickHouse 26.9 engine (chDB)."""

    def __init__(self, client):
        self._client = client

    def command(self, *args, **kwargs):
        return self._client.command(*args, **kwargs)

    def query(self, *args, **kwargs):
        return self._client.query(*args, **kwargs)


def test_chdb_gets_the_keys_in_memory_and_drops_a_collection_that_kept_them_on_disk(seaweedfs, warehouse, chdb_path):
    lake = _lake(seaweedfs, named_collection=f"importau_lake_s3_{uuid.uuid4().hex[:6]}")
    keys = f"access_key_id = '{seaweedfs.access_key}', secret_access_key = '{seaweedfs.secret_key}'"
    warehouse.command(f"CREATE NAMED COLLECTION {lake.named_collection} AS {keys}")  # what the old code did
    persisted = Path(chdb_path) / "named_collections" / f"{lake.named_collection}.sql"
    assert seaweedfs.secret_key in persisted.read_text()
    lake.grant_clickhouse_access(warehouse.client, embedded=True)
    assert not persisted.exists() and not lake.uses_named_collection
    reader = lake.clickhouse_reader("bcb", "ptax_quotes")
    assert seaweedfs.secret_key not in reader and seaweedfs.access_key not in reader
    assert seaweedfs.secret_key in reader.parameters.values() and seaweedfs.secret_key not in repr(reader)
    ensure_raw_table(warehouse.client, "bcb__ptax_in_memory_keys", SCHEMA, ["currency"])
    assert (
        replace_partitions(warehouse.client, "bcb__ptax_in_memory_keys", reader, date(2024, 3, 1), date(2024, 3, 31))
        == 1
    )
    # the session warehouse is shared with other tests of this worker: only this secret is searched there
    found, files = scan_folders([Path(chdb_path)], [seaweedfs.secret_key], patterns=False)
    assert files and found == [], found


def test_a_server_without_the_collection_is_told_what_to_configure_and_stores_nothing(seaweedfs, warehouse):
    lake = _lake(seaweedfs, named_collection=f"importau_lake_s3_{uuid.uuid4().hex[:6]}")
    with pytest.raises(LakeError, match="clear text") as caught:
        lake.grant_clickhouse_access(ServerClient(warehouse.client), embedded=False)
    assert SERVER_CONFIG_EXAMPLE in str(caught.value) and "local_encrypted" in str(caught.value)
    assert seaweedfs.secret_key not in str(caught.value)
    names = warehouse.query_rows(
        "SELECT name FROM system.named_collections WHERE name = {n:String}", parameters={"n": lake.named_collection}
    )
    assert names == []


SERVER_SIDE = """
import json, sys
import clickhouse_connect
from ingestion.common.lake import S3Lake
from ingestion.common.raw_load import ensure_raw_table, replace_partitions
from tests.security.test_secrets_at_rest import SCHEMA, ServerClient  # pytest imports it as a module, not here

folder, config, endpoint, access_key, secret_key, bucket, prefix = sys.argv[1:]
engine = clickhouse_connect.get_client(interface="chdb", path=folder, chdb_options={"config-file": config})
client = ServerClient(engine)
client.command("CREATE DATABASE IF NOT EXISTS raw")
lake = S3Lake(endpoint, access_key, secret_key, bucket, prefix)
lake.grant_clickhouse_access(client, embedded=False)
reader = lake.clickhouse_reader("bcb", "ptax_quotes")
ensure_raw_table(client, "bcb__ptax", SCHEMA, ["currency"])
from datetime import date
rows = replace_partitions(client, "bcb__ptax", reader, date(2024, 3, 1), date(2024, 3, 31))
source = client.query("SELECT source FROM system.named_collections WHERE name = 'importau_lake_s3'").result_rows
print(json.dumps({"reader": str(reader), "parameters": reader.parameters, "rows": rows, "source": source[0][0]}))
engine.close()
"""


@pytest.mark.parametrize("storage", ["operator config", "encrypted storage"])
def test_a_server_reads_the_lake_through_a_collection_that_keeps_the_keys_off_its_disk(tmp_path, seaweedfs, storage):
    """A fresh chDB folder started with a server config, in a subprocess (one chDB folder per process): the
    operator's collection from SERVER_CONFIG_EXAMPLE, keys in the environment only; or named collections stored
    encrypted, where the lake creates the collection itself."""
    lake = _lake(seaweedfs)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    if storage == "operator config":
        config = REPO_ROOT / SERVER_CONFIG_EXAMPLE
        env.update(
            IMPORTAU_LAKE_S3_ACCESS_KEY_ID=seaweedfs.access_key, IMPORTAU_LAKE_S3_SECRET_ACCESS_KEY=seaweedfs.secret_key
        )
    else:
        config = tmp_path / "encrypted.xml"
        config.write_text(
            "<clickhouse><named_collections_storage><type>local_encrypted</type><algorithm>aes_128_ctr</algorithm>"
            f"<key_hex>{uuid.uuid4().hex}</key_hex></named_collections_storage></clickhouse>"
        )
    folder = tmp_path / "server"
    args = [
        str(folder),
        str(config),
        seaweedfs.endpoint,
        seaweedfs.access_key,
        seaweedfs.secret_key,
        seaweedfs.bucket,
        lake.prefix,
    ]
    completed = subprocess.run(
        [sys.executable, "-c", SERVER_SIDE, *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["reader"].startswith("s3(importau_lake_s3, url=") and result["parameters"] == {}
    assert result["rows"] == 1
    assert result["source"] == ("CONFIG" if storage == "operator config" else "SQL")
    found, files = scan_folders([folder], [seaweedfs.secret_key])
    assert files and found == [], found
    assert seaweedfs.secret_key not in config.read_text()
