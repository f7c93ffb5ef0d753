"""Cluster mode, the small parts: the layout's statements, the BI grants of a Distributed mart, the refusals."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ingestion.common.backup import S3Access, backup_sql, restore_sql
from ingestion.common.table_layout import LayoutError, TableLayout, chdb_storage_config, s3_disk_endpoint
from tests.marts.chdb_access_probe import load_apply_roles


def test_the_layout_replicates_merge_tree_engines_only():
    cluster = TableLayout(cluster="prod")
    assert cluster.on_cluster() == " ON CLUSTER `prod`"
    assert cluster.engine("MergeTree") == "ReplicatedMergeTree('/clickhouse/tables/{uuid}/all', '{replica}')"
    assert cluster.engine("ReplacingMergeTree(_version)", sharded=True) == (
        "ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}', _version)"
    )
    assert cluster.engine("ReplicatedMergeTree('/x', 'y')") == "ReplicatedMergeTree('/x', 'y')"
    with pytest.raises(LayoutError, match="MergeTree engines only"):
        cluster.engine("Memory")
    with pytest.raises(LayoutError, match="CLICKHOUSE_CLUSTER"):
        TableLayout(cluster="prod; DROP")
    single = TableLayout()
    assert (single.on_cluster(), single.engine("MergeTree"), single.settings()) == ("", "MergeTree", "")
    assert TableLayout(storage_policy="importau_s3").settings() == "\nSETTINGS storage_policy = 'importau_s3'"


def test_backup_statements_go_on_cluster_and_carry_no_key_on_a_server():
    server = S3Access(embedded=False)
    assert backup_sql(server, TableLayout(cluster="prod"), ["raw", "marts"]) == (
        "BACKUP DATABASE raw, DATABASE marts ON CLUSTER `prod` TO S3({importau_backup_url:String})"
    )
    assert server.parameters(importau_backup_url="u") == {"importau_backup_url": "u"}
    embedded = S3Access("k", "s", embedded=True)
    assert restore_sql(embedded, TableLayout(), ["ml"]) == (
        "RESTORE DATABASE ml FROM S3({importau_backup_url:String}, {importau_backup_key:String}, "
        "{importau_backup_secret:String})"
    )


def test_the_chdb_storage_config_names_the_key_variables_not_their_values():
    endpoint = s3_disk_endpoint("s3://warehouse/tables", "127.0.0.1:9000")
    assert endpoint == "http://127.0.0.1:9000/warehouse/tables/"
    config = chdb_storage_config("importau_s3", endpoint, "/data/warehouse/disks/importau_s3")
    assert '<access_key_id from_env="S3_ACCESS_KEY_ID"/>' in config
    assert '<secret_access_key from_env="S3_SECRET_ACCESS_KEY"/>' in config
    with pytest.raises(LayoutError, match="CLICKHOUSE_S3_DISK_URL"):
        s3_disk_endpoint("https://warehouse", "127.0.0.1:9000")


def test_a_distributed_mart_grants_its_local_table_too(tmp_path):
    roles = load_apply_roles("apply_roles_cluster_test")
    nodes = {
        "model.importau.fct_a": {
            "resource_type": "model",
            "schema": "marts",
            "name": "fct_a",
            "config": {"materialized": "distributed_table"},
        },
        "model.importau.dim_b": {
            "resource_type": "model",
            "schema": "marts",
            "name": "dim_b",
            "config": {"materialized": "table"},
        },
    }
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"nodes": nodes}))
    assert roles.marts_from_manifest(manifest) == ["dim_b", "fct_a", "fct_a_local"]


def test_cluster_mode_on_the_embedded_chdb_is_refused(tmp_path):
    code = (
        "from ingestion.common.warehouse import open_warehouse, WarehouseError\n"
        f"try:\n    open_warehouse(None, {str(tmp_path)!r}, 'test').__enter__()\n"
        "except WarehouseError as error:\n    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"CLICKHOUSE_CLUSTER": "prod", "PATH": "/usr/bin"},
        cwd=str(Path(__file__).resolve().parents[2]),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "CLICKHOUSE_CLUSTER=prod needs ClickHouse servers" in done.stdout, done.stderr
    assert not (tmp_path / "warehouse").exists()


def test_the_embedded_storage_policy_needs_its_disk_and_keys(tmp_path):
    from ingestion.common.warehouse import WarehouseError, chdb_storage_options

    layout = TableLayout(storage_policy="importau_s3")
    warehouse = str(tmp_path / "warehouse")
    assert chdb_storage_options(warehouse, TableLayout(), env={}) == {}
    with pytest.raises(WarehouseError, match="needs CLICKHOUSE_S3_DISK_URL"):
        chdb_storage_options(warehouse, layout, env={})
    env = {"CLICKHOUSE_S3_DISK_URL": "s3://warehouse/disk", "S3_ENDPOINT_URL": "http://127.0.0.1:9"}
    with pytest.raises(WarehouseError, match="S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY"):
        chdb_storage_options(warehouse, layout, env=env)
    env.update(S3_ACCESS_KEY_ID="id-value", S3_SECRET_ACCESS_KEY="secret-value")
    options = chdb_storage_options(warehouse, layout, env=env)
    config = Path(options["config-file"])
    assert config == tmp_path / "warehouse.storage.xml" and config.stat().st_mode & 0o777 == 0o600
    assert "secret-value" not in config.read_text() and "id-value" not in config.read_text()
    assert "<endpoint>http://127.0.0.1:9/warehouse/disk/</endpoint>" in config.read_text()
