"""ERP file drops through the platform's own path to the dbt staging views on chDB: a correction re-dropped with
the same `updated_at` wins, and re-running the month gives the same rows.

The demo company (seed 42, scale 0.1) is exported (`write_exports`: 12 CSV files and products as XLSX) and dropped
into a local inbox. Run 1 materializes `erp_file_drop` and `erp_raw_load` for December 2024 (a past month, so the
load day is 2024-12-31), in a subprocess (`tests/integration/erp_pipeline.py`). Then the ERP re-exports a payable
with one amount changed and a customer with another city, both with the SAME `updated_at` (a correction that did
not touch the change time), plus a payable with a due date before its invoice date. Run 2 lands them in the same
lake object as run 1 (`dt=2024-12-31`), and the month's raw load writes both versions with the same `_loaded_at`
and `_source_file`: only `_arrived_at` (when each file was taken from the inbox) tells them apart. The bad row is
quarantined with its reason. `importau-dbt build --select path:models/staging/erp` must show the corrections,
and every other row as exported. Run 3 re-runs the month (nothing left in the inbox): the raw rows (all but
`_loaded_at`) and the staging rows (all but `loaded_at`) must be identical to run 2's.
"""

import csv
import io
import shutil
import time
from decimal import Decimal
from pathlib import Path

import pytest

from ingestion.erp import contracts
from sandboxes.demo_company import generate
from sandboxes.demo_company.writers import write_exports
from tests.dbt.dbt_harness import query
from tests.dbt.test_erp_staging import staging_name
from tests.integration.erp_pipeline import file_drop_run
from tests.integration.erp_staging import build_and_read, raw_rows_queries, row_key, same

pytestmark = pytest.mark.integration

MONTH = "2024-12-01"
LOAD_DAY = "2024-12-31"  # the load day of a past month's run: its last day


@pytest.fixture
def workdir(tmp_path):
    """The inbox, the lake and the chDB data dir of the test, removed afterwards."""
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)


def _csv(path: Path) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
    return list(reader.fieldnames), list(reader)


