"""CNAB 240 account statements: FEBRABAN's "Extrato de Conta Corrente para Conciliação Bancária" (service 04).

Layout: FEBRABAN, "Layout Padrão CNAB 240 posições", version 10.06 (16/03/2020), file layout version 089, the
statement batch (lote) version 033 (README.md cites where the positions were confirmed). A file is lines of
exactly 240 characters:

    0  file header      bank 1-3, batch 0000 4-7, company CNPJ 19-32, bank name 103-132, generated 144-151
    1  batch header     operation E 9, service 04 10-11, agency 53-57 (+DV 58), account 59-70 (+DV 71, else 72),
                        initial balance date 143-150, value 151-168 (2 implied decimals), D/C 169, currency 171-173
    3E detail           sequence 9-13, segment E 14, company CNPJ 19-32, agency/account as in the header,
                        nature 109-111, complement type 112-113, complement 114-133, CPMF 134, accounting date
                        135-142, posting date 143-150, value 151-168, D/C 169, category 170-172, history code
                        173-176, history 177-201, document number / complement 202-240
    5  batch trailer    blocked balance 125-142, final balance date 143-150, value 151-168, D/C 169, records in
                        the batch 171-176 (header and trailer included), sum of debits 177-194, of credits 195-212
    9  file trailer     batches 18-23, records 24-29 (every line of the file)

Dates are DDMMAAAA; values are digits with two implied decimals. `parse(data, name)` reads the file into records
of the three entities (`contracts.py`) and the per-record problems, and raises `StatementFormatError` for a file
that cannot be trusted as a whole: no/unknown file header or trailer, a batch without its header or trailer, a
count or total that disagrees with its trailer, an opening balance plus credits minus debits that is not the final
balance. A bad detail line (wrong length, unknown segment, bad date or value) is a record problem with its line
number; its value still counts toward the batch totals when it can be read, so one bad date quarantines one record,
while an unreadable value makes the totals disagree and quarantines the file. `render(...)` writes the layout (the
demo company's bank).
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from ingestion.bank_statements import contracts as c
from ingestion.common.clock import SAO_PAULO

LINE = 240
CENT = Decimal("0.01")
NOON = time(12)
FILE_LAYOUT_VERSION = "089"
BATCH_LAYOUT_VERSION = "033"
# FEBRABAN's categories of a movement (G092): what each says in Open Finance's transaction types, when the
# description has no keyword of its own (contracts.type_from_name comes first).
CATEGORY_TYPES = {
    "102": "ENCARGOS_JUROS_CHEQUE_ESPECIAL",
    "105": "TARIFA_SERVICOS_AVULSOS",
    "107": "OPERACAO_CREDITO",
    "113": "FOLHA_PAGAMENTO",
    "114": "SAQUE",
    "117": "TRANSFERENCIA_MESMA_INSTITUICAO",
    "120": "TED",
    "123": "SAQUE",
    "126": "CONVENIO_ARRECADACAO",
    "201": "DEPOSITO",
    "202": "BOLETO",
    "206": "RESGATE_APLIC_FINANCEIRA",
    "207": "OPERACAO_CREDITO",
    "209": "TED",
    "213": "TRANSFERENCIA_MESMA_INSTITUICAO",
    "214": "DEPOSITO",
    "219": "FOLHA_PAGAMENTO",
    "220": "DEPOSITO",
}


class StatementFormatError(ValueError):
    """The whole file is unusable; the message is the reason."""


@dataclass
class Parsed:
    """What a statement file holds: raw records per entity (text values, `line_number` set) and the records that
    could not be read, as (entity, raw, reason)."""

    records: dict[str, list[dict]] = field(default_factory=lambda: {e: [] for e in c.ENTITY_NAMES})
    bad: list[tuple[str, dict, str]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(rows) for rows in self.records.values()) + len(self.bad)


def _field(line: str, start: int, end: int) -> str:
    """Positions `start`..`end` as the layout numbers them (1-based, inclusive)."""
    return line[start - 1 : end]


def _date(text: str, what: str) -> date:
    if not re.fullmatch(r"\d{8}", text):
        raise ValueError(f"bad date in {what}: {text!r} is not DDMMAAAA")
    try:
        return date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError:
        raise ValueError(f"bad date in {what}: {text!r} is not a calendar date (DDMMAAAA)") from None


def _value(text: str, what: str) -> Decimal:
    if not re.fullmatch(r"\d+", text):
        raise ValueError(f"bad value in {what}: {text!r} is not digits (two implied decimals)")
    return Decimal(text) * CENT


def _int(text: str, what: str) -> int:
    if not re.fullmatch(r"\d+", text):
        raise ValueError(f"bad number in {what}: {text!r}")
    return int(text)


def _signed(value: Decimal, side: str, what: str) -> Decimal:
    if side not in ("C", "D"):
        raise ValueError(f"bad side in {what}: {side!r} (expected C or D)")
    return value if side == "C" else -value


def end_of_day(day: date) -> datetime:
    """The last millisecond of a São Paulo day, in UTC (a balance 'as of' a date)."""
    return (datetime.combine(day + timedelta(days=1), time.min, SAO_PAULO) - timedelta(milliseconds=1)).astimezone(UTC)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # banks write Latin-1 / Windows-1252; every byte decodes


@dataclass
class _Batch:
    number: int
    account: dict
    opening: Decimal
    currency: str = ""
    lines: int = 1  # its header so far
    debits: Decimal = Decimal(0)
    credits: Decimal = Decimal(0)
    unreadable: list[str] = field(default_factory=list)


def _account(line: str, number: int) -> dict:
    """The account fields of a batch header, trailer or detail (same positions), as contract text."""
    compe = _field(line, 1, 3)
    branch, number_text = _field(line, 53, 57).strip(), _field(line, 59, 70).strip()
    # The account's check digit is position 71; Itaú leaves it blank and writes its DAC (the digit of agency and
    # account together, which is the digit its customers know) at 72, FEBRABAN's "DV agência/conta" (the public
    # Itaú statement in tests/fixtures/bank_statements/).
    dv = _field(line, 71, 71).strip() or _field(line, 72, 72).strip()
    if not number_text.isdigit() or not branch.isdigit():
        raise StatementFormatError(
            f"line {number}: the agency {branch!r} / account {number_text!r} (positions 53-57, 59-70) are not digits"
        )
    branch, number_text = branch.lstrip("0") or "0", number_text.lstrip("0") or "0"
    return {
        "statement_format": "CNAB240",
        "institution": c.institution_of(compe),
        "account_id": c.account_key(compe, branch, number_text, dv or None),
        "compe_code": c.compe_of(compe),
        "branch_code": branch,
        "number": number_text,
        "check_digit": dv or None,
    }


def parse(data: bytes, name: str, sha256: str) -> Parsed:
    """The records of one CNAB 240 statement file; raises StatementFormatError for a file unusable as a whole."""
    try:
        return _parse(data, name, sha256)
    except StatementFormatError:
        raise
    except ValueError as error:  # a header or trailer number that is not digits
        raise StatementFormatError(str(error)) from None


def _holder(line: str) -> str | None:
    """The holder's CNPJ (positions 19-32) when the inscription type (18) says it is one (2); None for a CPF (1)."""
    if _field(line, 18, 18) == "1":
        return None
    return _field(line, 19, 32).strip() or None


