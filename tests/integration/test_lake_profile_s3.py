"""The DuckDB lake profile on a real S3 lake (SeaweedFS): the objects are fetched through the lake client into a
private folder that is gone afterwards, and the profile equals the one of a folder lake holding the same objects."""

import tempfile
import uuid
from datetime import date
from pathlib import Path

import pytest

from ingestion.common.lake import LakeError, LocalLake, S3Lake
from ingestion.common.lake_profile import profile_dataset
from ingestion.common.lake_rules import judge
from tests.ingestion.common.test_lake_profile_rules import AS_OF, month_rows, quarantine

pytestmark = pytest.mark.integration


@pytest.fixture
def s3_lake(seaweedfs) -> S3Lake:
    return S3Lake(
        seaweedfs.endpoint,
        seaweedfs.access_key,
        seaweedfs.secret_key,
        seaweedfs.bucket,
        prefix=f"test-{uuid.uuid4().hex[:8]}",
    )


def _fill(lake) -> None:
    lake.write_partition("src", "things", date(2024, 1, 31), month_rows(date(2024, 1, 1), 300))
    lake.write_partition("src", "things", date(2024, 2, 10), month_rows(date(2024, 2, 1), 100))
    lake.write_partition("src", "things", date(2024, 2, 20), month_rows(date(2024, 2, 1), 10, note=lambda i: None))
    lake.write_quarantine("src", "things", date(2024, 2, 20), quarantine(20))


def _profile_folders() -> set[str]:
    return {path.name for path in Path(tempfile.gettempdir()).glob("importau-lake-profile-*")}


def test_the_s3_profile_equals_the_folder_profile_and_leaves_no_copy(s3_lake, tmp_path):
    folder_lake = LocalLake(tmp_path / "lake")
    _fill(s3_lake)
    _fill(folder_lake)
    before = _profile_folders()
    on_s3 = profile_dataset(s3_lake, "src", "things", date(2024, 2, 1), date(2024, 2, 29), AS_OF)
    assert _profile_folders() <= before  # the fetched objects are removed with their private folder
    in_folder = profile_dataset(folder_lake, "src", "things", date(2024, 2, 1), date(2024, 2, 29), AS_OF)
    assert on_s3 == in_folder
    (february,) = on_s3.months
    assert (february.rows, february.objects, february.quarantined) == (110, 2, 20)
    assert on_s3.previous.rows == 300
    assert [p.rule for p in judge(on_s3)] == ["quarantine_share", "row_count_drop"]


def test_an_unreachable_s3_lake_fails_with_the_lake_error(seaweedfs, s3_lake):
    _fill(s3_lake)
    dead = S3Lake("http://127.0.0.1:9", seaweedfs.access_key, seaweedfs.secret_key, seaweedfs.bucket)
    with pytest.raises(LakeError) as raised:
        profile_dataset(dead, "src", "things", date(2024, 2, 1), date(2024, 2, 29), AS_OF)
    assert "127.0.0.1:9" in str(raised.value) and seaweedfs.secret_key not in str(raised.value)


def test_the_lake_quality_check_on_an_s3_lake_through_dagster(seaweedfs, tmp_path):
    """The ERP file drop on SeaweedFS: the profile lands in the materialization, a planted quarantine share warns."""
    import dagster as dg

    from orchestration.defs.erp import erp_file_drop
    from orchestration.resources.erp import ErpResource
    from orchestration.resources.lake import LakeResource
    from tests.orchestration.test_lake_quality_checks import SHIPMENTS, drop, evaluation, materialization, shipment

    bad = [{**shipment(i, 12), "currency": "XYZ"} for i in range(100, 110)]
    drop(tmp_path / "inbox", "shipments__dec.csv", [shipment(i, 12) for i in range(40)] + bad)
    resources = {
        "erp": ErpResource(inbox_dir=str(tmp_path / "inbox"), data_dir=str(tmp_path)),
        "lake": LakeResource(
            url=f"s3://{seaweedfs.bucket}/test-{uuid.uuid4().hex[:8]}",
            s3_endpoint_url=seaweedfs.endpoint,
            s3_access_key_id=seaweedfs.access_key,
            s3_secret_access_key=seaweedfs.secret_key,
            s3_region=seaweedfs.region,
        ),
    }
    result = dg.materialize([erp_file_drop], partition_key="2024-12-01", resources=resources)
    check = evaluation(result, SHIPMENTS)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert "10 of 50 records quarantined" in check.description
    metadata = materialization(result, SHIPMENTS).metadata
    assert metadata["profile_rows"].value == 40 and metadata["quarantine_share"].value == 0.2
    assert seaweedfs.secret_key not in str({key: value.value for key, value in metadata.items()})
