"""Bank statement files: the OFX and CNAB 240 parsers on a real public OFX and on the demo generator's files, bad
files and bad records quarantined with their reason, the inbox rules (a re-dropped file lands nothing twice, every
record read is landed or quarantined)."""

import hashlib
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ingestion.bank_statements import cnab240, contracts, filedrop, ofx
from ingestion.bank_statements.cnab240 import StatementFormatError
from ingestion.erp.filedrop import FileStatus
from ingestion.erp.state import FileRegistry

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bank_statements"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def company():
    from sandboxes.demo_company import generate
    from sandboxes.demo_company.messiness import apply

    return apply(generate(seed=42, scale=0.2), "realistic")


@pytest.fixture(scope="module")
def files(company):
    from sandboxes.demo_company.statements import statement_files

    return statement_files(company)


def _truth(company) -> tuple[dict, dict]:
    """(count and sum per account key and month, balance at the end of each day per account key)."""
    accounts = {a["account_id"]: a for a in company.bank["bank_accounts"].to_pylist()}
    keys = {
        account_id: contracts.account_key(a["compe_code"], a["branch_code"], a["number"], a["check_digit"])
        for account_id, a in accounts.items()
    }
    months: dict = defaultdict(lambda: [0, Decimal(0)])
    moved: dict = defaultdict(Decimal)
    for row in company.bank["bank_transactions"].to_pylist():
        signed = row["amount"] if row["credit_debit_type"] == "CREDITO" else -row["amount"]
        bucket = months[(keys[row["account_id"]], f"{row['booking_date']:%Y-%m}")]
        bucket[0] += 1
        bucket[1] += signed
        moved[(keys[row["account_id"]], row["booking_date"])] += signed
    return {k: tuple(v) for k, v in months.items()}, {
        (keys[a], day): accounts[a]["opening_balance"]
        + sum((v for (k, d), v in moved.items() if k == keys[a] and d <= day), Decimal(0))
        for a in accounts
        for day in (date(2024, 3, 31), date(2024, 12, 31))
    }


# --- the public OFX sample -------------------------------------------------------------------------------------


def test_the_public_ofxparse_sample_reads_with_its_account_balances_and_types():
    data = (FIXTURES / "ofxparse_bank_medium.ofx").read_bytes()
    parsed = ofx.parse(data, "bank_medium.ofx", _sha(data))
    valid, quarantine = filedrop.validate(parsed)
    assert quarantine == []
    (account,) = valid["accounts"]
    assert (account["compe_code"], account["number"], account["currency"]) == ("160000100", "12300000012345678", "CAD")
    (balance,) = valid["balances"]
    assert (balance["ledger_amount"], balance["available_amount"]) == (Decimal("382.34"), Decimal("682.34"))
    rows = valid["transactions"]
    assert [r["transaction_id"] for r in rows] == [
        "0000123456782009040100001",
        "0000123456782009040200004",
        "0000123456782009040300005",
    ]
    assert [r["signed_amount"] for r in rows] == [Decimal("-6.60"), Decimal("-316.67"), Decimal("-22.00")]
    assert [r["transaction_type"] for r in rows] == ["CARTAO", "OUTROS", "CARTAO"]  # POS, CHECK, POS
    # 12:20:17 at -5 (EST) is 17:20:17 UTC, a São Paulo date of the same day
    assert rows[0]["transaction_datetime"] == datetime(2009, 4, 1, 17, 20, 17, tzinfo=UTC)
    assert rows[0]["booking_date"] == date(2009, 4, 1)
    assert [r["line_number"] for r in rows] == [15, 16, 17]


# --- the demo generator's files round-trip to the bank truth ------------------------------------------------------


def test_both_formats_round_trip_to_the_bank_truth_per_account_and_month(company, files):
    months, balances = _truth(company)
    for extension, parser in ((".ofx", ofx.parse), (".ret", cnab240.parse)):
        seen: dict = defaultdict(lambda: [0, Decimal(0)])
        closing: dict = {}
        for name, data in files.items():
            if not name.endswith(extension):
                continue
            valid, quarantine = filedrop.validate(parser(data, name, _sha(data)))
            assert quarantine == [], name
            for row in valid["transactions"]:
                bucket = seen[(row["account_id"], f"{row['booking_date']:%Y-%m}")]
                bucket[0] += 1
                bucket[1] += row["signed_amount"]
            for row in valid["balances"]:
                closing[(row["account_id"], row["balance_date"])] = row["available_amount"]
        assert {k: tuple(v) for k, v in seen.items()} == months, extension
        for key, expected in balances.items():
            assert closing[key] == expected, (extension, key)


