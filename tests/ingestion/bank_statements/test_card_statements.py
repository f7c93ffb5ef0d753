"""OFX credit card statements (CREDITCARDMSGSRSV1 / CCSTMTRS) in the bank inbox: a real public sample (a US Chase
export) and a file of our own in the shape of Nubank's (tests/fixtures/bank_statements/README.md), the demo generator's
card statements against the card truth, and bad card files quarantined with their reason under the inbox rules
(every record read is landed or quarantined; the same bytes never land twice)."""

import hashlib
import warnings
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from ingestion.bank_statements import filedrop, ofx
from ingestion.erp.filedrop import FileStatus
from ingestion.erp.state import FileRegistry

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bank_statements"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _valid(name: str, data: bytes) -> dict[str, list[dict]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ofxtools warns that Nubank's ACCTID is longer than OFX's 22 characters
        valid, quarantine = filedrop.validate(ofx.parse(data, name, _sha(data)))
    assert quarantine == [], [q.reason for q in quarantine]
    return valid


@pytest.fixture(scope="module")
def company():
    from sandboxes.demo_company import generate

    return generate(seed=42, scale=0.5)


@pytest.fixture(scope="module")
def card_files(company) -> dict[str, bytes]:
    from sandboxes.demo_company.statements import card_statement_files

    return card_statement_files(company)


# --- real public samples -------------------------------------------------------------------------------------------


def test_a_nubank_shaped_card_statement_reads_whole_and_its_movements_add_up_to_its_balance():
    """Our own file in the shape of Nubank's card export (README of the fixtures: not the public sample itself)."""
    valid = _valid("nubank.ofx", (FIXTURES / "nubank_shaped_cc.ofx").read_bytes())
    assert valid["accounts"] == valid["transactions"] == []
    (card,) = valid["card_accounts"]
    # an opaque ACCTID (a UUID) names no card number, and the file names no bank (no SONRS/FI)
    assert card["card_account_id"] == "6f1c2a90-0d3e-4b8e-9a51-3c2f7e1d0000"
    assert (card["card_last4"], card["compe_code"], card["institution"]) == (None, None, "unknown_issuer")
    assert (card["statement_start"], card["statement_end"]) == (date(2024, 11, 15), date(2024, 11, 25))
    # BANKTRANLIST is never closed: its LEDGERBAL is still the card's balance
    assert card["ledger_amount"] == Decimal("-1723.83")
    rows = valid["card_transactions"]
    assert len(rows) == 5
    assert sum(row["signed_brazilian_amount"] for row in rows) == card["ledger_amount"]
    assert {(row["credit_debit_type"], row["transaction_type"], row["currency"]) for row in rows} == {
        ("DEBITO", "PAGAMENTO", "BRL")
    }
    # `[-3:GMT]` midnight is that São Paulo day
    assert [row["transaction_date"] for row in rows] == [date(2024, 11, 18)] * 2 + [date(2024, 11, 19)] + [
        date(2024, 11, 21)
    ] * 2
    assert rows[0]["transaction_id"] == "6f1c2a90-0d3e-4b8e-9a51-3c2f7e1d0a01" and rows[0]["line_number"] == 40


def test_the_public_chase_card_statement_names_its_card_and_issuer():
    valid = _valid("chase_cc.ofx", (FIXTURES / "ofxparse_chase_cc.qfx").read_bytes())
    (card,) = valid["card_accounts"]
    assert (card["card_last4"], card["compe_code"], card["institution"], card["currency"]) == (
        "0123",
        None,  # FID 10898 is no COMPE code
        "fi_b1",
        "USD",
    )
    assert (card["ledger_amount"], card["available_amount"]) == (Decimal("-10.00"), Decimal("90.00"))
    (row,) = valid["card_transactions"]
    assert (row["signed_brazilian_amount"], row["brazilian_currency"], row["transaction_name"]) == (
        Decimal("-10.00"),
        "USD",
        "SQ *ECCO UN POCO ¦ NATURA",
    )


# --- the demo company's card statements ----------------------------------------------------------------------------


