"""OFX bank statements, read with ofxtools (OFX 1.x SGML and 2.x XML, as Brazilian banks export them).

`parse(data, name, sha256)` reads every bank statement (`STMTRS`) of the file: the account (`BANKACCTFROM`), one
balance row from `LEDGERBAL` (and `AVAILBAL` when present) and one transaction per `STMTTRN`. The file itself is
parsed by `ofxtools.Parser.OFXTree` (header, SGML or XML); each aggregate is then converted on its own
(`Aggregate.from_etree`), so a transaction with a bad date or amount is one record problem, with the line its
`<STMTTRN>` starts on, and the file's other records still land. A file ofxtools cannot read, or with no bank
statement, is unusable as a whole (`StatementFormatError`). OFX has no trailer totals to check.

Mapping (also in dbt_project/models/staging/bank_statement/_bank_statement__models.yml):
- account: `BANKID` is the COMPE code (`0341` -> `341`), `BRANCHID` the branch, `ACCTID` the number with its check
  digit after the last `-` (`13772361-7`); `ACCTTYPE` CHECKING -> CONTA_DEPOSITO_A_VISTA, SAVINGS -> CONTA_POUPANCA.
- transaction: `FITID` is the id; `TRNAMT` the signed amount (negative = DEBITO); `DTPOSTED` the posting instant
  (with its `[-3:BRT]` offset; without one, the wall time is São Paulo's, as Brazilian banks mean it), its São
  Paulo date the booking date; `MEMO` (else `NAME`) the description; the counterparty's CNPJ/CPF is the first one
  written out, else bare with valid check digits (`contracts.find_tax_id`), in MEMO then NAME, and its text is
  taken out of the description; the type is a keyword of the description (`PIX`, `TED`, ...) else `TRNTYPE`
  (FEE/SRVCHG tariff, INT/DIV yield, ATM/CASH withdrawal, DEP deposit, POS card, XFER TED), else OUTROS.
"""

import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

from ofxtools.models.base import Aggregate
from ofxtools.Parser import OFXTree
from ofxtools.Types import DateTime

from ingestion.bank_statements import contracts as c
from ingestion.bank_statements.cnab240 import Parsed, StatementFormatError
from ingestion.common.clock import SAO_PAULO

TRNTYPE_TYPES = {
    "FEE": "TARIFA_SERVICOS_AVULSOS",
    "SRVCHG": "TARIFA_SERVICOS_AVULSOS",
    "INT": "RENDIMENTO_APLIC_FINANCEIRA",
    "DIV": "RENDIMENTO_APLIC_FINANCEIRA",
    "ATM": "SAQUE",
    "CASH": "SAQUE",
    "DEP": "DEPOSITO",
    "POS": "CARTAO",
    "XFER": "TED",
}
OFX_DATETIME = DateTime()
ACCOUNT_TYPES = {"CHECKING": "CONTA_DEPOSITO_A_VISTA", "SAVINGS": "CONTA_POUPANCA"}


def _lines_of(text: str, tag: str) -> list[int]:
    """The line each `<TAG>` starts on, in document order (one pass over the text, not one count per tag)."""
    lines, line, counted = [], 1, 0
    for match in re.finditer(f"<{tag}>", text, flags=re.IGNORECASE):
        line += text.count("\n", counted, match.start())
        counted = match.start()
        lines.append(line)
    return lines


def _instant(raw: str | None, converted: datetime | None) -> datetime | None:
    """An OFX date-time in UTC: with an offset as ofxtools reads it; without one, the wall time in São Paulo."""
    if converted is None:
        return None
    if raw is not None and "[" in raw:
        return converted.astimezone(UTC)
    return converted.replace(tzinfo=None).replace(tzinfo=SAO_PAULO).astimezone(UTC)


def _local_day(moment: datetime | None) -> date | None:
    return moment.astimezone(SAO_PAULO).date() if moment is not None else None


def _day_of(tranlist, tag: str) -> date | None:
    """The São Paulo date of BANKTRANLIST's DTSTART / DTEND; None when absent or unreadable (staging then takes the
    statement's period from its movements)."""
    raw = tranlist.findtext(tag) if tranlist is not None else None
    if not raw:
        return None
    try:
        return _local_day(_instant(raw, OFX_DATETIME.convert(raw.strip())))
    except Exception:  # ofxtools' own conversion error
        return None