def _parse(data: bytes, name: str, sha256: str) -> Parsed:
    text = _text(data)
    # Records as (line number in the file, text). A blank line holds no record: some banks' files put one after
    # every record (the Caixa statement in tests/fixtures/bank_statements/), and DOS tools end a file with Ctrl-Z.
    # Line numbers stay the file's own, so a message points at the line a person sees in an editor.
    physical = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = [(number, line) for number, line in enumerate(physical, start=1) if line.strip(" \x1a")]
    if not lines:
        raise StatementFormatError("empty file")
    lineage = {"source_file": name, "file_sha256": sha256}
    head_number, head = lines[0]
    if len(head) != LINE or _field(head, 8, 8) != "0":
        raise StatementFormatError(
            f"line {head_number}: not a CNAB 240 file header (record type {_field(head, 8, 8)!r}, {len(head)} "
            f"characters; expected type '0' and {LINE})"
        )
    tail_number, tail = lines[-1]
    if len(tail) != LINE or _field(tail, 8, 8) != "9":
        raise StatementFormatError(
            f"line {tail_number}: the file does not end with a file trailer (record type 9, {LINE} characters)"
        )
    company_cnpj = _holder(head)
    company_name = _field(head, 73, 102).strip() or None
    parsed = Parsed()
    accounts: dict[str, dict] = {}
    seen: Counter = Counter()  # movements read so far per identity (their occurrence number)
    batch: _Batch | None = None
    batches = 0
    problems: list[str] = []
    for number, line in lines[1:-1]:
        kind = _field(line, 8, 8) if len(line) >= 8 else ""
        if kind == "1":
            if batch is not None:
                raise StatementFormatError(f"line {number}: batch header while batch {batch.number} is open")
            if len(line) != LINE:
                raise StatementFormatError(f"line {number}: batch header of {len(line)} characters, not {LINE}")
            if _field(line, 9, 9) != "E" or _field(line, 10, 11) != "04":
                raise StatementFormatError(
                    f"line {number}: batch header of operation {_field(line, 9, 9)!r} service "
                    f"{_field(line, 10, 11)!r}; a statement batch is operation 'E', service '04'"
                )
            try:
                opening_day = _date(_field(line, 143, 150), f"line {number} initial balance date (143-150)")
                opening = _signed(
                    _value(_field(line, 151, 168), f"line {number} initial balance (151-168)"),
                    _field(line, 169, 169),
                    f"line {number} initial balance D/C (169)",
                )
            except ValueError as error:
                raise StatementFormatError(str(error)) from None
            account = _account(line, number)
            batches += 1
            batch = _Batch(_int(_field(line, 4, 7), f"line {number} batch"), account, opening)
            currency = _field(line, 171, 173).strip() or "BRL"
            known = accounts.setdefault(
                account["account_id"],
                {
                    **account,
                    "brand_name": c.brand_of(account["compe_code"]),
                    "company_cnpj": _holder(line) or company_cnpj,
                    "company_name": _field(line, 73, 102).strip() or company_name,
                    "account_type": "CONTA_DEPOSITO_A_VISTA",
                    "currency": currency,
                    "statement_start": opening_day,
                    "statement_end": opening_day,
                    "line_number": number,
                    **lineage,
                },
            )
            known["statement_start"] = min(known["statement_start"], opening_day)
            batch.currency = currency
            continue
        if batch is None:
            raise StatementFormatError(
                f"line {number}: record type {kind!r} outside a batch (no batch header before it)"
            )
        batch.lines += 1
        if kind == "5":
            if len(line) != LINE:
                raise StatementFormatError(f"line {number}: batch trailer of {len(line)} characters, not {LINE}")
            try:
                closing_day = _date(_field(line, 143, 150), f"line {number} final balance date (143-150)")
                closing = _signed(
                    _value(_field(line, 151, 168), f"line {number} final balance (151-168)"),
                    _field(line, 169, 169),
                    f"line {number} final balance D/C (169)",
                )
                blocked = _value(_field(line, 125, 142), f"line {number} blocked balance (125-142)")
                declared = _int(_field(line, 171, 176), f"line {number} record count (171-176)")
                debits = _value(_field(line, 177, 194), f"line {number} sum of debits (177-194)")
                credits = _value(_field(line, 195, 212), f"line {number} sum of credits (195-212)")
            except ValueError as error:
                raise StatementFormatError(str(error)) from None
            where = f"batch {batch.number} (trailer at line {number})"
            if declared != batch.lines:
                problems.append(f"{where}: the trailer counts {declared} records, the batch has {batch.lines}")
            unread = (
                f" ({len(batch.unreadable)} values unreadable: {'; '.join(batch.unreadable)})"
                if batch.unreadable
                else ""
            )
            if debits != batch.debits:
                problems.append(
                    f"{where}: the trailer's sum of debits is {debits}, the records sum {batch.debits}{unread}"
                )
            if credits != batch.credits:
                problems.append(
                    f"{where}: the trailer's sum of credits is {credits}, the records sum {batch.credits}{unread}"
                )
            if batch.opening + credits - debits != closing:
                problems.append(
                    f"{where}: initial balance {batch.opening} + credits {credits} - debits {debits} is "
                    f"{batch.opening + credits - debits}, the final balance is {closing}"
                )
            account = batch.account
            accounts[account["account_id"]]["statement_end"] = max(
                accounts[account["account_id"]]["statement_end"], closing_day
            )
            parsed.records["balances"].append(
                {
                    **account,
                    "balance_date": closing_day,
                    "update_datetime": end_of_day(closing_day),
                    "ledger_amount": closing,
                    "available_amount": closing,
                    "blocked_amount": blocked,
                    "currency": batch.currency,
                    "line_number": number,
                    **lineage,
                }
            )
            batch = None
            continue
        _detail(parsed, batch, line, number, lineage, seen)
    if batch is not None:
        raise StatementFormatError(f"batch {batch.number} has no trailer (record type 5) before the file trailer")
    try:
        declared_batches = _int(_field(tail, 18, 23), f"line {tail_number} batch count (18-23)")
        declared_records = _int(_field(tail, 24, 29), f"line {tail_number} record count (24-29)")
    except ValueError as error:
        raise StatementFormatError(str(error)) from None
    if declared_batches != batches:
        problems.append(f"the file trailer counts {declared_batches} batches, the file has {batches}")
    if declared_records != len(lines):
        problems.append(f"the file trailer counts {declared_records} records, the file has {len(lines)}")
    if problems:
        raise StatementFormatError("; ".join(problems))
    parsed.records["accounts"] = list(accounts.values())
    return parsed


