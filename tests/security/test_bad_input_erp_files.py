"""Bad ERP files name their cause (issue 13), and every row dropped is either landed or quarantined.

File drops go through the real path: `filedrop.scan` + `filedrop.process` into a local inbox and registry, and
once through the `erp_file_drop` asset itself (Dagster, a folder lake). A `;`- or tab-delimited export is
quarantined saying which separator it looks like; a cell over the csv field limit quarantines its row only (the
good rows land, a multi-line quoted cell keeps the line numbers right).
"""

import csv
import io
import json
from datetime import date
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from ingestion.common.lake import LocalLake
from ingestion.erp.filedrop import FIELD_LIMIT, FileStatus, process, scan
from ingestion.erp.state import FileRegistry
from orchestration.defs.erp import erp_file_drop
from orchestration.resources.erp import ErpResource
from orchestration.resources.lake import LakeResource
from sandboxes.demo_company import generate
from sandboxes.demo_company.writers import write_exports

BIG = 1_048_576  # a 1 MB cell, as in the probe
MONTH, DAY = "2024-12-01", date(2024, 12, 31)  # a past month: the asset's load day is its last day


# --- ERP file drops --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def customers(tmp_path_factory) -> list[list[str]]:
    """The demo company's customers export (header first), as the ERP writes it."""
    folder = tmp_path_factory.mktemp("exports")
    write_exports(generate(seed=42, scale=0.1), folder)
    rows = list(csv.reader(io.StringIO((folder / "customers.csv").read_text(encoding="utf-8"), newline="")))
    assert len(rows) > 8
    return rows


