"""The `lake_quality` check through Dagster, on the ERP file drop: the profile is materialization metadata the UI
renders, a clean drop passes, a planted problem fails (a quarantine share warns, an emptied column fails the step
and keeps the raw load from running), the demo company's exports pass, and the profile runs while another process
holds the chDB warehouse (it needs no warehouse)."""

import csv
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import pytest

from ingestion.common.warehouse import WarehouseBusyError, open_warehouse
from ingestion.erp import contracts
from orchestration.defs.erp import erp_file_drop, raw_load
from orchestration.defs.lake_quality import CHECK_NAME
from orchestration.resources.erp import ErpResource
from orchestration.resources.lake import LakeResource
from orchestration.resources.warehouse import ClickHouseResource

SHIPMENTS = dg.AssetKey(["lake", "erp__shipments"])
RAW_SHIPMENTS = dg.AssetKey(["raw", "erp__shipments"])
HEADER = [column.name for column in contracts.ENTITIES["shipments"].columns]


def shipment(i: int, month: int, arrived: bool = True, status: str = "CLEARED") -> dict:
    return {
        "shipment_id": f"SHP-{month:02d}{i:04d}",
        "po_id": f"PO-2024-{i:06d}",
        "transport_mode": "SEA",
        "origin_country": "CHN",
        "customs_unit": "0927700",
        "bill_of_lading": f"CMDU{month:02d}{i:05d}",
        "etd": f"2024-{month - 1:02d}-02",
        "eta": f"2024-{month:02d}-0{1 + i % 9}",
        "actual_arrival": f"2024-{month:02d}-1{i % 9}" if arrived else "",
        "gross_weight_kg": f"{100 + i}.5000",
        "currency": "USD",
        "freight_amount": f"{300 + i}.2500",
        "insurance_amount": "10.0000",
        "status": status,
        "updated_at": f"2024-{month:02d}-20T10:00:{i % 60:02d}.000Z",
        "deleted_at": "",
    }


def drop(inbox: Path, name: str, rows: list[dict]) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    with (inbox / name).open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)


def resources(tmp_path: Path, chdb_url: str | None = None) -> dict:
    found = {
        "erp": ErpResource(inbox_dir=str(tmp_path / "inbox"), data_dir=str(tmp_path)),
        "lake": LakeResource(url=str(tmp_path / "lake"), data_dir=str(tmp_path)),
    }
    if chdb_url:
        found["warehouse"] = ClickHouseResource(url=chdb_url, data_dir=str(tmp_path))
    return found


def lake_run(tmp_path: Path, month: str, **kwargs) -> dg.ExecuteInProcessResult:
    return dg.materialize([erp_file_drop], partition_key=month, resources=resources(tmp_path), **kwargs)


def evaluation(result: dg.ExecuteInProcessResult, key: dg.AssetKey):
    (found,) = [e for e in result.get_asset_check_evaluations() if e.asset_key == key and e.check_name == CHECK_NAME]
    return found


def materialization(result: dg.ExecuteInProcessResult, key: dg.AssetKey):
    return next(m for m in result.asset_materializations_for_node("erp_file_drop") if m.asset_key == key)


def test_the_profile_is_table_metadata_and_a_clean_month_passes(tmp_path):
    drop(tmp_path / "inbox", "shipments__nov.csv", [shipment(i, 11) for i in range(40)])
    lake_run(tmp_path, "2024-11-01")
    drop(tmp_path / "inbox", "shipments__dec.csv", [shipment(i, 12) for i in range(36)])
    result = lake_run(tmp_path, "2024-12-01")
    assert evaluation(result, SHIPMENTS).passed
    metadata = materialization(result, SHIPMENTS).metadata
    assert metadata["profile_month"].value == "2024-12" and metadata["previous_partition"].value == "2024-11"
    assert metadata["profile_rows"].value == 36 and metadata["quarantine_share"].value == 0.0
    assert metadata["row_ratio_vs_previous"].value == pytest.approx((36 / 31) / (40 / 30), abs=1e-4)
    profile = metadata["profile"]
    assert isinstance(profile, dg.TableMetadataValue)
    by_column = {record.data["column"]: record.data for record in profile.records}
    assert set(by_column) == set(contracts.lake_schema("shipments").names)
    assert by_column["actual_arrival"]["null_rate"] == 0.0 and by_column["deleted_at"]["null_rate"] == 1.0
    assert by_column["shipment_id"]["distinct"] == 36
    assert by_column["updated_at"]["max"] == "2024-12-20 10:00:35+00"  # UTC text, whatever the machine's zone
    assert by_column["gross_weight_kg"]["min"].startswith("100.5") and by_column["gross_weight_kg"]["p50"] > 100
    (months,) = [m for m in evaluation(result, SHIPMENTS).metadata.values() if isinstance(m, dg.TableMetadataValue)]
    assert [(r.data["month"], r.data["rows"]) for r in months.records] == [("2024-12", 36)]


