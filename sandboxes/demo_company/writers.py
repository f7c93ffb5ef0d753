"""Write the demo company: ERP file exports, the bank truth for the Open Finance sandbox, the ground truth.

ERP exports (`write_exports`): one UTF-8 CSV per entity, `,`-separated with a header, `.` as the decimal
separator, dates `YYYY-MM-DD`, timestamps ISO-8601 UTC with milliseconds (`2024-03-05T14:07:09.123Z`), empty
field = null, `\\n` line ends; exactly the text `contracts.validate` parses. Products come as an XLSX workbook
instead (sheet `products`, every cell text, so NCM leading zeros and decimals survive, and a value starting with
`=` stays that text rather than becoming a formula: `spreadsheet.text_cells_only`). These files are the ERP's,
read back by the platform, so no cell is altered (no OWASP quote: see `ingestion/common/spreadsheet.py`).
`manifest.json` lists each file with its entity, row count and SHA-256. Output is byte-identical for the same
seed and scale: nothing depends on the clock (the XLSX zip entries and document dates are pinned).
"""

import csv
import hashlib
import io
import json
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.styles import Font

from ingestion.common.spreadsheet import text_cells_only
from sandboxes.demo_company.company import DemoCompany

XLSX_ENTITIES = ("products",)
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def text(value: object) -> str:
    """The export text of one value (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _csv_bytes(table: pa.Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.column_names)
    for row in table.to_pylist():
        writer.writerow([text(row[name]) for name in table.column_names])
    return buffer.getvalue().encode("utf-8")


def _xlsx_bytes(table: pa.Table, sheet: str, stamp: datetime) -> bytes:
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    worksheet.append(table.column_names)
    for cell in worksheet[1]:
        cell.font = Font(bold=True)
    for row in table.to_pylist():
        worksheet.append([text(row[name]) for name in table.column_names])
    text_cells_only(worksheet)
    workbook.properties.creator = "Importaú ERP (demo)"
    raw = io.BytesIO()
    workbook.save(raw)
    return _pin_zip(raw.getvalue(), stamp)


def _pin_zip(data: bytes, stamp: datetime) -> bytes:
    """Rewrite an XLSX zip with fixed entry times and fixed document dates, so the bytes never vary."""
    moment = f"{stamp:%Y-%m-%dT%H:%M:%SZ}"
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for name in source.namelist():
            content = source.read(name)
            if name == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                    rb"\g<1>" + moment.encode() + rb"\g<3>",
                    content,
                )
            out.writestr(zipfile.ZipInfo(name, date_time=ZIP_EPOCH), content)
    return target.getvalue()


def _write(path: Path, data: bytes) -> dict:
    path.write_bytes(data)
    return {"file": path.name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _generator(company: DemoCompany) -> dict:
    return {
        "seed": company.seed,
        "scale": company.scale,
        "start": company.start.isoformat(),
        "end": company.end.isoformat(),
        "messiness": company.messiness,
    }


def write_exports(company: DemoCompany, folder: str | Path) -> list[Path]:
    """Write the ERP entities as file exports into `folder` (created if needed); returns the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.combine(company.end, datetime.min.time())
    files = []
    for entity, table in company.erp.items():
        if entity in XLSX_ENTITIES:
            entry = _write(folder / f"{entity}.xlsx", _xlsx_bytes(table, entity, stamp))
        else:
            entry = _write(folder / f"{entity}.csv", _csv_bytes(table))
        files.append({"entity": entity, "rows": table.num_rows, **entry})
    manifest = {
        "generator": _generator(company),
        "format": "csv: utf-8, ',' separated, '.' decimals, ISO dates, "
        "UTC ISO timestamps, empty = null; xlsx: one sheet named after the entity, text cells",
        "files": files,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return [folder / f["file"] for f in files] + [folder / "manifest.json"]


def customs_declaration_files(company: DemoCompany) -> dict[str, bytes]:
    """The broker's files of every declaration: `DI_<number>.xml` (Siscomex DI XML) or `DUIMP_<number>.json`
    (Portal Único DUIMP JSON), with the registered (true) figures; see ingestion/customs/."""
    from ingestion.customs import di_xml, duimp_json

    files = {}
    for official in company.declarations:
        header = official["declaration"]
        number = re.sub(r"[^0-9A-Z]", "", header["declaration_id"])
        if header["declaration_type"] == "DUIMP":
            files[f"DUIMP_{number}.json"] = duimp_json.render(header, official["items"], official["taxes"])
        else:
            files[f"DI_{number}.xml"] = di_xml.render(header, official["items"], official["taxes"])
    return files


def write_customs_declarations(company: DemoCompany, folder: str | Path) -> list[Path]:
    """Write the broker's declaration files (`customs_declaration_files`) into `folder`; returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in customs_declaration_files(company).items():
        _write(folder / name, data)
        paths.append(folder / name)
    return paths


def write_bank_truth(company: DemoCompany, folder: str | Path) -> list[Path]:
    """Write the bank truth (one Parquet file per table plus `manifest.json`) for the Open Finance sandbox."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for name, table in company.bank.items():
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        files.append({"table": name, "rows": table.num_rows, **_write(folder / f"{name}.parquet", sink.getvalue())})
    manifest = {"generator": _generator(company), "company": company.company, "files": files}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return [folder / f["file"] for f in files] + [folder / "manifest.json"]


def write_bank_statements(
    company: DemoCompany,
    folder: str | Path,
    formats: tuple[str, ...] = ("ofx", "cnab240"),
    per: str = "month",
    between: tuple[date, date] | None = None,
) -> list[Path]:
    """Write the company's bank statements as its banks deliver them (OFX and/or CNAB 240, one file per account and
    month or day; with OFX, one credit card statement per bill; plus `manifest.json`) from the same bank truth
    (`statements.py`); `between` keeps that period's."""
    from sandboxes.demo_company.statements import write_bank_statements as write

    return write(company, folder, formats=formats, per=per, between=between)


def write_ground_truth(company: DemoCompany, path: str | Path) -> Path:
    """Write the ground truth (matches, anomalies, ERP errors) as one JSON file, for tests and evaluation."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "generator": _generator(company),
        "warning": "evaluation only: the pipeline must never read this file",
    }
    for name, table in company.ground_truth.items():
        body[name] = [
            {k: text(v) if isinstance(v, Decimal) else v for k, v in row.items()} for row in table.to_pylist()
        ]
    path.write_text(json.dumps(body, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
