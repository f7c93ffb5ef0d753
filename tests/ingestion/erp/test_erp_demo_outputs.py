"""Writers and knobs: exports round-trip through the contracts, the same seed writes the same bytes (also in
another process with another hash seed), another seed writes other bytes, the scale grows volume linearly."""

import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
from openpyxl import load_workbook

from ingestion.erp.contracts import validate
from sandboxes.demo_company import generate
from sandboxes.demo_company.__main__ import main
from sandboxes.demo_company.bank import BANK_TABLES
from sandboxes.demo_company.writers import write_bank_truth, write_exports, write_ground_truth

REPO = Path(__file__).resolve().parents[3]


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _write_all(company, folder: Path) -> dict[str, str]:
    write_exports(company, folder / "erp_exports")
    write_bank_truth(company, folder / "bank")
    write_ground_truth(company, folder / "ground_truth.json")
    return _hashes(folder)


def test_csv_and_xlsx_exports_round_trip_through_the_contracts(company, tmp_path):
    write_exports(company, tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert {f["entity"] for f in manifest["files"]} == set(company.erp)
    for entry in manifest["files"]:
        path = tmp_path / entry["file"]
        if path.suffix == ".csv":
            with open(path, encoding="utf-8", newline="") as handle:
                rows = list(csv.DictReader(handle))
        else:
            sheet = load_workbook(path, read_only=True)[entry["entity"]]
            header, *body = list(sheet.iter_rows(values_only=True))
            rows = [{k: ("" if v is None else v) for k, v in zip(header, values, strict=True)} for values in body]
        valid, quarantine = validate(entry["entity"], rows)
        assert quarantine == [] and len(rows) == entry["rows"]
        assert valid.equals(company.erp[entry["entity"]]), entry["entity"]
    assert (tmp_path / "products.xlsx").exists() and not (tmp_path / "products.csv").exists()


def test_bank_truth_and_ground_truth_files(company, tmp_path):
    write_bank_truth(company, tmp_path / "bank")
    for name, schema in BANK_TABLES.items():
        table = pq.read_table(tmp_path / "bank" / f"{name}.parquet")
        assert table.schema.equals(schema) and table.equals(company.bank[name])
    body = json.loads(write_ground_truth(company, tmp_path / "gt.json").read_text())
    assert len(body["matches"]) == company.ground_truth["matches"].num_rows
    assert body["generator"] == {
        "seed": 42,
        "scale": 1.0,
        "start": "2024-01-01",
        "end": "2024-12-31",
        "messiness": "clean",
    }


def test_same_seed_same_bytes_other_seed_other_bytes(company, tmp_path):
    first = _write_all(company, tmp_path / "a")
    assert len(first) == 13 + 1 + 7 + 1 + 1  # 12 CSV + 1 XLSX + manifest, 7 Parquet + manifest, ground truth
    assert _write_all(generate(seed=42), tmp_path / "b") == first
    # another process with another hash seed (set and dict order must not leak into the output)
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    command = [
        sys.executable,
        "-m",
        "sandboxes.demo_company",
        "--seed",
        "42",
        "--messiness",
        "clean",
        "--out",
        str(tmp_path / "c"),
    ]
    subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True)
    assert _hashes(tmp_path / "c") == first
    other = _write_all(generate(seed=7), tmp_path / "d")
    assert set(other) == set(first)
    assert sum(other[name] != first[name] for name in first) >= len(first) - 1


def test_scale_grows_volume_linearly():
    one, two = generate(scale=1.0).row_counts(), generate(scale=2.0).row_counts()
    assert two["purchase_orders"] == 2 * one["purchase_orders"]
    for name in (
        "suppliers",
        "customers",
        "products",
        "purchase_order_lines",
        "import_declarations",
        "payables",
        "sales_invoices",
        "bank_transactions",
        "fx_operations",
    ):
        assert 1.75 <= two[name] / one[name] <= 2.25, (name, one[name], two[name])


def test_main_writes_the_three_outputs(tmp_path, capsys):
    assert main(["--scale", "0.1", "--seed", "5", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "erp_exports" / "manifest.json").exists()
    assert (tmp_path / "bank" / "bank_transactions.parquet").exists()
    assert (tmp_path / "ground_truth.json").exists()
    assert "purchase_orders" in capsys.readouterr().out