def _detail(parsed: Parsed, batch: _Batch, line: str, number: int, lineage: dict, seen: Counter) -> None:
    """One detail line: a segment E movement, or a record problem (its value counted when it can be read)."""
    account = batch.account
    base = {**account, "transaction_id": f"line-{number}", "line_number": number, **lineage}
    side = line[168:169] if len(line) >= 169 else ""
    if len(line) != LINE:
        batch.unreadable.append(f"line {number}")
        parsed.bad.append(("transactions", base, f"a line of {len(line)} characters; CNAB 240 lines have {LINE}"))
        return
    kind, segment = _field(line, 8, 8), _field(line, 14, 14)
    if kind != "3" or segment != "E":
        parsed.bad.append(
            (
                "transactions",
                base,
                f"record type {kind!r} segment {segment!r}: a statement batch holds only segment E details (type 3)",
            )
        )
        return
    reasons = []
    value = None
    try:
        value = _value(_field(line, 151, 168), "the value (151-168)")
    except ValueError as error:
        batch.unreadable.append(f"line {number}")
        reasons.append(str(error))
    if side not in ("C", "D"):
        reasons.append(f"bad side in D/C (169): {side!r} (expected C or D)")
    elif value is not None:  # counted toward the batch totals even when another field is bad
        if side == "D":
            batch.debits += value
        else:
            batch.credits += value
    booking = accounting = None
    try:
        booking = _date(_field(line, 143, 150), "the posting date (143-150)")
    except ValueError as error:
        reasons.append(str(error))
    accounting_text = _field(line, 135, 142)
    if accounting_text.strip("0 "):
        try:
            accounting = _date(accounting_text, "the accounting date (135-142)")
        except ValueError as error:
            reasons.append(str(error))
    history = _field(line, 177, 201).strip()
    document = _field(line, 202, 240).strip()
    complement = _field(line, 114, 133).strip()
    category = _field(line, 170, 172).strip()
    history_code = _field(line, 173, 176).strip()
    name = " ".join(part for part in (history, document) if part)
    if reasons:
        parsed.bad.append(("transactions", {**base, "transaction_name": name}, "; ".join(reasons)))
        return
    tax_id, person, _ = c.find_tax_id(complement, document)
    credit_debit = "CREDITO" if side == "C" else "DEBITO"
    kind_of = c.type_from_name(history) or CATEGORY_TYPES.get(category, "OUTROS")
    # the same movement twice in a day (two equal payments) keeps two ids: the how-many-th of its kind it is
    identity = (account["account_id"], booking, side, value, history, document, complement)
    occurrence = seen[identity]
    seen[identity] += 1
    parsed.records["transactions"].append(
        {
            **base,
            "transaction_id": "CNAB-"
            + c.movement_key(
                account["account_id"], booking, side, value, history_code, history, document, complement, occurrence
            ),
            "fitid": None,
            "document_number": document or None,
            "booking_date": booking,
            "accounting_date": accounting,
            # the layout has no time of day: the posting date at noon in São Paulo (a business hour, so no rule
            # reads a time the file does not give as off-hours)
            "transaction_datetime": datetime.combine(booking, NOON, SAO_PAULO).astimezone(UTC),
            "credit_debit_type": credit_debit,
            "amount": value,
            "signed_amount": value if side == "C" else -value,
            "currency": batch.currency,
            "transaction_type": kind_of,
            "transaction_name": name or category,
            "partie_cnpj_cpf": tax_id,
            "partie_person_type": person,
            "ofx_trntype": None,
            "cnab_nature": _field(line, 109, 111).strip() or None,
            "cnab_complement_type": _field(line, 112, 113).strip() or None,
            "cnab_complement": complement or None,
            "cnab_category": category or None,
            "cnab_history_code": history_code or None,
        }
    )