def test_a_quarantine_share_over_the_threshold_warns_without_failing_the_run(tmp_path):
    bad = [{**shipment(i, 12), "currency": "XYZ"} for i in range(100, 110)]
    drop(tmp_path / "inbox", "shipments__dec.csv", [shipment(i, 12) for i in range(40)] + bad)
    result = lake_run(tmp_path, "2024-12-01")
    assert result.success
    check = evaluation(result, SHIPMENTS)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert "10 of 50 records quarantined" in check.description


def test_an_emptied_column_fails_the_lake_step_and_the_raw_load_does_not_run(tmp_path, chdb_url):
    drop(tmp_path / "inbox", "shipments__nov.csv", [shipment(i, 11) for i in range(40)])
    lake_run(tmp_path, "2024-11-01")
    # the ERP export stops filling actual_arrival: every row still passes its contract (the column is optional)
    drop(tmp_path / "inbox", "shipments__dec.csv", [shipment(i, 12, arrived=False) for i in range(40)])
    result = dg.materialize(
        [erp_file_drop, raw_load],
        selection=[*erp_file_drop.keys, RAW_SHIPMENTS],
        partition_key="2024-12-01",
        resources=resources(tmp_path, chdb_url),
        raise_on_error=False,
    )
    assert not result.success
    check = evaluation(result, SHIPMENTS)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert "actual_arrival" in check.description
    assert materialization(result, SHIPMENTS).metadata["row_count"].value == 40  # the lake write is recorded
    assert [e for e in result.get_asset_materialization_events() if e.asset_key == RAW_SHIPMENTS] == []


def test_the_demo_companys_erp_exports_pass(tmp_path):
    from sandboxes.demo_company import generate
    from sandboxes.demo_company.writers import write_exports

    write_exports(generate(seed=42), tmp_path / "inbox")
    result = dg.materialize(
        [erp_file_drop],
        resources=resources(tmp_path),
        tags={"dagster/asset_partition_range_start": "2024-01-01", "dagster/asset_partition_range_end": "2024-12-01"},
    )
    checks = [e for e in result.get_asset_check_evaluations() if e.check_name == CHECK_NAME]
    assert len(checks) == len(contracts.ENTITY_NAMES)
    assert all(check.passed for check in checks), [c.description for c in checks if not c.passed]


HOLDER = textwrap.dedent(
    """
    import sys
    from ingestion.common.warehouse import open_warehouse
    with open_warehouse(sys.argv[1], sys.argv[2], owner="a warehouse step of another run") as wh:
        wh.command("CREATE TABLE IF NOT EXISTS raw.held (x UInt8) ENGINE = MergeTree ORDER BY x")
        print("holding", flush=True)
        sys.stdin.read()  # until the test closes our stdin
    """
)


def test_the_profile_runs_while_another_process_holds_the_warehouse(tmp_path):
    warehouse_dir = tmp_path / "warehouse"
    url = f"chdb://{warehouse_dir}"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(WarehouseBusyError), open_warehouse(url, str(tmp_path), owner="this test"):
            pass  # the warehouse really is held
        drop(tmp_path / "inbox", "shipments__dec.csv", [shipment(i, 12) for i in range(40)])
        result = lake_run(tmp_path, "2024-12-01")
        assert evaluation(result, SHIPMENTS).passed
        assert materialization(result, SHIPMENTS).metadata["profile_rows"].value == 40
        assert holder.poll() is None  # and the holder kept it the whole time
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert holder.returncode == 0


def test_thresholds_come_from_the_environment(monkeypatch):
    from orchestration.defs.lake_quality import thresholds_from_env

    for name in ("MAX_QUARANTINE_PERCENT", "MIN_ROW_RATIO", "MAX_ROW_RATIO", "MAX_NULL_RATE_INCREASE_PERCENT"):
        monkeypatch.delenv(f"LAKE_QUALITY_{name}", raising=False)
    monkeypatch.setenv("LAKE_QUALITY_MAX_QUARANTINE_PERCENT", "12.5")
    monkeypatch.setenv("LAKE_QUALITY_MAX_MEAN_SHIFT_SD", "0")
    found = thresholds_from_env()
    assert found.max_quarantine_share == 0.125 and found.max_mean_shift_sd is None
    assert (found.min_row_ratio, found.max_row_ratio, found.max_null_rate_increase) == (0.5, 5.0, 0.5)
    monkeypatch.setenv("LAKE_QUALITY_MAX_MEAN_SHIFT_SD", "8")
    assert thresholds_from_env().max_mean_shift_sd == 8
    monkeypatch.setenv("LAKE_QUALITY_MIN_ROW_RATIO", "half")
    with pytest.raises(ValueError, match="LAKE_QUALITY_MIN_ROW_RATIO must be a number, got 'half'"):
        thresholds_from_env()