def test_the_counterparty_tax_id_and_type_survive_both_formats(company, files):
    truth = {r["transaction_id"]: r for r in company.bank["bank_transactions"].to_pylist()}
    ofx_rows = [
        row
        for name, data in files.items()
        if name.endswith(".ofx")
        for row in filedrop.validate(ofx.parse(data, name, _sha(data)))[0]["transactions"]
    ]
    assert len(ofx_rows) == len(truth)
    for row in ofx_rows:  # the OFX FITID is the truth's id
        expected = truth[row["transaction_id"]]
        assert row["partie_cnpj_cpf"] == expected["partie_cnpj_cpf"]
        assert row["transaction_name"] == expected["transaction_name"]
        if not expected["transaction_name"].startswith("DEVOLUCAO TED"):  # a returned PIX the truth names TED
            assert row["transaction_type"] == expected["type"], expected["transaction_name"]
    cnab_rows = [
        row
        for name, data in files.items()
        if name.endswith(".ret")
        for row in filedrop.validate(cnab240.parse(data, name, _sha(data)))[0]["transactions"]
    ]
    by_side = defaultdict(int)
    for row in cnab_rows:
        by_side[(row["transaction_type"], row["partie_cnpj_cpf"] is not None)] += 1
    expected_side = defaultdict(int)
    for row in truth.values():
        kind = "TED" if row["transaction_name"].startswith("DEVOLUCAO TED") else row["type"]
        expected_side[(kind, row["partie_cnpj_cpf"] is not None)] += 1
    assert by_side == expected_side


def test_the_demo_writes_the_same_bytes_again(company, files):
    from sandboxes.demo_company.statements import statement_files

    assert statement_files(company) == files
    assert set(statement_files(company, formats=("cnab240",), per="day")) >= {
        next(n for n in files if n.endswith(".ret")).replace("_2024-01.ret", "_2024-01-01.ret")
    }


def test_a_period_gives_that_periods_files_of_the_whole_run(company, files):
    """`importau demo --start 2024-12-01` drops December's statements only, as Open Finance pulls December only; the
    files are those of the whole year, so the first one opens on the account's real balance that day."""
    from datetime import date

    from sandboxes.demo_company.statements import statement_files

    december = statement_files(company, between=(date(2024, 12, 1), date(2024, 12, 31)))
    assert december and set(december) == {name for name in files if "_2024-12." in name}
    assert december == {name: files[name] for name in december}
    # a period inside a month gives that month's files (statements are monthly); disjoint from the year: none
    assert set(statement_files(company, between=(date(2024, 3, 10), date(2024, 4, 2)))) == {
        name for name in files if "_2024-03." in name or "_2024-04." in name
    }
    assert statement_files(company, between=(date(2025, 1, 1), date(2025, 1, 31))) == {}


# --- bad files and bad records --------------------------------------------------------------------------------


def _cnab(files) -> tuple[str, list[str]]:
    name = next(n for n in sorted(files) if n.endswith(".ret") and "2024-03" in n)
    return name, files[name].decode("ascii").split("\r\n")[:-1]


def _bytes(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def _detail_index(lines: list[str]) -> int:
    return next(i for i, line in enumerate(lines) if line[7] == "3" and line[13] == "E")


def _read(name: str, data: bytes, tmp_path) -> filedrop.FileResult:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / name).write_bytes(data)
    (file,) = filedrop.scan(inbox)
    return filedrop.process(file, FileRegistry(tmp_path / "state"))


def _accounted(result: filedrop.FileResult) -> None:
    assert result.landed + len(result.quarantine) == result.records


def test_a_batch_trailer_whose_totals_disagree_quarantines_the_whole_file(files, tmp_path):
    name, lines = _cnab(files)
    trailer = next(i for i, line in enumerate(lines) if line[7] == "5" and line[176:194].strip("0"))
    debits = int(lines[trailer][176:194]) + 1
    lines[trailer] = lines[trailer][:176] + f"{debits:018d}" + lines[trailer][194:]
    result = _read(name, _bytes(lines), tmp_path)
    assert result.status == FileStatus.QUARANTINED and result.landed == 0
    assert f"(trailer at line {trailer + 1}): the trailer's sum of debits is" in result.quarantine[0].reason
    assert (tmp_path / "inbox" / "quarantine" / f"{name}.reason.txt").exists()
    _accounted(result)