def _account(stmtrs, line: int) -> dict:
    element = stmtrs.find("BANKACCTFROM")
    if element is None:
        raise StatementFormatError(f"line {line}: a bank statement (STMTRS) without BANKACCTFROM")
    try:
        acct = Aggregate.from_etree(element)
    except Exception as error:  # ofxtools raises its own validation errors
        raise StatementFormatError(f"line {line}: BANKACCTFROM is not valid OFX ({error})") from None
    acctid = (acct.acctid or "").strip()
    number, dash, dv = acctid.rpartition("-")
    if not dash or len(dv) > 2:
        number, dv = acctid, ""
    number = re.sub(r"[^0-9A-Za-z]", "", number)
    branch = re.sub(r"\D", "", acct.branchid or "") or None
    compe = c.compe_of(acct.bankid)
    branch = (branch.lstrip("0") or "0") if branch else None
    number = (number.lstrip("0") or "0") if number.isdigit() else number
    return {
        "statement_format": "OFX",
        "institution": c.institution_of(compe),
        "account_id": c.account_key(compe, branch, number, dv or None),
        "compe_code": compe,
        "branch_code": branch,
        "number": number,
        "check_digit": dv or None,
        "_type": ACCOUNT_TYPES.get(acct.accttype, acct.accttype),
    }


def _name_and_tax_id(name: str | None, memo: str | None) -> tuple[str, str | None, str | None]:
    tax_id, person, written = c.find_tax_id(memo, name)
    text = (memo or name or "").strip()
    if written and written in text:
        text = re.sub(r"\s+", " ", text.replace(written, " ")).strip(" -/")
    return text, tax_id, person


def parse(data: bytes, name: str, sha256: str) -> Parsed:
    """The records of one OFX file; raises StatementFormatError for a file unusable as a whole."""
    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(data))
    except Exception as error:  # ofxtools: header errors, SGML/XML parse errors
        raise StatementFormatError(f"not a readable OFX file ({type(error).__name__}: {error})") from None
    root = tree.getroot()
    text = data.decode("latin-1")
    statements = root.findall(".//STMTRS")
    if not statements:
        raise StatementFormatError("no bank statement (STMTRS) in the file (credit card statements are not read)")
    lineage = {"source_file": name, "file_sha256": sha256}
    statement_lines, transaction_lines = _lines_of(text, "STMTRS"), iter(_lines_of(text, "STMTTRN"))
    balance_lines = iter(_lines_of(text, "LEDGERBAL"))
    parsed = Parsed()
    for index, stmtrs in enumerate(statements):
        line = statement_lines[index] if index < len(statement_lines) else 1
        account = _account(stmtrs, line)
        kind = account.pop("_type")
        currency = (stmtrs.findtext("CURDEF") or "BRL").strip().upper()
        tranlist = stmtrs.find("BANKTRANLIST")
        start, end = _day_of(tranlist, "DTSTART"), _day_of(tranlist, "DTEND")
        parsed.records["accounts"].append(
            {
                **account,
                "brand_name": c.brand_of(account["compe_code"]),
                "company_cnpj": None,
                "company_name": None,
                "account_type": kind or "CONTA_DEPOSITO_A_VISTA",
                "currency": currency,
                "statement_start": start,
                "statement_end": end,
                "line_number": line,
                **lineage,
            }
        )
        for element in tranlist.findall("STMTTRN") if tranlist is not None else []:
            _transaction(parsed, account, element, next(transaction_lines, line), currency, lineage)
        ledger = stmtrs.find("LEDGERBAL")
        if ledger is not None:
            _balance(parsed, account, ledger, stmtrs.find("AVAILBAL"), next(balance_lines, line), currency, lineage)
    return parsed


def _transaction(parsed: Parsed, account: dict, element, line: int, currency: str, lineage: dict) -> None:
    fitid = (element.findtext("FITID") or "").strip()
    base = {**account, "transaction_id": fitid or f"line-{line}", "line_number": line, **lineage}
    try:
        trn = Aggregate.from_etree(element)
    except Exception as error:
        parsed.bad.append(("transactions", base, f"STMTTRN is not valid OFX: {error}"))
        return
    posted = _instant(element.findtext("DTPOSTED"), trn.dtposted)
    amount = Decimal(trn.trnamt)
    description, tax_id, person = _name_and_tax_id(trn.name, trn.memo)
    kind = c.type_from_name(description) or TRNTYPE_TYPES.get(trn.trntype, "OUTROS")
    parsed.records["transactions"].append(
        {
            **base,
            "transaction_id": trn.fitid,
            "fitid": trn.fitid,
            "document_number": trn.checknum or trn.refnum or None,
            "booking_date": _local_day(posted),
            "accounting_date": None,
            "transaction_datetime": posted,
            "credit_debit_type": "CREDITO" if amount >= 0 else "DEBITO",
            "amount": abs(amount),
            "signed_amount": amount,
            "currency": currency,
            "transaction_type": kind,
            "transaction_name": description or trn.trntype,
            "partie_cnpj_cpf": tax_id,
            "partie_person_type": person,
            "ofx_trntype": trn.trntype,
            "cnab_nature": None,
            "cnab_complement_type": None,
            "cnab_complement": None,
            "cnab_category": None,
            "cnab_history_code": None,
        }
    )


