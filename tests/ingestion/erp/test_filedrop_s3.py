"""The same file-drop flow with the inbox and the registry under a prefix of a real S3 bucket (SeaweedFS)."""

import secrets

import pytest

from ingestion.common.lake import S3Lake
from ingestion.erp.filedrop import FileStatus, process, scan
from ingestion.erp.folders import S3Folder
from ingestion.erp.state import FileRegistry
from sandboxes.demo_company import generate
from sandboxes.demo_company.writers import write_exports

pytestmark = pytest.mark.integration


def test_an_s3_inbox_loads_skips_and_quarantines(seaweedfs, tmp_path):
    lake = S3Lake(
        seaweedfs.endpoint,
        seaweedfs.access_key,
        seaweedfs.secret_key,
        seaweedfs.bucket,
        prefix=f"test-{secrets.token_hex(4)}",
        region=seaweedfs.region,
    )
    inbox, state = S3Folder.from_lake(lake, "erp/inbox"), S3Folder.from_lake(lake, "erp/state")
    write_exports(generate(seed=42, scale=0.1), tmp_path)
    inbox.write("payables__demo.csv", (tmp_path / "payables.csv").read_bytes())
    inbox.write("products__demo.xlsx", (tmp_path / "products.xlsx").read_bytes())
    inbox.write("orders__demo.csv", b"po_id\n")
    inbox.write("processed/old__x.csv", b"not listed: in a subfolder")

    files = scan(inbox)
    assert sorted(f.name for f in files) == ["orders__demo.csv", "payables__demo.csv", "products__demo.xlsx"]
    assert files == sorted(files, key=lambda f: (f.modified, f.name))  # in arrival order (S3 LastModified)
    registry = FileRegistry(state)
    results = {f.name: process(f, registry) for f in files}
    assert results["payables__demo.csv"].status == FileStatus.LOADED
    assert results["products__demo.xlsx"].status == FileStatus.LOADED
    assert results["orders__demo.csv"].status == FileStatus.QUARANTINED
    assert results["payables__demo.csv"].moved_to == lake.uri("erp/inbox/processed/payables__demo.csv")
    assert inbox.exists("quarantine/orders__demo.csv.reason.txt") and scan(inbox) == []

    inbox.write("payables__again.csv", (tmp_path / "payables.csv").read_bytes())
    again = process(scan(inbox)[0], FileRegistry(state))  # the registry read back from the bucket
    assert again.status == FileStatus.SKIPPED and inbox.exists("skipped/payables__again.csv")