def test_a_balance_that_does_not_add_up_quarantines_the_whole_file(files, tmp_path):
    name, lines = _cnab(files)
    trailer = next(i for i, line in enumerate(lines) if line[7] == "5")
    closing = int(lines[trailer][150:168]) + 100
    lines[trailer] = lines[trailer][:150] + f"{closing:018d}" + lines[trailer][168:]
    result = _read(name, _bytes(lines), tmp_path)
    assert result.status == FileStatus.QUARANTINED
    assert "initial balance" in result.quarantine[0].reason and "the final balance is" in result.quarantine[0].reason


def test_a_detail_line_of_the_wrong_length_makes_the_totals_unverifiable(files, tmp_path):
    name, lines = _cnab(files)
    index = _detail_index(lines)
    lines[index] = lines[index][:239]
    result = _read(name, _bytes(lines), tmp_path)
    assert result.status == FileStatus.QUARANTINED
    assert f"values unreadable: line {index + 1}" in result.quarantine[0].reason
    with pytest.raises(StatementFormatError, match="values unreadable"):
        cnab240.parse(_bytes(lines), name, "0" * 64)


def _recount(lines: list[str], batch_trailer: int, added: int) -> list[str]:
    """Add `added` records to a batch trailer's count (171-176) and to the file trailer's (24-29)."""
    line = lines[batch_trailer]
    lines[batch_trailer] = line[:170] + f"{int(line[170:176]) + added:06d}" + line[176:]
    tail = lines[-1]
    lines[-1] = tail[:23] + f"{int(tail[23:29]) + added:06d}" + tail[29:]
    return lines


def test_an_unknown_segment_is_one_quarantined_record_with_its_line(files, tmp_path):
    name, lines = _cnab(files)
    index = _detail_index(lines)
    lines.insert(index + 1, lines[index][:13] + "Z" + lines[index][14:])
    trailer = next(i for i in range(index + 1, len(lines)) if lines[i][7] == "5")
    result = _read(name, _bytes(_recount(lines, trailer, 1)), tmp_path)
    assert result.status == FileStatus.PARTIAL
    (bad,) = result.quarantine
    assert bad.reason.startswith(f"line {index + 2}: transactions ")
    assert "segment 'Z': a statement batch holds only segment E" in bad.reason
    assert result.rows["transactions"] == sum(1 for line in lines if line[7] == "3" and line[13] == "E")
    _accounted(result)
    text = (tmp_path / "inbox" / "quarantine" / f"{name}.reason.txt").read_text()
    assert f"line {index + 2}:" in text and (tmp_path / "inbox" / "processed" / name).exists()


def test_a_bad_posting_date_is_one_quarantined_record_the_rest_lands(files, tmp_path):
    name, lines = _cnab(files)
    index = _detail_index(lines)
    lines[index] = lines[index][:142] + "31022024" + lines[index][150:]
    result = _read(name, _bytes(lines), tmp_path)
    assert result.status == FileStatus.PARTIAL
    (bad,) = result.quarantine
    assert bad.reason.startswith(f"line {index + 1}: transactions ")
    assert "bad date in the posting date (143-150): '31022024' is not a calendar date" in bad.reason
    _accounted(result)


def test_an_ofx_transaction_with_a_bad_date_is_quarantined_with_its_line(files, tmp_path):
    name = next(n for n in sorted(files) if n.endswith(".ofx") and "2024-03" in n)
    text = files[name].decode("cp1252")
    lines = text.split("\r\n")
    index = next(i for i, line in enumerate(lines) if line.startswith("<DTPOSTED>"))
    lines[index] = "<DTPOSTED>20241345120000[-3:BRT]"
    result = _read(name, "\r\n".join(lines).encode("cp1252"), tmp_path)
    assert result.status == FileStatus.PARTIAL
    (bad,) = result.quarantine
    assert bad.reason.startswith(f"line {index - 1}: transactions ")  # the line its <STMTTRN> starts on (1-based)
    assert "STMTTRN is not valid OFX" in bad.reason
    _accounted(result)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("statement.ofx", b"<html>not a statement</html>", "not a readable OFX file"),
        ("statement.pdf", b"%PDF-1.4", "unsupported file type '.pdf'"),
        ("statement.ret", b"", "empty file"),
        ("statement.ret", b"x" * 240 + b"\r\n", "not a CNAB 240 file header"),
    ],
)
def test_unusable_files_are_quarantined_whole_with_their_reason(tmp_path, name, data, reason):
    result = _read(name, data, tmp_path)
    assert result.status == FileStatus.QUARANTINED and result.landed == 0
    (record,) = result.quarantine
    assert record.record_key == f"file={name}" and reason in record.reason
    assert reason in (tmp_path / "inbox" / "quarantine" / f"{name}.reason.txt").read_text()