# --- writing (the demo company's bank) -----------------------------------------------------------------------------


def _alpha(value: str, width: int) -> str:
    return c.ascii_upper(value)[:width].ljust(width)


def _num(value: int | str, width: int) -> str:
    text = str(value)
    if not text.isdigit() or len(text) > width:
        raise ValueError(f"{value!r} does not fit {width} digits")
    return text.zfill(width)


def _money(value: Decimal, width: int = 18) -> str:
    return _num(int((abs(value) / CENT).to_integral_value()), width)


def _ddmmyyyy(day: date) -> str:
    return f"{day:%d%m%Y}"


def _line(*parts: str) -> str:
    line = "".join(parts)
    if len(line) != LINE:
        raise AssertionError(f"a CNAB line of {len(line)} characters")
    return line


@dataclass(frozen=True)
class Movement:
    """One movement as the demo bank writes it into segment E."""

    booking_date: date
    credit_debit: str  # "C" / "D"
    amount: Decimal
    category: str  # FEBRABAN G092
    history_code: str
    history: str  # 25 characters are kept
    document: str  # 39 characters are kept
    complement_type: str = "00"
    complement: str = ""


@dataclass(frozen=True)
class Day:
    """One batch: a day's movements of one account with its opening balance."""

    day: date
    opening: Decimal
    movements: tuple[Movement, ...]


