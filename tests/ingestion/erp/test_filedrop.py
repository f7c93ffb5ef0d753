"""File drops in a local inbox: good files land stamped with their arrival, bad rows are quarantined with reasons,
identical re-drops are skipped unless another file of the entity arrived since."""

import csv
import io
import os
import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow.compute as pc
import pytest
from openpyxl import Workbook

from ingestion.erp import contracts
from ingestion.erp.filedrop import FileStatus, entity_of, process, scan
from ingestion.erp.state import FileRegistry
from sandboxes.demo_company import generate
from sandboxes.demo_company.writers import write_exports


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("exports")
    write_exports(generate(seed=42, scale=0.1), folder)
    return folder


@pytest.fixture
def inbox(tmp_path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


@pytest.fixture
def registry(tmp_path) -> FileRegistry:
    return FileRegistry(tmp_path / "state")


def _drop(exports: Path, inbox: Path, entity: str, name: str | None = None, ext: str = "csv") -> Path:
    target = inbox / (name or f"{entity}__demo.{ext}")
    shutil.copyfile(exports / f"{entity}.{ext}", target)
    return target


def _only(inbox: Path):
    [file] = scan(inbox)
    return file


def _csv_rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_entity_from_the_file_name():
    assert entity_of("purchase_orders__2025-01-02.csv") == "purchase_orders"
    assert entity_of("purchase_orders.csv") is None
    assert entity_of("orders__x.csv") is None


def test_a_good_file_lands(exports, inbox, registry):
    _drop(exports, inbox, "purchase_orders")
    file = _only(inbox)
    assert file.entity == "purchase_orders" and len(file.sha256) == 64
    landed = []
    result = process(file, registry, land=landed.append)
    expected, _ = contracts.validate("purchase_orders", _csv_rows(exports / "purchase_orders.csv"))
    assert result.status == FileStatus.LOADED and result.quarantine == []
    assert result.table.equals(contracts.with_arrival("purchase_orders", expected, result.arrived_at))
    assert result.rows == expected.num_rows > 0
    assert [r.file for r in landed] == [file]  # landed before the move
    assert (inbox / "processed" / "purchase_orders__demo.csv").exists() and scan(inbox) == []
    assert registry.get(file.sha256)["rows"] == expected.num_rows
    assert registry.get(file.sha256)["arrived_at"] == result.arrived_at.isoformat(timespec="milliseconds")
    assert FileRegistry(registry.folder).get(file.sha256)["status"] == "loaded"  # persisted


def test_bad_rows_are_quarantined_and_the_good_rows_land(exports, inbox, registry):
    rows = _csv_rows(exports / "purchase_orders.csv")
    rows[1]["order_date"] = "2024-02-30"
    rows[4]["total_amount"] = "-10.00"
    rows[6]["currency"] = "ARS"
    rows[8]["po_id"] = rows[9]["po_id"]  # two rows share a key: both are kept out
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (inbox / "purchase_orders__with_errors.csv").write_text(buffer.getvalue() + "PO-X,only,three\n")

    result = process(_only(inbox), registry)
    assert result.status == FileStatus.PARTIAL
    assert result.rows == len(rows) - 5
    bad = {rows[i]["po_id"] for i in (1, 4, 6, 8)}
    assert bad.isdisjoint(result.table["po_id"].to_pylist())
    reasons = "\n".join(record.reason for record in result.quarantine)
    assert len(result.quarantine) == 6
    for text in (
        "bad date in order_date",
        "negative value",
        "unknown value 'ARS'",
        "duplicated key",
        "3 fields, the header has",
    ):
        assert text in reasons
    assert (inbox / "processed" / "purchase_orders__with_errors.csv").exists()
    reason_file = (inbox / "quarantine" / "purchase_orders__with_errors.csv.reason.txt").read_text()
    assert "status: partial" in reason_file and f"line 3: purchase_orders po_id={rows[1]['po_id']}" in reason_file
    assert f"line {len(rows) + 2}: " in reason_file  # the short row, last line of the file
    rejected = inbox / "quarantine" / "purchase_orders__with_errors.rejected.csv"
    assert len(_csv_rows(rejected)) == 6

    # The ERP fixes the rejected rows and drops them again: they land (the short row stays bad).
    fixed = _csv_rows(rejected)[:3]
    fixed[0]["order_date"], fixed[1]["total_amount"], fixed[2]["currency"] = "2024-02-28", "10.00", "USD"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(fixed[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(fixed)
    (inbox / "purchase_orders__fixed.csv").write_text(out.getvalue())
    again = process(_only(inbox), registry)
    assert again.status == FileStatus.LOADED and again.rows == 3


def test_a_redropped_identical_file_is_skipped(exports, inbox, registry):
    _drop(exports, inbox, "payables")
    first = process(_only(inbox), registry)
    assert first.status == FileStatus.LOADED
    _drop(exports, inbox, "payables", name="payables__resent_by_the_erp.csv")
    landed = []
    second = process(_only(inbox), registry, land=landed.append)
    assert second.status == FileStatus.SKIPPED and second.table is None and landed == []
    assert "already loaded from payables__demo.csv" in second.message and first.file.sha256 in second.message
    assert (inbox / "skipped" / "payables__resent_by_the_erp.csv").exists()
    assert "already loaded" in (inbox / "skipped" / "payables__resent_by_the_erp.csv.reason.txt").read_text()
    assert scan(inbox) == [] and len(registry) == 1
    # The same name again with the same bytes: still skipped, kept under a name that does not overwrite.
    _drop(exports, inbox, "payables", name="payables__resent_by_the_erp.csv")
    assert process(_only(inbox), registry).status == FileStatus.SKIPPED
    assert len(list((inbox / "skipped").glob("payables__resent_by_the_erp.*.csv"))) == 1


def _correction(exports: Path, inbox: Path, name: str, change: dict) -> Path:
    """The first payables row again with `change` applied and the same `updated_at`, as a file of its own."""
    header, *rows = list(csv.reader(io.StringIO((exports / "payables.csv").read_text(encoding="utf-8"))))
    row = dict(zip(header, rows[0], strict=True)) | change
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    (inbox / name).write_text(out.getvalue(), encoding="utf-8")
    return inbox / name


def test_files_are_taken_in_drop_order_and_each_stamps_its_rows_with_a_later_arrival(exports, inbox, registry):
    export = _drop(exports, inbox, "payables")
    _correction(exports, inbox, "payables__a_correction.csv", {"amount": "999.0000"})
    mtime = export.stat().st_mtime
    os.utime(export, (mtime - 60, mtime - 60))  # dropped a minute before the correction, whose name sorts first
    files = scan(inbox)
    assert [f.name for f in files] == ["payables__demo.csv", "payables__a_correction.csv"]
    first, second = (process(file, registry) for file in files)
    assert first.arrived_at < second.arrived_at
    for result in (first, second):
        assert result.table.schema == contracts.lake_schema("payables")
        assert set(result.table[contracts.ARRIVED_AT].to_pylist()) == {result.arrived_at}
    [key] = second.table["payable_id"].to_pylist()
    old = first.table.filter(pc.equal(first.table["payable_id"], key))
    assert old["updated_at"].to_pylist() == second.table["updated_at"].to_pylist()  # only the arrival orders them
    assert old["amount"].to_pylist() != [Decimal("999.0000")] == second.table["amount"].to_pylist()
    recorded = FileRegistry(registry.folder)
    assert recorded.get(second.file.sha256)["arrived_at"] == second.arrived_at.isoformat(timespec="milliseconds")
    assert recorded.last_arrival() == second.arrived_at


def test_arrivals_only_increase_even_when_the_clock_steps_back(tmp_path):
    registry = FileRegistry(tmp_path / "state")
    now = datetime(2025, 3, 10, 12, 0, 0, 123456, tzinfo=UTC)
    assert registry.next_arrival(now) == datetime(2025, 3, 10, 12, 0, 0, 123000, tzinfo=UTC)  # milliseconds
    registry.record("a" * 64, {"file": "payables__x.csv", "entity": "payables", "arrived_at": now.isoformat()})
    reopened = FileRegistry(tmp_path / "state")
    one_ms_later = datetime(2025, 3, 10, 12, 0, 0, 124456, tzinfo=UTC)
    assert reopened.next_arrival(now - timedelta(hours=1)) == one_ms_later  # the clock went back an hour
    assert reopened.next_arrival(now) == one_ms_later  # the same millisecond
    assert reopened.next_arrival(now + timedelta(seconds=1)) == datetime(2025, 3, 10, 12, 0, 1, 123000, tzinfo=UTC)


def test_the_same_bytes_dropped_again_after_a_correction_load_again_and_arrive_last(exports, inbox, registry):
    _drop(exports, inbox, "payables")
    original = process(_only(inbox), registry)
    _correction(exports, inbox, "payables__fix.csv", {"amount": "999.0000"})
    fixed = process(_only(inbox), registry)
    # The correction is reverted: the original export is dropped again. Its bytes were loaded before, but a later
    # file of the entity came since, so they load again, with a new arrival that wins in staging.
    _drop(exports, inbox, "payables", name="payables__revert.csv")
    reverted = process(_only(inbox), registry)
    assert reverted.status == FileStatus.LOADED and reverted.rows == original.rows
    assert "loaded again: payables__fix.csv of the same entity arrived after it" in reverted.message
    assert original.arrived_at < fixed.arrived_at < reverted.arrived_at
    assert (inbox / "processed" / "payables__revert.csv").exists()
    # Dropped once more, the same bytes are now the latest arrival: skipped.
    _drop(exports, inbox, "payables", name="payables__revert_again.csv")
    assert process(_only(inbox), registry).status == FileStatus.SKIPPED
    # A file of another entity in between changes nothing for payables.
    _drop(exports, inbox, "suppliers")
    assert process(_only(inbox), registry).status == FileStatus.LOADED
    _drop(exports, inbox, "payables", name="payables__third.csv")
    assert process(_only(inbox), registry).status == FileStatus.SKIPPED


def test_xlsx_exports_work(exports, inbox, registry):
    _drop(exports, inbox, "products", ext="xlsx")
    result = process(_only(inbox), registry)
    expected = contracts.with_arrival("products", generate(seed=42, scale=0.1).erp["products"], result.arrived_at)
    assert result.status == FileStatus.LOADED and result.table.equals(expected)
    assert (inbox / "processed" / "products__demo.xlsx").exists()


def test_xlsx_typed_by_a_person_numbers_and_dates_as_cells(inbox, registry):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Plan1"
    names = [c.name for c in contracts.ENTITIES["products"].columns]
    sheet.append(names)
    sheet.append(["SKU-1", "Valve", "84818099", "UN", 12.5, "2024-03-01T10:00:00Z", None])
    sheet.append(["SKU-2", "Pump", "84137080", "UN", 3, "2024-03-01T10:00:00Z", None, None, None])
    sheet.append(["SKU-3", "Gear", "84834010", "KG", 1 / 3, "2024-03-01T10:00:00Z"])  # not a 4-decimal number
    workbook.save(inbox / "products__typed.xlsx")
    result = process(_only(inbox), registry)
    assert result.status == FileStatus.PARTIAL
    assert result.table["net_weight_kg"].to_pylist() == [Decimal("12.5"), Decimal("3")]
    [record] = result.quarantine
    assert "SKU-3" in record.reason and "more than 4 decimal places" in record.reason


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("orders__x.csv", b"po_id\n", "does not start with a known entity"),
        ("payables__x.txt", b"payable_id\n", "unsupported file type '.txt'"),
        ("payables__x.csv", b"\xff\xfe\x00bad", "not UTF-8 text"),
        ("payables__x.csv", b"", "empty file"),
        ("payables__x.csv", b"payable_id,colour\nP-1,red\n", "unexpected columns 'colour'"),
        ("payables__x.xlsx", b"not a zip", "not a readable XLSX workbook"),
    ],
)
def test_unusable_files_are_quarantined_whole(inbox, registry, name, content, reason):
    (inbox / name).write_bytes(content)
    result = process(_only(inbox), registry)
    assert result.status == FileStatus.QUARANTINED and result.rows == 0
    [record] = result.quarantine
    assert reason in record.reason and record.record_key == f"file={name}"
    assert (inbox / "quarantine" / name).exists()
    assert reason in (inbox / "quarantine" / f"{name}.reason.txt").read_text()
    assert len(registry) == 0  # nothing loaded, nothing recorded


def test_a_file_whose_every_row_is_bad_goes_to_quarantine(exports, inbox, registry):
    rows = _csv_rows(exports / "customers.csv")[:2]
    for row in rows:
        row["cnpj"] = "11222333000182"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (inbox / "customers__bad.csv").write_text(out.getvalue())
    result = process(_only(inbox), registry)
    assert result.status == FileStatus.QUARANTINED and len(result.quarantine) == 2
    text = (inbox / "quarantine" / "customers__bad.csv.reason.txt").read_text()
    assert text.count("wrong check digits") == 2 and "line 2:" in text and "line 3:" in text


def test_when_landing_fails_the_file_stays_for_the_next_run(exports, inbox, registry):
    _drop(exports, inbox, "shipments")

    def broken_lake(result):
        raise OSError("lake unavailable")

    with pytest.raises(OSError):
        process(_only(inbox), registry, land=broken_lake)
    assert (inbox / "shipments__demo.csv").exists() and len(registry) == 0
    assert process(_only(inbox), registry).status == FileStatus.LOADED


def test_scan_leaves_temporary_hidden_and_fresh_files_alone(exports, inbox):
    _drop(exports, inbox, "suppliers")
    for name in (".suppliers__x.csv", "_registry.json", "suppliers__x.csv.tmp", "~$products__x.xlsx"):
        (inbox / name).write_text("x")
    (inbox / "processed").mkdir()
    (inbox / "processed" / "suppliers__old.csv").write_text("x")
    assert [f.name for f in scan(inbox)] == ["suppliers__demo.csv"]
    assert scan(inbox, min_age=timedelta(hours=1)) == []  # just written: maybe still being written