@pytest.fixture
def inbox(tmp_path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def _write(path: Path, rows: list[list[str]], delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    path.write_bytes(data)
    return data


def _run_inbox(inbox: Path, registry_folder: Path):
    """What `erp_file_drop` does with its inbox: scan, then process each file (landing through a callback)."""
    registry, landed = FileRegistry(registry_folder), []
    results = [process(file, registry, land=landed.append) for file in scan(inbox)]
    return results, landed


@pytest.mark.parametrize(("delimiter", "shown"), [(";", "';'"), ("\t", "tab")])
def test_a_csv_with_another_delimiter_is_quarantined_naming_it(customers, inbox, tmp_path, delimiter, shown):
    name = "customers__2024-12-31.csv"
    dropped = _write(inbox / name, customers, delimiter)
    # beside it, a comma export whose header is wrong: that one is not blamed on the delimiter
    renamed = ["nome" if column == "name" else column for column in customers[0]]
    _write(inbox / "customers__renamed.csv", [renamed, *customers[1:]])

    [result, other], landed = _run_inbox(inbox, tmp_path / "state")

    expected = f"{name}: looks like {shown}-delimited; this entity expects ','"
    assert result.status == FileStatus.QUARANTINED and result.entity == "customers"
    [record] = result.quarantine
    assert record.reason.startswith(expected), record.reason
    assert "customers exports are comma-separated" in record.reason
    assert f"the header is exactly {len(customers[0])} customers columns" in record.reason
    assert "unexpected columns" not in record.reason
    assert record.record_key == f"file={name}" and record.entity == "customers"
    # nothing landed; every row is kept, unchanged, in the quarantined file
    assert [r.rows for r in landed] == [0, 0] and result.rows == 0
    assert (inbox / "quarantine" / name).read_bytes() == dropped and not (inbox / name).exists()
    assert expected in (inbox / "quarantine" / f"{name}.reason.txt").read_text(encoding="utf-8")
    [other_record] = other.quarantine
    assert other.status == FileStatus.QUARANTINED
    assert "unexpected columns 'nome'" in other_record.reason and "delimited" not in other_record.reason


def _oversized_export(customers: list[list[str]]) -> tuple[list[list[str]], dict[str, int]]:
    """The customers export with, in file order: a name spanning three lines (lines 3-5), a 1 MB name that itself
    spans two lines (6-7), a wrong CNPJ check digit (line 8). Returns the rows and the expected start lines."""
    header, body = customers[0], [list(row) for row in customers[1:]]
    name, cnpj = header.index("name"), header.index("cnpj")
    body[1][name] = "Oliveira\nMáquinas\nLtda"
    body[2][name] = "x" * (BIG // 2) + "\n" + "y" * (BIG // 2)
    body[3][cnpj] = body[3][cnpj][:-1] + str((int(body[3][cnpj][-1]) + 1) % 10)
    lines = {"multi_line": 3, "oversized": 6, "bad_cnpj": 8, "last": 8 + len(body) - 4}
    return [header, *body], lines


def test_a_cell_over_the_field_limit_quarantines_its_row_only(customers, inbox, tmp_path):
    rows, lines = _oversized_export(customers)
    header, body = rows[0], rows[1:]
    name = "customers__2024-12-31.csv"
    _write(inbox / name, rows)

    [result], landed = _run_inbox(inbox, tmp_path / "state")

    assert result.status == FileStatus.PARTIAL, result.message
    ids = [row[0] for row in body]
    oversized, bad_cnpj = result.quarantine
    assert oversized.record_key == f"customer_id={ids[2]}" and bad_cnpj.record_key == f"customer_id={ids[3]}"
    # the reason names the limit, the row (the line it starts on) and the column
    assert str(FIELD_LIMIT) == "131072"
    assert f"line {lines['oversized']}, column 'name'" in oversized.reason
    assert f"{BIG + 1} characters, over the field limit of 131072 characters" in oversized.reason
    assert "only this row is quarantined" in oversized.reason and len(oversized.reason) < 500
    assert "check digits" in bad_cnpj.reason
    # every row in = landed + quarantined; the good rows (the multi-line name intact) land
    assert result.rows + len(result.quarantine) == len(body)
    assert [r.rows for r in landed] == [len(body) - 2]
    landed_names = dict(zip(*result.table.select(["customer_id", "name"]).to_pydict().values(), strict=True))
    assert sorted(landed_names) == sorted(ids[:2] + ids[4:])
    assert landed_names[ids[1]] == "Oliveira\nMáquinas\nLtda"
    assert result.message == f"partial: {len(body) - 2} of {len(body)} rows landed, 2 quarantined"
    # the reasons file numbers each bad row by the line it starts on; the rejected rows are kept as dropped
    reasons = (inbox / "quarantine" / f"{name}.reason.txt").read_text(encoding="utf-8")
    assert f"line {lines['oversized']}: customers customer_id={ids[2]}: the cell at line" in reasons
    assert f"line {lines['bad_cnpj']}: customers customer_id={ids[3]}: " in reasons
    rejected = (inbox / "quarantine" / "customers__2024-12-31.rejected.csv").read_text(encoding="utf-8")
    assert rejected.startswith(",".join(header) + "\n" + ids[2] + ",") and rows[3][1] in rejected
    assert (inbox / "processed" / name).exists()


def test_a_row_past_the_header_and_over_the_limit_names_both(customers, inbox, tmp_path):
    header, body = customers[0], [list(row) for row in customers[1:]]
    body[0].append("z" * (FIELD_LIMIT + 1))  # one field too many, and that field too long
    _write(inbox / "customers__extra.csv", [header, *body])

    [result], _ = _run_inbox(inbox, tmp_path / "state")

    [record] = result.quarantine
    assert result.status == FileStatus.PARTIAL and result.rows + 1 == len(body)
    assert f"{len(header) + 1} fields, the header has {len(header)}" in record.reason
    assert f"line 2, column {len(header) + 1} (past the header) is {FIELD_LIMIT + 1} characters" in record.reason


def test_the_erp_file_drop_asset_lands_and_quarantines_with_these_reasons(customers, tmp_path):
    """The same two files through the Dagster asset: metadata, lake rows and lake quarantine add up."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rows, lines = _oversized_export(customers)
    _write(inbox / "customers__1_semicolon.csv", customers, ";")
    _write(inbox / "customers__2_oversized.csv", rows)
    resources = {
        "erp": ErpResource(inbox_dir=str(inbox), data_dir=str(tmp_path)),
        "lake": LakeResource(url=str(tmp_path / "lake"), data_dir=str(tmp_path)),
    }

    run = dg.materialize([erp_file_drop], partition_key=MONTH, resources=resources)

    assert run.success
    [metadata] = [
        m.metadata
        for m in run.asset_materializations_for_node("erp_file_drop")
        if m.asset_key == dg.AssetKey(["lake", "erp__customers"])
    ]
    body = len(rows) - 1
    assert metadata["row_count"].value == body - 2 and metadata["quarantined"].value == 1 + 2
    lake = LocalLake(tmp_path / "lake")
    assert pq.read_table(tmp_path / "lake" / lake.partition_path("erp", "customers", DAY)).num_rows == body - 2
    reasons = lake.read_quarantine("erp", "customers", DAY).to_pylist()
    assert len(reasons) == 3
    assert reasons[0]["reason"].startswith("customers__1_semicolon.csv: looks like ';'-delimited; this entity expects")
    assert f"line {lines['oversized']}, column 'name'" in reasons[1]["reason"] and "131072" in reasons[1]["reason"]
    assert json.loads(reasons[1]["payload"])[1].startswith("x" * 100)  # the row as dropped