def _account_fields(branch: str, number: str, check_digit: str) -> str:
    return _num(branch, 5) + " " + _num(number, 12) + _alpha(check_digit, 1) + " "


def render(
    *,
    compe_code: str,
    bank_name: str,
    company_cnpj: str,
    company_name: str,
    branch: str,
    number: str,
    check_digit: str,
    days: list[Day],
    generated: datetime,
    file_sequence: int = 1,
) -> bytes:
    """A CNAB 240 statement file: one batch per day (header with the opening balance, one segment E per movement,
    trailer with the final balance and the day's totals), CRLF line ends, ASCII."""
    bank, company = _num(compe_code, 3), "2" + _num(company_cnpj, 14) + " " * 20
    account = _account_fields(branch, number, check_digit)
    lines = [
        _line(
            bank,
            "0000",
            "0",
            " " * 9,
            company,
            account,
            _alpha(company_name, 30),
            _alpha(bank_name, 30),
            " " * 10,
            "2",
            _ddmmyyyy(generated.date()),
            f"{generated:%H%M%S}",
            _num(file_sequence, 6),
            FILE_LAYOUT_VERSION,
            "01600",
            " " * 20,
            " " * 20,
            " " * 29,
        )
    ]
    for index, day in enumerate(days, start=1):
        batch = _num(index, 4)
        lines.append(
            _line(
                bank,
                batch,
                "1",
                "E",
                "04",
                "40",
                BATCH_LAYOUT_VERSION,
                " ",
                company,
                account,
                _alpha(company_name, 30),
                " " * 40,
                _ddmmyyyy(day.day),
                _money(day.opening),
                "C" if day.opening >= 0 else "D",
                "F",
                "BRL",
                _num(index, 5),
                " " * 62,
            )
        )
        debits = credits = Decimal(0)
        for sequence, movement in enumerate(day.movements, start=1):
            if movement.credit_debit == "D":
                debits += movement.amount
            else:
                credits += movement.amount
            lines.append(
                _line(
                    bank,
                    batch,
                    "3",
                    _num(sequence, 5),
                    "E",
                    " " * 3,
                    company,
                    account,
                    _alpha(company_name, 30),
                    " " * 6,
                    "DPV",
                    _num(movement.complement_type, 2),
                    _alpha(movement.complement, 20),
                    "S",
                    _ddmmyyyy(movement.booking_date),
                    _ddmmyyyy(movement.booking_date),
                    _money(movement.amount),
                    movement.credit_debit,
                    _num(movement.category, 3),
                    _alpha(movement.history_code, 4),
                    _alpha(movement.history, 25),
                    _alpha(movement.document, 39),
                )
            )
        closing = day.opening + credits - debits
        lines.append(
            _line(
                bank,
                batch,
                "5",
                " " * 9,
                company,
                account,
                " " * 16,
                _money(Decimal(0)),
                _money(Decimal(0)),
                _money(Decimal(0)),
                _ddmmyyyy(day.day),
                _money(closing),
                "C" if closing >= 0 else "D",
                "F",
                _num(len(day.movements) + 2, 6),
                _money(debits),
                _money(credits),
                " " * 28,
            )
        )
    lines.append(_line(bank, "9999", "9", " " * 9, _num(len(days), 6), _num(len(lines) + 1, 6), _num(1, 6), " " * 205))
    return ("\r\n".join(lines) + "\r\n").encode("ascii")