def _write_csv(path: Path, header: list[str], rows: list[dict]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def test_a_redropped_correction_wins_in_staging_and_a_rerun_gives_the_same_rows(workdir):
    started = time.monotonic()
    data_dir, inbox, lake, exports = workdir / "importau", workdir / "inbox", workdir / "lake", workdir / "exports"
    company = generate(seed=42, scale=0.1)
    write_exports(company, exports)
    inbox.mkdir()
    for path in sorted(exports.iterdir()):
        if path.suffix in (".csv", ".xlsx"):
            shutil.copyfile(path, inbox / f"{path.stem}__2024-12-30{path.suffix}")

    # Run 1: the whole company.
    first = file_drop_run(data_dir, inbox, lake, MONTH)
    expected_rows = {entity: company.erp[entity].num_rows for entity in contracts.ENTITY_NAMES}
    assert first["raw_rows"] == {f"erp__{entity}": n for entity, n in expected_rows.items()}
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == sorted(
        f"{entity}__2024-12-30.{'xlsx' if entity == 'products' else 'csv'}" for entity in contracts.ENTITY_NAMES
    )

    # The ERP corrects a payable's amount and a customer's city without touching updated_at, and re-exports
    # them, with a payable whose due date is before its invoice date.
    header, payables = _csv(exports / "payables.csv")
    corrected, broken = dict(payables[3]), dict(payables[4])
    old_amount = Decimal(corrected["amount"])
    corrected["amount"] = str(old_amount + Decimal("1234.56"))
    broken["due_date"] = "2000-01-01"
    _write_csv(inbox / "payables__2024-12-31_correction.csv", header, [corrected, broken])
    customer_header, customers = _csv(exports / "customers.csv")
    moved = dict(customers[0])
    moved["city"] = "Campinas" if moved["city"] != "Campinas" else "Santos"
    _write_csv(inbox / "customers__2024-12-31_correction.csv", customer_header, [moved])

    # Run 2: the same month; the corrections land in the same lake object as run 1.
    second = file_drop_run(data_dir, inbox, lake, MONTH)
    assert second["lake"]["erp__payables"] == {"rows": 1, "quarantined": 1}
    assert second["lake"]["erp__customers"] == {"rows": 1, "quarantined": 0}
    assert second["raw_rows"]["erp__payables"] == expected_rows["payables"] + 1
    assert second["raw_rows"]["erp__customers"] == expected_rows["customers"] + 1
    reason = (inbox / "quarantine" / "payables__2024-12-31_correction.csv.reason.txt").read_text()
    assert f"line 3: payables payable_id={broken['payable_id']}" in reason and "due_date" in reason
    assert (inbox / "processed" / "payables__2024-12-31_correction.csv").exists()
    assert sorted(p.name for p in (lake / "erp" / "payables").iterdir()) == [f"dt={LOAD_DAY}"]

    dbt_seconds: list[float] = []
    after_run_2 = build_and_read(data_dir, dbt_seconds, raw_rows_queries())

    # In raw both versions of the payable share updated_at, _loaded_at (one INSERT) and _source_file (one lake
    # object); the correction arrived later.
    versions = [row for row in after_run_2["raw__payables"] if row["payable_id"] == corrected["payable_id"]]
    assert len(versions) == 2
    assert versions[0]["updated_at"] == versions[1]["updated_at"]
    assert versions[0]["_source_file"] == versions[1]["_source_file"]
    assert versions[0]["_source_file"].endswith(f"erp/payables/dt={LOAD_DAY}/part-000.parquet")
    assert [Decimal(v["amount"]) for v in versions] == [old_amount, Decimal(corrected["amount"])]  # by arrival
    assert versions[0]["_arrived_at"] < versions[1]["_arrived_at"]
    where = f"payable_id = '{corrected['payable_id']}'"
    loaded = query(data_dir, loaded=f"SELECT uniqExact(_loaded_at) AS n FROM raw.erp__payables WHERE {where}")
    assert loaded["loaded"] == [{"n": 1}]

    # Staging: the corrections win; the quarantined row left its payable as it was; everything else as exported.
    staging = {entity: after_run_2[entity] for entity in contracts.ENTITY_NAMES}
    by_key = {entity: {row_key(entity, row): row for row in rows} for entity, rows in staging.items()}
    payable = by_key["payables"][(corrected["payable_id"],)]
    assert Decimal(payable["amount"]) == old_amount + Decimal("1234.56")
    assert payable["arrived_at"] == versions[1]["_arrived_at"]
    assert Decimal(by_key["payables"][(broken["payable_id"],)]["amount"]) == Decimal(broken["amount"])
    assert by_key["customers"][(moved["customer_id"],)]["city"] == moved["city"]
    for entity in contracts.ENTITY_NAMES:
        rows = by_key[entity]
        assert len(rows) == len(staging[entity]) == expected_rows[entity], entity
        for want in company.erp[entity].to_pylist():
            key = row_key(entity, want)
            if (entity, key) in {("payables", (corrected["payable_id"],)), ("customers", (moved["customer_id"],))}:
                continue
            got = rows[key]
            for column, value in want.items():
                assert same(value, got[staging_name(entity, column)]), (entity, key, column, value, got)

    # Run 3: the month again, nothing in the inbox. Same raw rows (but _loaded_at), same staging (but loaded_at).
    third = file_drop_run(data_dir, inbox, lake, MONTH)
    assert third["raw_rows"] == second["raw_rows"]
    assert all(landed == {"rows": 0, "quarantined": 0} for landed in third["lake"].values())
    after_run_3 = build_and_read(data_dir, dbt_seconds, raw_rows_queries())
    for name, rows in after_run_2.items():
        if name.startswith("raw__"):
            assert after_run_3[name] == rows, name
        else:
            assert [{k: v for k, v in row.items() if k != "loaded_at"} for row in after_run_3[name]] == [
                {k: v for k, v in row.items() if k != "loaded_at"} for row in rows
            ], name
    print(
        f"ERP file drop -> lake -> raw -> staging, three runs of {MONTH}: {time.monotonic() - started:.1f}s "
        f"(dbt builds {', '.join(f'{s:.1f}s' for s in dbt_seconds)})"
    )
