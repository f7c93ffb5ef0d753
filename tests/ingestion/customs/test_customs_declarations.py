"""The official declarations as a source: the DI XML and DUIMP JSON parsers, their contract, the file drop.

The DI XML is validated on a file in the public Siscomex export's shape (tests/fixtures/customs/, its sources in
ingestion/customs/README.md) and on the demo generator's own exports; bad files and bad records are quarantined
with their reason, and every record read is landed or quarantined.
"""

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from ingestion.customs import contracts, di_xml, duimp_json, filedrop
from ingestion.customs.di_xml import DeclarationFormatError
from ingestion.erp import parsed_filedrop
from ingestion.erp.folders import LocalFolder
from ingestion.erp.state import FileRegistry
from sandboxes.demo_company import generate
from sandboxes.demo_company.writers import customs_declaration_files

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "customs" / "di_public_shape.xml"


@pytest.fixture(scope="module")
def company():
    return generate(seed=42, scale=1.0)


@pytest.fixture(scope="module")
def files(company):
    return customs_declaration_files(company)


def _parse(name: str, data: bytes) -> list[dict]:
    return (di_xml.parse if name.endswith(".xml") else duimp_json.parse)(data, name)


# --- the DI XML in the public export's shape ---------------------------------------------------------------------


def test_the_public_shape_di_is_read_with_its_fixed_point_numbers():
    [parsed] = di_xml.parse(FIXTURE.read_bytes(), FIXTURE.name)
    valid, quarantine, records = filedrop.validate([parsed])
    assert quarantine == [] and records == 1 + 1 + 5
    [header] = valid["declarations"]
    assert header["declaration_id"] == "23/0012074-6"  # numeroDI 2300120746, the ERP's spelling
    assert header["version"] == 1  # sequencialRetificacao 00
    assert str(header["registration_date"]) == "2023-01-02"
    assert header["customs_unit"] == "0120100" and header["currency"] == "USD"  # moeda 220
    assert header["freight_brl"] == Decimal("4000.00") and header["insurance_brl"] == Decimal("1000.00")
    assert header["exchange_rate"] is None  # the DI XML carries no rate field
    [item] = valid["declaration_items"]
    # 15 digits in centavos, 5 digits in hundredths of a percent, worked by hand:
    # base 100,000.00; II 16 % = 16,000.00; IPI 9.75 % of 116,000.00 = 11,310.00; PIS 2.10 %; COFINS 9.65 %
    assert item["customs_value_brl"] == Decimal("100000.00")
    assert (item["ii_rate_pct"], item["ipi_rate_pct"]) == (Decimal("16.00"), Decimal("9.75"))
    assert (item["ii_brl"], item["ipi_brl"]) == (Decimal("16000.00"), Decimal("11310.00"))
    assert (item["pis_brl"], item["cofins_brl"]) == (Decimal("2100.00"), Decimal("9650.00"))
    paid = {row["tax"]: row["amount_brl"] for row in valid["taxes_paid"]}
    assert paid == {
        "II": Decimal("16000.00"),
        "IPI": Decimal("11310.00"),
        "PIS": Decimal("2100.00"),
        "COFINS": Decimal("9650.00"),
        "SISCOMEX_FEE": Decimal("154.23"),
    }
    # what the Receita debited is what the additions computed
    assert sum(item[f"{t}_brl"] for t in ("ii", "ipi", "pis", "cofins")) == sum(paid.values()) - paid["SISCOMEX_FEE"]


# --- the generator's own exports ---------------------------------------------------------------------------------


def test_every_generated_declaration_reads_back_exactly(company, files):
    assert {name.split("_")[0] for name in files} == {"DI", "DUIMP"}, "the demo must export both formats"
    assert len(files) == len(company.declarations)
    by_id = {d["declaration"]["declaration_id"]: d for d in company.declarations}
    for name, data in files.items():
        [parsed] = _parse(name, data)
        valid, quarantine, _ = filedrop.validate([parsed])
        assert quarantine == [], name
        [header] = valid["declarations"]
        expected = by_id[header["declaration_id"]]
        for field, value in expected["declaration"].items():
            if field == "exchange_rate" and header["source_format"] == "DI_XML":
                assert header[field] is None
            else:
                assert header[field] == value, (name, field)
        assert valid["declaration_items"] == [{**item} for item in expected["items"]], name
        assert valid["taxes_paid"] == [
            {**tax, "revenue_code": di_xml.CODE_OF_TAX[tax["tax"]]} for tax in expected["taxes"]
        ]