def test_the_demo_card_statements_give_every_card_movement_of_the_truth_once(company, card_files):
    truth = {p["transaction_id"]: p for p in company.bank["card_transactions"].to_pylist()}
    (card,) = company.bank["card_accounts"].to_pylist()
    seen: dict[str, dict] = {}
    for name, data in card_files.items():
        valid = _valid(name, data)
        (account,) = valid["card_accounts"]
        assert (account["card_last4"], account["compe_code"], account["institution"]) == (
            card["identification_number"],
            "341",
            "bank_341",
        )
        assert account["ledger_amount"] == sum(r["signed_brazilian_amount"] for r in valid["card_transactions"])
        for row in valid["card_transactions"]:
            assert row["transaction_id"] not in seen, f"{row['transaction_id']} in two statements"
            seen[row["transaction_id"]] = row
    iof = {f"{tid}-IOF": p for tid, p in truth.items() if p["iof_amount"]}
    assert set(seen) == set(truth) | set(iof)
    for tid, purchase in truth.items():
        row = seen[tid]
        assert row["signed_brazilian_amount"] == -purchase["brazilian_amount"]
        assert (row["amount"], row["currency"]) == (purchase["amount"], purchase["currency"])  # USD back to the cent
        assert (row["payee_mcc"], row["transaction_type"]) == (purchase["payee_mcc"], "PAGAMENTO")
        assert row["transaction_datetime"] == purchase["transaction_datetime"]
    for tid, purchase in iof.items():
        assert (seen[tid]["signed_brazilian_amount"], seen[tid]["transaction_type"]) == (
            -purchase["iof_amount"],
            "OUTROS",
        )
    assert any(p["currency"] == "USD" for p in truth.values())


def test_a_closed_bills_statement_owes_the_bills_total(company, card_files):
    """Each closed bill's statement: from the day after the previous closing to its closing day, its LEDGERBAL minus
    the bill's total; the bill still open on the company's last day is a statement up to that day."""
    bills = company.bank["card_bills"].to_pylist()
    closed = {b["closing_date"]: b for b in bills if b["closing_date"] <= company.end}
    statements = {}
    for name, data in card_files.items():
        (account,) = _valid(name, data)["card_accounts"]
        statements[account["statement_end"]] = account
    assert set(statements) == set(closed) | ({company.end} if len(bills) > len(closed) else set())
    for closing, bill in closed.items():
        assert statements[closing]["ledger_amount"] == -bill["total_amount"], closing
    ends = sorted(statements)
    for before, after in zip(ends, ends[1:], strict=False):
        assert statements[after]["statement_start"] == before.fromordinal(before.toordinal() + 1)


def test_the_demo_writes_card_statements_with_the_ofx_ones_and_a_period_keeps_its_bills(company, card_files, tmp_path):
    from sandboxes.demo_company.statements import card_statement_files, write_bank_statements

    written = {path.name for path in write_bank_statements(company, tmp_path / "ofx", formats=("ofx",))}
    assert set(card_files) <= written
    assert not set(card_files) & {path.name for path in write_bank_statements(company, tmp_path / "cnab", ("cnab240",))}
    december = card_statement_files(company, between=(date(2024, 12, 1), date(2024, 12, 31)))
    assert december == {name: data for name, data in card_files.items() if name in december}
    # the bill closing in December (the business day before the 26th) and the one still open on 31/12
    closing = max(b["closing_date"] for b in company.bank["card_bills"].to_pylist() if b["closing_date"].month == 12)
    assert {name[-14:-4] for name in december} == {closing.isoformat(), "2024-12-31"}


# --- bad card files --------------------------------------------------------------------------------------------------


def _drop(name: str, data: bytes, tmp_path: Path, registry: FileRegistry | None = None) -> filedrop.FileResult:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / name).write_bytes(data)
    (file,) = filedrop.scan(inbox)
    result = filedrop.process(file, registry or FileRegistry(tmp_path / "state"))
    assert result.landed + len(result.quarantine) == result.records  # every record in is landed or quarantined
    return result


def _a_statement(card_files) -> tuple[str, list[str]]:
    name = next(n for n in sorted(card_files) if "_2024-03-" in n)
    return name, card_files[name].decode("cp1252").split("\r\n")


def _encode(lines: list[str]) -> bytes:
    return "\r\n".join(lines).encode("cp1252")


def test_a_card_movement_with_a_bad_amount_is_one_quarantined_record_the_rest_lands(card_files, tmp_path):
    name, lines = _a_statement(card_files)
    index = next(i for i, line in enumerate(lines) if line.startswith("<TRNAMT>"))
    lines[index] = "<TRNAMT>12,34.5"
    result = _drop(name, _encode(lines), tmp_path)
    assert result.status == FileStatus.PARTIAL
    (bad,) = result.quarantine
    start = max(i for i in range(index) if lines[i] == "<STMTTRN>") + 1
    assert bad.entity == "card_transactions" and bad.reason.startswith(f"line {start}: card_transactions ")
    assert "STMTTRN is not valid OFX" in bad.reason
    assert result.rows["card_accounts"] == 1 and result.rows["card_transactions"] == result.records - 2
    assert f"line {start}:" in (tmp_path / "inbox" / "quarantine" / f"{name}.reason.txt").read_text()
    assert (tmp_path / "inbox" / "processed" / name).exists()


