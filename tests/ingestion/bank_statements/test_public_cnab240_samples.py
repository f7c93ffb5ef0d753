"""The CNAB 240 parser on real statement files three banks wrote (Caixa, HSBC, Itaú; 2016), published in the
Apache-2.0 project anterostecnologia/anterosintegracaobancaria (tests/fixtures/bank_statements/README.md).

What each file says is read off the file itself: its batch trailer's final balance, sums of debits and credits and
record count, its number of segment E lines. The parser must agree with all of it, and each file must land
through the bank inbox with every record accounted for. Each file also carries what the demo generator never
writes: a blank line after every record (Caixa), the account's digit at position 72 instead of 71 (Itaú), a
negative final balance (Itaú, 'D'), other batch layout versions (020, 031) and bank-specific fields.
"""

import hashlib
from decimal import Decimal
from pathlib import Path

import pytest

from ingestion.bank_statements import cnab240, filedrop
from ingestion.erp.filedrop import FileStatus
from ingestion.erp.state import FileRegistry

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bank_statements"

# file -> (account key, movements, final balance, sum of debits, sum of credits), as the file's trailer writes them
SAMPLES = {
    "anteros_ext_cnab240_caixa.ret": ("104-386-3000001154-7", 8, "7093.93", "4915.23", "500.00"),
    "anteros_ext_cnab240_hsbc.ret": ("399-16-1499-2", 2, "21101.93", "5542.22", "0.00"),
    "anteros_ext_cnab240_itau.ret": ("341-3886-769-3", 15, "-33167.02", "732993.22", "520739.51"),
}


def _parse(name: str) -> cnab240.Parsed:
    data = (FIXTURES / name).read_bytes()
    return cnab240.parse(data, name, hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_real_statement_reads_as_its_trailers_say(name):
    account_key, movements, closing, debits, credits = SAMPLES[name]
    parsed = _parse(name)
    assert parsed.bad == []
    (account,) = parsed.records["accounts"]
    assert account["account_id"] == account_key
    assert account["company_cnpj"] == "85233441000196"
    rows = parsed.records["transactions"]
    assert len(rows) == movements
    assert sum(-r["signed_amount"] for r in rows if r["credit_debit_type"] == "DEBITO") == Decimal(debits)
    assert sum(r["signed_amount"] for r in rows if r["credit_debit_type"] == "CREDITO") == Decimal(credits)
    assert all(r["amount"] == abs(r["signed_amount"]) > 0 for r in rows)
    (balance,) = parsed.records["balances"]
    assert balance["ledger_amount"] == Decimal(closing)
    assert len({r["transaction_id"] for r in rows}) == movements  # every movement its own id


def test_blank_lines_between_records_are_skipped_and_lines_keep_the_files_numbers():
    """Caixa's file has an empty line after every record: the records are lines 1, 3, 5, ...; a movement's
    line_number is the line an editor shows."""
    name = "anteros_ext_cnab240_caixa.ret"
    lines = (FIXTURES / name).read_text(encoding="latin-1").split("\n")
    assert lines[1] == ""  # the file is as published
    parsed = _parse(name)
    rows = parsed.records["transactions"]
    assert [r["line_number"] for r in rows] == list(range(5, 21, 2))
    assert all(lines[r["line_number"] - 1][13] == "E" for r in rows)
    (balance,) = parsed.records["balances"]
    assert lines[balance["line_number"] - 1][7] == "5"


def test_a_missing_record_in_a_real_file_is_still_caught():
    """Blank lines are skipped, records are not: dropping one movement breaks the batch's counts and sums."""
    data = (FIXTURES / "anteros_ext_cnab240_itau.ret").read_bytes()
    lines = data.split(b"\n")
    broken = b"\n".join(line for i, line in enumerate(lines) if i != 4)  # the third movement (line 5)
    with pytest.raises(cnab240.StatementFormatError, match="trailer counts 17 records, the batch has 16"):
        cnab240.parse(broken, "broken.ret", "x")


def test_the_real_files_land_through_the_bank_inbox_with_every_record_accounted(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in SAMPLES:
        (inbox / name).write_bytes((FIXTURES / name).read_bytes())
    registry = FileRegistry(tmp_path / "state")
    results = [filedrop.process(file, registry) for file in filedrop.scan(inbox)]
    assert len(results) == 3
    for result in results:
        assert result.quarantine == []
        assert result.landed == result.records
    assert all(result.status == FileStatus.LOADED for result in results)
    by_file = {result.file.name: result for result in results}
    for name, (_, movements, *_) in SAMPLES.items():
        assert by_file[name].tables["transactions"].num_rows == movements