def _balance(parsed: Parsed, account: dict, ledger, avail, line: int, currency: str, lineage: dict) -> None:
    base = {**account, "line_number": line, **lineage}
    try:
        ledgerbal = Aggregate.from_etree(ledger)
        availbal = Aggregate.from_etree(avail) if avail is not None else None
    except Exception as error:
        parsed.bad.append(
            (
                "balances",
                {**base, "update_datetime": ledger.findtext("DTASOF")},
                f"LEDGERBAL/AVAILBAL is not valid OFX: {error}",
            )
        )
        return
    moment = _instant(ledger.findtext("DTASOF"), ledgerbal.dtasof)
    parsed.records["balances"].append(
        {
            **base,
            "balance_date": _local_day(moment),
            "update_datetime": moment,
            "ledger_amount": Decimal(ledgerbal.balamt),
            "available_amount": Decimal(availbal.balamt) if availbal is not None else None,
            "blocked_amount": None,
            "currency": currency,
        }
    )


# --- writing (the demo company's bank) -----------------------------------------------------------------------------


def _when(moment: datetime) -> str:
    local = moment.astimezone(SAO_PAULO)
    hours = int(local.utcoffset().total_seconds() // 3600)
    return f"{local:%Y%m%d%H%M%S}.{local.microsecond // 1000:03d}[{hours}:{'BRST' if hours == -2 else 'BRT'}]"


def _sgml(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(
    *,
    compe_code: str,
    branch: str,
    number: str,
    check_digit: str,
    start: date,
    end: date,
    balance: Decimal,
    balance_at: datetime,
    transactions: list[dict],
    generated: datetime,
) -> bytes:
    """An OFX 1.02 SGML bank statement as Brazilian banks export it (CHARSET 1252, `[-3:BRT]` offsets, the
    description in MEMO): `transactions` are dicts with fitid, trntype, posted (aware datetime), amount (signed
    Decimal), name, memo."""
    out = [
        "OFXHEADER:100",
        "DATA:OFXSGML",
        "VERSION:102",
        "SECURITY:NONE",
        "ENCODING:USASCII",
        "CHARSET:1252",
        "COMPRESSION:NONE",
        "OLDFILEUID:NONE",
        "NEWFILEUID:NONE",
        "",
        "<OFX>",
        "<SIGNONMSGSRSV1>",
        "<SONRS>",
        "<STATUS>",
        "<CODE>0",
        "<SEVERITY>INFO",
        "</STATUS>",
        f"<DTSERVER>{_when(generated)}",
        "<LANGUAGE>POR",
        "</SONRS>",
        "</SIGNONMSGSRSV1>",
        "<BANKMSGSRSV1>",
        "<STMTTRNRS>",
        "<TRNUID>1",
        "<STATUS>",
        "<CODE>0",
        "<SEVERITY>INFO",
        "</STATUS>",
        "<STMTRS>",
        "<CURDEF>BRL",
        "<BANKACCTFROM>",
        f"<BANKID>{compe_code.zfill(4)}",
        f"<BRANCHID>{branch}",
        f"<ACCTID>{number}-{check_digit}",
        "<ACCTTYPE>CHECKING",
        "</BANKACCTFROM>",
        "<BANKTRANLIST>",
        f"<DTSTART>{start:%Y%m%d}000000[-3:BRT]",
        f"<DTEND>{end:%Y%m%d}235959[-3:BRT]",
    ]
    for row in transactions:
        out += [
            "<STMTTRN>",
            f"<TRNTYPE>{row['trntype']}",
            f"<DTPOSTED>{_when(row['posted'])}",
            f"<TRNAMT>{row['amount']:.2f}",
            f"<FITID>{row['fitid']}",
            f"<NAME>{_sgml(row['name'][:32])}",
            f"<MEMO>{_sgml(row['memo'][:255])}",
            "</STMTTRN>",
        ]
    out += [
        "</BANKTRANLIST>",
        "<LEDGERBAL>",
        f"<BALAMT>{balance:.2f}",
        f"<DTASOF>{_when(balance_at)}",
        "</LEDGERBAL>",
        "<AVAILBAL>",
        f"<BALAMT>{balance:.2f}",
        f"<DTASOF>{_when(balance_at)}",
        "</AVAILBAL>",
        "</STMTRS>",
        "</STMTTRNRS>",
        "</BANKMSGSRSV1>",
        "</OFX>",
    ]
    return ("\r\n".join(out) + "\r\n").encode("cp1252", errors="replace")