def test_a_card_whose_balance_is_unreadable_takes_its_movements_to_quarantine(card_files, tmp_path):
    name, lines = _a_statement(card_files)
    index = lines.index("<LEDGERBAL>")
    lines[index + 1] = "<BALAMT>owed"
    result = _drop(name, _encode(lines), tmp_path)
    assert result.status == FileStatus.QUARANTINED and result.landed == 0
    card, *movements = result.quarantine
    assert card.entity == "card_accounts" and "LEDGERBAL/AVAILBAL is not valid OFX" in card.reason
    assert movements and all(
        m.entity == "card_transactions" and "its account is quarantined (LEDGERBAL/AVAILBAL" in m.reason
        for m in movements
    )
    text = (tmp_path / "inbox" / "quarantine" / f"{name}.reason.txt").read_text()
    assert "all" in text and "records break the contract" in text


def test_a_card_statement_without_its_card_is_quarantined_whole(card_files, tmp_path):
    name, lines = _a_statement(card_files)
    start = lines.index("<CCACCTFROM>")
    del lines[start : start + 3]
    result = _drop(name, _encode(lines), tmp_path)
    assert result.status == FileStatus.QUARANTINED
    (whole,) = result.quarantine
    assert whole.record_key == f"file={name}"
    assert "a credit card statement (CCSTMTRS) without CCACCTFROM" in whole.reason


def test_a_card_movement_breaking_the_contract_is_quarantined_with_its_reason(card_files, tmp_path):
    name, lines = _a_statement(card_files)
    index = next(i for i, line in enumerate(lines) if line.startswith("<SIC>"))
    lines[index] = "<SIC>-5"  # an MCC is never negative
    result = _drop(name, _encode(lines), tmp_path)
    assert result.status == FileStatus.PARTIAL
    (bad,) = result.quarantine
    assert "payee_mcc" in bad.reason and bad.record_key.startswith("card_account_id=************")


def test_a_redropped_card_statement_lands_nothing_twice(card_files, tmp_path):
    name = sorted(card_files)[0]
    registry = FileRegistry(tmp_path / "state")
    first = _drop(name, card_files[name], tmp_path, registry)
    assert first.status == FileStatus.LOADED and first.message.startswith("loaded: 1 card_accounts, ")
    again = _drop(f"again_{name}", card_files[name], tmp_path, registry)
    assert again.status == FileStatus.SKIPPED and again.landed == 0


def test_card_numbers_are_read_from_a_card_like_acctid_only():
    assert ofx.card_last4("5502 09** **** 1234") == "1234"
    assert ofx.card_last4("************8897") == "8897"
    assert ofx.card_last4("4111111111111111") == "1111"
    assert ofx.card_last4("11111111-UUID-UUID-UUID-111111111111") is None
    assert ofx.card_last4("1234") is None  # too short to be a card number
    assert ofx.card_type("IOF COMPRA INTERNACIONAL", "FEE") == "OUTROS"
    assert ofx.card_type("ESTORNO LOJA X", "CREDIT") == "ESTORNO"
    assert ofx.card_type("ANUIDADE", "DEBIT") == "TARIFA"
    assert ofx.card_type("AWS EMEA", "DEBIT") == "PAGAMENTO"
    assert ofx.card_type("PAGAMENTO RECEBIDO", "PAYMENT") == "OUTROS"


def test_a_file_with_a_bank_and_a_card_statement_lands_both(card_files):
    """One OFX may carry BANKMSGSRSV1 and CREDITCARDMSGSRSV1: each statement's movements keep their own lines."""
    bank = (FIXTURES / "ofxparse_bank_medium.ofx").read_text("cp1252")
    _, card = _a_statement(card_files)
    card_part = card[card.index("<CREDITCARDMSGSRSV1>") : card.index("</CREDITCARDMSGSRSV1>") + 1]
    text = bank.replace("</BANKMSGSRSV1>", "</BANKMSGSRSV1>\n" + "\n".join(card_part) + "\n")
    valid = _valid("both.ofx", text.encode("cp1252"))
    assert len(valid["accounts"]) == 1 and len(valid["transactions"]) == 3
    assert len(valid["card_accounts"]) == 1 and len(valid["card_transactions"]) == card_part.count("<STMTTRN>")
    starts = [number for number, line in enumerate(text.split("\n"), 1) for _ in range(line.count("<STMTTRN>"))]
    got = [row["line_number"] for row in valid["transactions"]] + [r["line_number"] for r in valid["card_transactions"]]
    assert got == starts
