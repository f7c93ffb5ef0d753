"""`importau backup` / `importau restore` against a real S3 (SeaweedFS on 127.0.0.1).

A warehouse with raw, staging (a view), marts (NULLs, Decimals, an empty table) and ml tables is backed up; the
backup is restored into an EMPTY warehouse (another folder, another process) and every table's checksum (row
count and the sum of cityHash64(toString(tuple(*)))) must be the same in both, as `restore` itself checks. A
warehouse that already has tables is refused, an unknown backup fails naming where it looked, and no file of
either warehouse holds the S3 secret.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dbt.dbt_harness import BIN, dbt_env

pytestmark = pytest.mark.integration
HERE = Path(__file__).resolve().parent


def _env(data_dir: Path, seaweedfs) -> dict:
    env = dbt_env(data_dir)
    env.update(
        CLICKHOUSE_BACKUP_URL=f"s3://{seaweedfs.bucket}/warehouse-backups",
        S3_ENDPOINT_URL=seaweedfs.endpoint,
        S3_ACCESS_KEY_ID=seaweedfs.access_key,
        S3_SECRET_ACCESS_KEY=seaweedfs.secret_key,
    )
    return env


def _run(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), env=env, capture_output=True, text=True, timeout=300)


def _checksums(env: dict, phase: str, data_dir: Path) -> dict:
    done = _run(env, sys.executable, str(HERE / "backup_worker.py"), phase, str(data_dir))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_backup_then_restore_into_an_empty_warehouse_gives_every_table_back(tmp_path, seaweedfs):
    source, empty = tmp_path / "source", tmp_path / "restored"
    source_env, empty_env = _env(source, seaweedfs), _env(empty, seaweedfs)
    original = _checksums(source_env, "seed", source)
    assert set(original) == {
        "raw.backup__payments",
        "marts.fct_backup_totals",
        "marts.fct_backup_empty",
        "ml.backup_probe__scores",
    }
    assert original["raw.backup__payments"][0] == 80 and original["marts.fct_backup_empty"] == [0, 0]
    assert original["marts.fct_backup_totals"][1] != 0  # rows with NULLs hash too (toString(tuple(*)))

    backed_up = _run(source_env, str(BIN / "importau"), "backup", "--name", "nightly-1")
    assert backed_up.returncode == 0, backed_up.stderr
    assert "backed up 4 tables (" in backed_up.stdout and "BACKUP_CREATED" in backed_up.stdout

    # what a dbt step recorded beside the warehouse it restores into must go: its tables are not those
    empty.mkdir()
    (empty / "dbt_build_state.ci.json").write_text('{"project": "p", "models": {}}')
    restored = _run(empty_env, str(BIN / "importau"), "restore", "nightly-1")
    assert restored.returncode == 0, restored.stderr
    assert "every checksum matches" in restored.stdout
    assert not (empty / "dbt_build_state.ci.json").exists() and "forgot " in restored.stdout
    assert _checksums(empty_env, "checksums", empty) == original
    view = _run(empty_env, str(BIN / "importau"), "sql", "SELECT count() FROM staging.stg_backup__payments")
    assert view.returncode == 0 and "80" in view.stdout, view.stderr  # the view came back and reads its table

    again = _run(empty_env, str(BIN / "importau"), "restore", "nightly-1")
    assert again.returncode == 1 and "restore into an empty warehouse" in again.stderr
    missing = _run(_env(tmp_path / "other", seaweedfs), str(BIN / "importau"), "restore", "no-such-backup")
    assert missing.returncode == 1 and "warehouse-backups/no-such-backup/" in missing.stderr
    assert seaweedfs.secret_key not in missing.stderr + again.stderr

    secret = seaweedfs.secret_key.encode()
    holding = [str(path) for path in tmp_path.rglob("*") if path.is_file() and secret in path.read_bytes()]
    assert holding == []


def test_a_server_backs_up_with_the_credentials_of_its_config_and_no_key_in_sql(tmp_path, seaweedfs):
    """docs/clickhouse/importau_backup_s3.xml as the engine's config (its endpoint pointed at this S3): BACKUP,
    RESTORE and the checksums object name only the URL, the engine finds the keys in its `<s3>` config."""
    env = _env(tmp_path, seaweedfs)
    for name in ("S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"):
        del env[name]  # the server path sends no key: it must not need these
    env.update(
        IMPORTAU_BACKUP_S3_ACCESS_KEY_ID=seaweedfs.access_key,
        IMPORTAU_BACKUP_S3_SECRET_ACCESS_KEY=seaweedfs.secret_key,
    )
    documented = (HERE.parents[1] / "docs" / "clickhouse" / "importau_backup_s3.xml").read_text()
    endpoint = "https://minio.example.com:9000/importau-backups/warehouse/"
    assert endpoint in documented
    config = tmp_path / "server.xml"
    config.write_text(documented.replace(endpoint, f"{seaweedfs.endpoint}/{seaweedfs.bucket}/warehouse-backups/"))
    done = _run(env, sys.executable, str(HERE / "backup_worker.py"), "server-mode", str(tmp_path), str(config))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["differences"] == []
    assert result["checksums"] == result["backup"] and result["checksums"]["raw.server_mode"][0] == 2
