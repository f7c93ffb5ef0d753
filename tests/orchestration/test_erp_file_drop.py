"""The ERP file-drop asset through Dagster: good rows land in lake and raw, bad rows are quarantined with their
reason, and a re-dropped identical file is skipped (the partition keeps the same rows); the inbox sensor."""

import os
import shutil
import time

import dagster as dg
import pyarrow.parquet as pq

from orchestration.defs.erp import erp_file_drop, erp_file_drop_sensor, raw_load
from orchestration.defs.metadata import sao_paulo_today
from orchestration.partitions import month_key
from orchestration.resources.erp import ErpResource
from tests.orchestration.file_drop_runs import DAY, materialize_month


def _materialize(tmp_path, chdb_url):
    inbox = ErpResource(inbox_dir=str(tmp_path / "inbox"), data_dir=str(tmp_path))
    selection = [*erp_file_drop.keys, dg.AssetKey(["raw", "erp__suppliers"])]
    return materialize_month(tmp_path, chdb_url, [erp_file_drop, raw_load], {"erp": inbox}, selection)


def test_bad_rows_are_quarantined_good_rows_land_and_a_redrop_is_skipped(tmp_path, chdb_url, warehouse):
    source = tmp_path / "export.csv"
    lines = [
        "supplier_id,name,country,tax_id,tax_id_type,currency,payment_terms_days,updated_at,deleted_at",
        "SUP-0001,Sino Hardware GmbH,DEU,DE634817397,FOREIGN,EUR,90,2023-01-02T16:03:38.017Z,",
        "SUP-0002,Zenith Industrial GmbH,DEU,DE544046655,FOREIGN,XYZ,90,2023-09-02T19:25:23.342Z,",
        "SUP-0003,Pearl River Parts Co,CHN,CN91440300,FOREIGN,CNY,60,2023-03-01T10:00:00.000Z,",
    ]
    source.write_text("\n".join(lines) + "\n")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copyfile(source, inbox / "suppliers__2024-12-31.csv")

    first = _materialize(tmp_path, chdb_url)
    metadata = first.asset_materializations_for_node("erp_file_drop")
    suppliers = next(m for m in metadata if m.asset_key == dg.AssetKey(["lake", "erp__suppliers"])).metadata
    assert suppliers["row_count"].value == 2 and suppliers["quarantined"].value == 1
    reasons = (inbox / "quarantine" / "suppliers__2024-12-31.csv.reason.txt").read_text()
    assert "SUP-0002" in reasons and "XYZ" in reasons
    lake_file = tmp_path / "lake" / "erp" / "suppliers" / f"dt={DAY}" / "part-000.parquet"
    assert sorted(pq.read_table(lake_file)["supplier_id"].to_pylist()) == ["SUP-0001", "SUP-0003"]
    rows = warehouse.query_rows(f"SELECT supplier_id FROM raw.erp__suppliers WHERE _partition_date = '{DAY}'")
    assert sorted(r[0] for r in rows) == ["SUP-0001", "SUP-0003"]
    before = lake_file.read_bytes()

    shutil.copyfile(source, inbox / "suppliers__again.csv")  # the same bytes under another name
    _materialize(tmp_path, chdb_url)
    assert (inbox / "skipped" / "suppliers__again.csv").exists()
    assert lake_file.read_bytes() == before
    rows = warehouse.query_rows(f"SELECT count() FROM raw.erp__suppliers WHERE _partition_date = '{DAY}'")
    assert rows[0][0] == 2


def test_the_sensor_requests_a_new_run_when_the_same_bytes_are_dropped_again_later(tmp_path):
    """The run key names each waiting file's hash and modification time: a revert (an earlier export dropped
    again after a correction) is not mistaken for the run that loaded those bytes the first time."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    context = dg.build_sensor_context(resources={"erp": ErpResource(inbox_dir=str(inbox), data_dir=str(tmp_path))})
    assert isinstance(erp_file_drop_sensor(context), dg.SkipReason)
    dropped = inbox / "suppliers__2024-12-31.csv"
    dropped.write_text("supplier_id,name\n")
    assert isinstance(erp_file_drop_sensor(context), dg.SkipReason)  # written less than 30 s ago: maybe not done
    keys = []
    for minutes_ago in (10, 2):  # the first drop, processed (moved away), then the same bytes dropped again
        dropped.write_text("supplier_id,name\n")
        os.utime(dropped, (time.time() - 60 * minutes_ago,) * 2)
        request = erp_file_drop_sensor(context)
        assert isinstance(request, dg.RunRequest) and request.partition_key == month_key(sao_paulo_today())
        keys.append(request.run_key)
        dropped.unlink()
    assert keys[0] != keys[1] and keys[0].split("@")[0] == keys[1].split("@")[0]