# --- the inbox rules ---------------------------------------------------------------------------------------------


def test_a_redropped_file_lands_nothing_twice_whatever_its_name(files, tmp_path):
    inbox, registry = tmp_path / "inbox", FileRegistry(tmp_path / "state")
    inbox.mkdir()
    name = next(n for n in sorted(files) if n.endswith(".ret"))
    landed: list[filedrop.FileResult] = []
    (inbox / name).write_bytes(files[name])
    (first,) = [filedrop.process(f, registry, landed.append) for f in filedrop.scan(inbox)]
    assert first.status == FileStatus.LOADED and first.landed == first.records > 0
    (inbox / f"copy_of_{name}").write_bytes(files[name])
    (second,) = [filedrop.process(f, registry, landed.append) for f in filedrop.scan(inbox)]
    assert second.status == FileStatus.SKIPPED and second.landed == 0
    assert len(landed) == 1  # `land` was not called for the re-drop
    assert (inbox / "skipped" / f"copy_of_{name}").exists()
    assert name in (inbox / "skipped" / f"copy_of_{name}.reason.txt").read_text()


def test_an_account_breaking_the_contract_takes_its_records_with_it(files):
    name, lines = _cnab(files)
    bad_cnpj = "20274604000199"  # wrong check digits
    lines = [line[:18] + bad_cnpj + line[32:] if line[7] == "1" else line for line in lines]
    parsed = cnab240.parse(_bytes(lines), name, "0" * 64)
    valid, quarantine = filedrop.validate(parsed)
    assert valid["accounts"] == [] and valid["transactions"] == [] and valid["balances"] == []
    assert len(quarantine) == parsed.count
    assert all("wrong check digits" in q.reason for q in quarantine)


def test_tax_ids_are_taken_written_out_or_bare_with_valid_digits():
    assert contracts.find_tax_id("PIX ENVIADO FULANO 47.010.258/0001-01") == (
        "47010258000101",
        "PESSOA_JURIDICA",
        "47.010.258/0001-01",
    )
    assert contracts.find_tax_id("DOC 12345678901234") == (None, None, None)  # bare, wrong digits: a number
    assert contracts.find_tax_id("PIX 52998224725")[:2] == ("52998224725", "PESSOA_FISICA")
    assert contracts.account_key("0341", "02424", "000069250536", "7") == "341-2424-69250536-7"


def test_a_cnab_movement_is_dated_at_noon_in_sao_paulo_and_a_cpf_holder_is_no_cnpj(files):
    name, lines = _cnab(files)
    parsed = cnab240.parse(_bytes(lines), name, "0" * 64)
    row = parsed.records["transactions"][0]
    assert row["transaction_datetime"].hour == 15  # 12:00 at -03:00
    cpf_lines = [line[:17] + "1" + "000" + "52998224725" + line[32:] if line[7] in "01" else line for line in lines]
    valid, quarantine = filedrop.validate(cnab240.parse(_bytes(cpf_lines), name, "0" * 64))
    assert quarantine == [] and valid["accounts"][0]["company_cnpj"] is None


def test_a_header_number_that_is_not_digits_quarantines_the_file(files):
    name, lines = _cnab(files)
    lines[1] = lines[1][:3] + "00X1" + lines[1][7:]
    with pytest.raises(StatementFormatError, match="bad number in line 2 batch"):
        cnab240.parse(_bytes(lines), name, "0" * 64)


def test_daily_statements_round_trip_too(company):
    from sandboxes.demo_company.statements import statement_files

    months, _ = _truth(company)
    daily = statement_files(company, formats=("cnab240", "ofx"), per="day")
    assert len(daily) == 2 * 2 * 366  # two accounts, two formats, every day of 2024
    for extension, parser in ((".ofx", ofx.parse), (".ret", cnab240.parse)):
        seen: dict = defaultdict(lambda: [0, Decimal(0)])
        for name, data in daily.items():
            if name.endswith(extension):
                valid, quarantine = filedrop.validate(parser(data, name, _sha(data)))
                assert quarantine == [], name
                for row in valid["transactions"]:
                    bucket = seen[(row["account_id"], f"{row['booking_date']:%Y-%m}")]
                    bucket[0] += 1
                    bucket[1] += row["signed_amount"]
        assert {k: tuple(v) for k, v in seen.items()} == months, extension
