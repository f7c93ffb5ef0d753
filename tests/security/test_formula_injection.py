"""Spreadsheet formulas in the data (OWASP CSV injection): kept as data in the warehouse and the lake, never a
formula in a CSV or XLSX the platform writes.

- `importau sql --csv` (a real subprocess on its own embedded warehouse): the CSV, read as a spreadsheet reads it
  (every cell typed into an openpyxl sheet), holds no formula and no cell starting with a formula trigger except
  the number -12.50; the warehouse still holds the raw values.
- The demo ERP's XLSX export (machine-to-machine: read back by the platform): no formula cell, every value
  byte-true, and the file drop lands the raw values.
- The tables the ML assets log to MLflow as CSV artifacts (for people): no formula-like cell, numbers unchanged.
"""

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
from openpyxl import Workbook, load_workbook

from ingestion.erp.filedrop import FileStatus, process, scan
from ingestion.erp.state import FileRegistry
from sandboxes.demo_company import generate
from sandboxes.demo_company.writers import write_exports

REPO_ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ['=HYPERLINK("http://x","y")', "+cmd", "-2+3", "@SUM(A1)", "\tfoo", "\rfoo", "+55 11 5555-0000", "-"]
# Not formula-like itself, but a bare CR in a CSV starts a new row in a spreadsheet, whose first cell is a formula.
EMBEDDED = "x\r=cmd"
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def importau(*args: str, data_dir: Path) -> str:
    """The command's stdout, bytes decoded as they are (no newline translation: a CR in a cell stays a CR)."""
    script = Path(sys.executable).with_name("importau")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "orchestration.cli"]
    env = {k: v for k, v in os.environ.items() if k != "CLICKHOUSE_URL"}
    env["IMPORTAU_DATA_DIR"] = str(data_dir)
    done = subprocess.run([*command, *args], cwd=REPO_ROOT, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode("utf-8")


def sql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("\t", "\\t").replace("\r", "\\r") + "'"


def as_spreadsheet(rows: list[list[str]]):
    """The cells as a spreadsheet takes them when a person opens the file: typed in, saved, opened again."""
    sheet = Workbook()
    for row in rows:
        sheet.active.append(row)
    saved = io.BytesIO()
    sheet.save(saved)
    return load_workbook(io.BytesIO(saved.getvalue())).active


def test_sql_csv_neutralises_formulas_and_the_warehouse_keeps_them(tmp_path):
    names = [*HOSTILE, EMBEDDED]
    values = ", ".join(f"('S{i}', {sql_string(name)}, -12.50, '-12.50')" for i, name in enumerate(names))
    for statement in (
        "CREATE TABLE marts.dim_supplier_probe (supplier_id String, name String, balance Decimal(18, 2), "
        "balance_text String) ENGINE = MergeTree ORDER BY supplier_id",
        f"INSERT INTO marts.dim_supplier_probe VALUES {values}",
    ):
        importau("sql", statement, data_dir=tmp_path)

    out = importau("sql", "--csv", "SELECT * FROM marts.dim_supplier_probe ORDER BY supplier_id", data_dir=tmp_path)
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert rows[0] == ["supplier_id", "name", "balance", "balance_text"]
    assert [row[1] for row in rows[1:]] == [*("'" + name for name in HOSTILE), EMBEDDED]  # OWASP: a leading quote
    assert {(row[2], row[3]) for row in rows[1:]} == {("-12.50", "-12.50")}  # numbers are not formulas
    sheet = as_spreadsheet(rows)
    assert [cell.coordinate for row in sheet.iter_rows() for cell in row if cell.data_type == "f"] == []
    starts = {cell.value for row in sheet.iter_rows() for cell in row if str(cell.value).startswith(TRIGGERS)}
    assert starts == {"-12.50"}

    raw = importau(
        "sql", "--csv", "SELECT hex(name) FROM marts.dim_supplier_probe ORDER BY supplier_id", data_dir=tmp_path
    )
    stored = [bytes.fromhex(row[0]).decode() for row in list(csv.reader(io.StringIO(raw, newline="")))[1:]]
    assert stored == names


def test_the_demo_xlsx_export_has_no_formula_and_lands_raw_values(tmp_path):
    company = generate(seed=7, scale=0.1)
    products = company.erp["products"]
    descriptions = products["description"].to_pylist()
    assert len(descriptions) >= 6
    # No CR here: XML turns a bare CR in a cell into LF when the workbook is read (openpyxl writes it unescaped),
    # so an XLSX cannot carry one byte-true; the demo ERP's values hold none.
    hostile = [value for value in HOSTILE if "\r" not in value][: len(descriptions)]
    descriptions[: len(hostile)] = hostile
    column = products.schema.get_field_index("description")
    company.erp["products"] = products.set_column(column, "description", pa.array(descriptions, pa.string()))
    write_exports(company, tmp_path / "exports")

    workbook = load_workbook(tmp_path / "exports" / "products.xlsx")
    cells = [cell for row in workbook["products"].iter_rows() for cell in row]
    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []
    header = [cell.value for cell in next(workbook["products"].iter_rows())]
    written = [row[header.index("description")] for row in workbook["products"].iter_rows(min_row=2, values_only=True)]
    assert written[: len(hostile)] == hostile  # machine-to-machine: byte-true, no quote added

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "products__probe.xlsx").write_bytes((tmp_path / "exports" / "products.xlsx").read_bytes())
    [dropped] = scan(inbox)
    result = process(dropped, FileRegistry(tmp_path / "state"))
    landed = dict(zip(result.table["sku"].to_pylist(), result.table["description"].to_pylist(), strict=True))
    skus = products["sku"].to_pylist()[: len(hostile)]
    assert result.status in (FileStatus.LOADED, FileStatus.PARTIAL)
    # landed as data, not neutralised (the ERP contract trims whitespace around every text value: `\tfoo` is `foo`)
    assert {sku: landed.get(sku) for sku in skus} == {
        sku: value.strip() for sku, value in zip(skus, hostile, strict=True)
    }


def test_ml_tables_logged_for_people_hold_no_formula(tmp_path):
    import numpy as np
    import pandas as pd
    from mlflow import MlflowClient
    from sklearn.linear_model import LinearRegression

    from ml_assets.common import tracking
    from ml_assets.common.training import TrainingResult, record_training

    store = tracking.configure(tracking.resolve_tracking(f"sqlite:///{tmp_path / 'mlflow.db'}"))
    x = pd.DataFrame({"x": np.arange(10, dtype=float)})
    ids = [*HOSTILE, EMBEDDED]
    table = pd.DataFrame({"transaction_id": ids, "rank": range(-len(ids), 0), "score": -12.5})
    result = TrainingResult(
        LinearRegression().fit(x, 2 * x["x"]), x.head(3), {"mae": 1.0}, {"mae": 1.2}, tables={"ranks": table}
    )
    tags = tracking.run_tags("formula_probe", dagster_run_id="run-0001", partition_key=None, sha="abc123")
    recorded = record_training("formula_probe", result, store, tags)

    folder = MlflowClient(store.tracking_uri).download_artifacts(recorded.version.run_id, "ranks.csv", str(tmp_path))
    rows = list(csv.reader(io.StringIO(Path(folder).read_bytes().decode("utf-8"), newline="")))
    assert [row[0] for row in rows[1:]] == [*("'" + value for value in HOSTILE), EMBEDDED]
    assert [row[1] for row in rows[1:]] == [str(rank) for rank in range(-len(ids), 0)]
    assert {row[2] for row in rows[1:]} == {"-12.5"}
    sheet = as_spreadsheet(rows)
    assert not [cell for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]