def test_the_declarations_carry_the_registered_figures_not_the_erps_mistakes(company):
    """Each planted ERP error differs from the ERP's copy; the official declaration holds the correct value."""
    official = {d["declaration"]["declaration_id"]: d for d in company.declarations}
    errors = company.ground_truth["erp_errors"].to_pylist()
    assert errors, "the demo plants ERP errors"
    federal = {
        "ii_brl": "II",
        "ipi_brl": "IPI",
        "pis_brl": "PIS",
        "cofins_brl": "COFINS",
        "siscomex_fee_brl": "SISCOMEX_FEE",
    }
    checked = 0
    for error in errors:
        if error["field"] not in federal:
            continue
        paid = {t["tax"]: t["amount_brl"] for t in official[error["declaration_id"]]["taxes"]}
        assert paid[federal[error["field"]]] == Decimal(error["correct_value"]) != Decimal(error["recorded_value"])
        checked += 1
    assert checked >= 5


def test_a_duimp_is_15_characters_written_with_the_erps_hyphen(files):
    name, data = next((n, d) for n, d in files.items() if n.startswith("DUIMP"))
    document = json.loads(data)
    number = document["identificacao"]["numero"]
    assert len(number) == 15 and number[2:4] == "BR"
    [parsed] = duimp_json.parse(data, name)
    assert parsed["declaration"]["declaration_id"] == f"{number[:14]}-{number[14]}"
    assert isinstance(document["itens"][0]["valorAduaneiroBRL"], float | int)  # a JSON number, read as Decimal
    assert isinstance(parsed["items"][0]["customs_value_brl"], Decimal)


# --- bad files and bad records -----------------------------------------------------------------------------------


def _drop(tmp_path: Path, name: str, data: bytes) -> tuple[filedrop.FileResult, Path]:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / name).write_bytes(data)
    registry = FileRegistry(tmp_path / "state")
    [file] = [f for f in filedrop.scan(inbox) if f.name == name]
    return filedrop.process(file, registry), inbox


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("DI_broken.xml", b"<ListaDeclaracoes><declaracaoImportacao>", "not well-formed XML"),
        ("DI_other.xml", b"<nfeProc><NFe/></nfeProc>", "no DI in the file: the root is <nfeProc>"),
        ("DUIMP_broken.json", b'{"identificacao": ', "not valid JSON"),
        ("DUIMP_other.json", b'{"numero": "24BR12345678901"}', "with an 'identificacao' object"),
        ("DI_2300120746.pdf", b"%PDF-1.4", "unsupported file type '.pdf'"),
    ],
)
def test_an_unreadable_file_is_quarantined_whole_with_its_reason(tmp_path, name, data, reason):
    result, inbox = _drop(tmp_path, name, data)
    assert result.status == filedrop.FileStatus.QUARANTINED
    assert result.landed == 0 and len(result.quarantine) == 1 == result.records
    assert reason in result.quarantine[0].reason and name in result.quarantine[0].reason
    assert (inbox / "quarantine" / name).exists()
    assert reason in (inbox / "quarantine" / f"{name}.reason.txt").read_text()
    assert not (inbox / name).exists()


def test_a_bad_value_quarantines_its_record_only_naming_the_column(tmp_path):
    data = FIXTURE.read_bytes().replace(b"<iiBaseCalculo>000000010000000", b"<iiBaseCalculo>0000000100O0000")
    result, inbox = _drop(tmp_path, "DI_2300120746.xml", data)
    assert result.status == filedrop.FileStatus.PARTIAL
    [record] = result.quarantine
    assert record.entity == "declaration_items"
    assert "customs_value_brl" in record.reason and "0000000100O0000" in record.reason
    assert result.rows == {"declarations": 1, "declaration_items": 0, "taxes_paid": 5}
    assert result.landed + len(result.quarantine) == result.records == 7
    assert (inbox / "processed" / "DI_2300120746.xml").exists()
    assert "customs_value_brl" in (inbox / "quarantine" / "DI_2300120746.xml.reason.txt").read_text()


def test_a_bad_header_takes_its_items_and_payments_to_quarantine(tmp_path):
    data = FIXTURE.read_bytes().replace(b"12345678000195", b"12345678000199")  # wrong check digits
    result, inbox = _drop(tmp_path, "DI_2300120746.xml", data)
    assert result.status == filedrop.FileStatus.QUARANTINED
    assert len(result.quarantine) == result.records == 7 and result.landed == 0
    assert "CNPJ" in result.quarantine[0].reason
    assert all("its declaration is quarantined" in q.reason for q in result.quarantine[1:])
    assert (inbox / "quarantine" / "DI_2300120746.xml").exists()


