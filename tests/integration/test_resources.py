"""The Dagster resources over the storage layer: defaults, secrets kept out of repr, and a real open."""

import dagster as dg
import pytest

from ingestion.common.lake import LocalLake, S3Lake
from orchestration.resources.lake import LakeResource
from orchestration.resources.settings import default_data_dir, lake_from_settings, resolve_data_dir
from orchestration.resources.warehouse import ClickHouseResource


def test_default_data_dir_is_the_env_var_or_repo_data(monkeypatch, tmp_path):
    monkeypatch.delenv("IMPORTAU_DATA_DIR", raising=False)
    assert default_data_dir().endswith("/data")
    monkeypatch.setenv("IMPORTAU_DATA_DIR", str(tmp_path))
    assert default_data_dir() == str(tmp_path)
    assert resolve_data_dir("") == str(tmp_path)
    assert resolve_data_dir("/somewhere") == "/somewhere"


def test_lake_url_picks_the_lake(tmp_path):
    assert lake_from_settings("", str(tmp_path)).root == (tmp_path / "lake").resolve()
    assert lake_from_settings(str(tmp_path / "l2"), "/ignored").root == (tmp_path / "l2").resolve()
    s3 = lake_from_settings("s3://lake-bucket/prod/v1", "/ignored", "https://s3.example:9000", "AK", "SK")
    assert isinstance(s3, S3Lake)
    assert (s3.bucket, s3.prefix, s3.http_endpoint) == ("lake-bucket", "prod/v1", "https://s3.example:9000")
    with pytest.raises(ValueError, match="S3_ENDPOINT_URL"):
        lake_from_settings("s3://lake-bucket", "/ignored")
    with pytest.raises(ValueError, match="no bucket"):
        lake_from_settings("s3://", "/ignored", "http://x:1")


def test_resources_keep_secrets_out_of_repr():
    lake = LakeResource(
        url="s3://b/p",
        s3_endpoint_url="http://127.0.0.1:1",
        s3_access_key_id="AKID",
        s3_secret_access_key="SHH",
    )
    warehouse = ClickHouseResource(url="https://etl:SHH@ch.example:8443/", data_dir="/d")
    for text in (repr(lake), str(lake), repr(lake.get_lake(check=False)), repr(warehouse), warehouse.describe()):
        assert "SHH" not in text and "AKID" not in text
    assert warehouse.chdb_path() is None


def test_local_lake_resource_and_warehouse_resource_work_in_an_asset(tmp_path, chdb_url):
    lake_resource = LakeResource(data_dir=str(tmp_path))
    warehouse_resource = ClickHouseResource(url=chdb_url, data_dir=str(tmp_path))
    assert isinstance(lake_resource.get_lake(), LocalLake)
    assert warehouse_resource.chdb_path() == chdb_url.removeprefix("chdb://")

    @dg.asset
    def probe(lake: LakeResource, warehouse: ClickHouseResource) -> dg.MaterializeResult:
        with warehouse.open(owner="probe") as wh:
            databases = {row[0] for row in wh.query_rows("SELECT name FROM system.databases")}
        return dg.MaterializeResult(metadata={"has_raw": "raw" in databases, "lake": str(lake.get_lake().root)})

    result = dg.materialize([probe], resources={"lake": lake_resource, "warehouse": warehouse_resource})
    assert result.success
    metadata = result.asset_materializations_for_node("probe")[0].metadata
    assert metadata["has_raw"].value is True