def test_a_revenue_code_of_another_tax_is_refused(tmp_path):
    data = FIXTURE.read_bytes().replace(b"<codigoReceita>1038</codigoReceita>", b"<codigoReceita>9999</codigoReceita>")
    result, _ = _drop(tmp_path, "DI_2300120746.xml", data)
    [record] = result.quarantine
    assert record.entity == "taxes_paid" and "9999" in record.reason


def test_the_same_bytes_again_are_skipped_and_a_failed_land_leaves_the_file(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    registry = FileRegistry(tmp_path / "state")
    (inbox / "DI_a.xml").write_bytes(FIXTURE.read_bytes())

    def failing(result):
        raise OSError("lake unavailable")

    [file] = filedrop.scan(inbox)
    with pytest.raises(OSError):
        filedrop.process(file, registry, failing)
    assert (inbox / "DI_a.xml").exists() and len(registry) == 0

    landed = []
    assert filedrop.process(file, registry, landed.append).status == filedrop.FileStatus.LOADED
    assert landed[0].tables["declarations"].schema == contracts.lake_schema("declarations")
    (inbox / "DI_b.xml").write_bytes(FIXTURE.read_bytes())
    [again] = filedrop.scan(inbox)
    result = filedrop.process(again, registry)
    assert result.status == filedrop.FileStatus.SKIPPED and "DI_a.xml" in result.message
    assert (inbox / "skipped" / "DI_b.xml").exists()


def test_a_file_of_the_generator_lands_every_record(tmp_path, files):
    name, data = next(iter(files.items()))
    result, _ = _drop(tmp_path, name, data)
    assert result.status == filedrop.FileStatus.LOADED
    assert result.landed == result.records and result.quarantine == []
    arrivals = {table.column(contracts.ARRIVED_AT)[0].as_py() for table in result.tables.values() if table.num_rows}
    assert arrivals == {result.arrived_at}


def test_render_refuses_an_amount_the_xml_cannot_hold():
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        di_xml._digits(Decimal("1.005"), 2, 15)


def test_a_non_declaration_root_is_a_format_error():
    with pytest.raises(DeclarationFormatError):
        di_xml.parse(b"<a/>", "x.xml")


def test_a_duimp_payment_of_an_unknown_tax_is_quarantined_alone(tmp_path, files):
    name, data = next((n, d) for n, d in files.items() if n.startswith("DUIMP"))
    document = json.loads(data, parse_float=Decimal)
    document["tributos"]["pagamentos"][0].update(tributo="XYZ", codigoReceita="0086")
    text = json.dumps(document, default=str)  # amounts as strings: accepted, read as Decimal
    result, _ = _drop(tmp_path, name, text.encode("utf-8"))
    assert result.status == filedrop.FileStatus.PARTIAL
    [record] = result.quarantine
    assert record.entity == "taxes_paid" and "unknown value 'XYZ' in tax" in record.reason
    assert result.landed + 1 == result.records


# --- many files: landed in batches -------------------------------------------------------------------------------


class CountingFolder(LocalFolder):
    """A real local folder that counts the writes of each name (the registry's JSON is rewritten per batch)."""

    def __init__(self, root):
        super().__init__(root)
        self.writes: dict[str, int] = {}

    def write(self, name, data):
        self.writes[name] = self.writes.get(name, 0) + 1
        return super().write(name, data)


def _inbox_of(tmp_path: Path, files: dict[str, bytes], count: int) -> tuple[Path, list[str]]:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    names = sorted(files)[:count]
    for i, name in enumerate(names):  # modification times in name order: scan's (arrival) order
        (inbox / name).write_bytes(files[name])
        os.utime(inbox / name, (1_700_000_000 + i, 1_700_000_000 + i))
    return inbox, names


def test_many_files_land_in_batches_in_order_with_one_registry_write_per_batch(tmp_path, files, monkeypatch):
    monkeypatch.setattr(parsed_filedrop, "BATCH_FILES", 4)
    inbox, names = _inbox_of(tmp_path, files, 9)
    (inbox / "zz_broken.xml").write_bytes(b"<ListaDeclaracoes>")  # quarantined whole
    (inbox / "zz_copy.json").write_bytes(files[names[0]])  # the first file's bytes again: skipped
    for i, name in enumerate(["zz_broken.xml", "zz_copy.json"]):
        os.utime(inbox / name, (1_700_000_100 + i, 1_700_000_100 + i))
    state = CountingFolder(tmp_path / "state")
    batches: list[list[str]] = []

    results = filedrop.process_many(
        filedrop.scan(inbox), FileRegistry(state), lambda batch: batches.append([r.file.name for r in batch])
    )
    assert [r.file.name for r in results] == [*names, "zz_broken.xml", "zz_copy.json"]
    assert batches == [names[0:4], names[4:8], [names[8], "zz_broken.xml"]]  # the skipped file is never landed
    assert state.writes == {"file_registry.json": 3}  # once per batch, not once per file
    loaded = results[:9]
    assert all(r.status == filedrop.FileStatus.LOADED and r.landed == r.records for r in loaded)
    arrivals = [r.arrived_at for r in loaded]
    assert arrivals == sorted(arrivals) and len(set(arrivals)) == 9  # strictly increasing though recorded later
    assert results[9].status == filedrop.FileStatus.QUARANTINED
    assert results[10].status == filedrop.FileStatus.SKIPPED and names[0] in results[10].message
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == names
    assert [p.name for p in inbox.iterdir() if p.is_file()] == []
    reopened = FileRegistry(tmp_path / "state")
    assert len(reopened) == 9 and reopened.last_arrival() == arrivals[-1]
    alone = filedrop.read(loaded[5].file, files[names[5]], FileRegistry(tmp_path / "other"))
    assert _without_arrival(loaded[5]) == _without_arrival(alone)  # a batch lands what one file alone lands


def _without_arrival(result: filedrop.FileResult) -> dict:
    return {e: t.drop_columns([contracts.ARRIVED_AT]).to_pylist() for e, t in result.tables.items()}


def test_the_same_bytes_twice_in_one_batch_are_skipped_against_the_first_after_it_landed(tmp_path, files):
    inbox, names = _inbox_of(tmp_path, files, 2)
    (inbox / "copy.json").write_bytes(files[names[0]])
    os.utime(inbox / "copy.json", (1_700_000_100, 1_700_000_100))
    batches = []
    results = filedrop.process_many(filedrop.scan(inbox), FileRegistry(tmp_path / "state"), batches.append)
    assert [[r.file.name for r in batch] for batch in batches] == [names]  # the copy waited, then was skipped
    assert [r.status for r in results] == [filedrop.FileStatus.LOADED] * 2 + [filedrop.FileStatus.SKIPPED]
    assert names[0] in results[2].message and (inbox / "skipped" / "copy.json").exists()


def test_a_failed_batch_leaves_its_files_in_the_inbox_and_the_next_run_lands_them_once(tmp_path, files, monkeypatch):
    monkeypatch.setattr(parsed_filedrop, "BATCH_FILES", 3)
    inbox, names = _inbox_of(tmp_path, files, 7)
    landed: list[str] = []

    def lake_fails_on_the_second_batch(batch):
        if landed:
            raise OSError("lake unavailable")
        landed.extend(r.file.name for r in batch)

    with pytest.raises(OSError, match="lake unavailable"):
        filedrop.process_many(filedrop.scan(inbox), FileRegistry(tmp_path / "state"), lake_fails_on_the_second_batch)
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == names[:3]
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == names[3:]
    registry = FileRegistry(tmp_path / "state")
    assert len(registry) == 3

    again = filedrop.process_many(
        filedrop.scan(inbox), registry, lambda batch: landed.extend(r.file.name for r in batch)
    )
    assert [r.status for r in again] == [filedrop.FileStatus.LOADED] * 4
    assert landed == names  # each file landed exactly once over the two runs
    assert len(FileRegistry(tmp_path / "state")) == 7


def test_a_batch_also_ends_when_its_records_reach_the_bound(tmp_path, files, monkeypatch):
    inbox, names = _inbox_of(tmp_path, files, 6)
    sizes = {}
    for file in filedrop.scan(inbox):
        sizes[file.name] = filedrop.read(file, files[file.name], FileRegistry(tmp_path / "probe")).records
    bound = sizes[names[0]] + sizes[names[1]]  # the first batch closes on its second file
    monkeypatch.setattr(parsed_filedrop, "BATCH_RECORDS", bound)
    batches = []
    filedrop.process_many(filedrop.scan(inbox), FileRegistry(tmp_path / "state"), batches.append)
    assert [r.file.name for r in batches[0]] == names[:2]
    assert [r.file.name for batch in batches for r in batch] == names
    assert all(sum(r.records for r in batch[:-1]) < bound for batch in batches)
