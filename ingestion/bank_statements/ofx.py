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

Credit card statements (`CCSTMTRS`, in `CREDITCARDMSGSRSV1`; Brazilian banks export card bills as OFX too) give
one `card_accounts` row per statement and one `card_transactions` row per `STMTTRN`, in Open Finance's card terms
(credit-cards API v2):
- card: `CCACCTFROM/ACCTID` as written is the card's id in the file (a masked number `************1234`, or an
  opaque id: Nubank writes a UUID); `card_last4` its last four digits only when ACCTID looks like a card number
  (digits, `*`/`X` masks, spaces, dots, dashes: 12 to 22 characters ending in 4 digits), else none. The issuing bank
  is not in CCACCTFROM: `SONRS/FI/FID` is taken as the COMPE code when it is one (1 to 3 significant digits,
  `0341`), and the institution is then `bank_<COMPE>`; otherwise `fi_<FI/ORG>` or `unknown_issuer`, and the card
  matches no other source's card (staging/bank README). `LEDGERBAL` (what is owed, negative) and `AVAILBAL` are
  the card row's balance; an unreadable one quarantines the card row, which takes its transactions with it.
- movement: `FITID` the id; `DTUSER` (the purchase) else `DTPOSTED` the transaction's instant and date,
  `DTPOSTED` the posting date; `TRNAMT` in `CURDEF` is the BRL amount, negative = DEBITO (a purchase); the original
  amount is `TRNAMT` itself, or, with `ORIGCURRENCY` (the purchase was in CURSYM), `TRNAMT / CURRATE` (CURRATE read
  as CURDEF units per CURSYM unit) to the cent in CURSYM, or, with `CURRENCY` (TRNAMT is in CURSYM), TRNAMT in
  CURSYM and `TRNAMT * CURRATE` in BRL; `SIC` the merchant's MCC; the type a keyword of the description (IOF:
  OUTROS, ESTORNO, ANUIDADE/TARIFA: TARIFA, CASHBACK) else `TRNTYPE` (DEBIT/POS/DIRECTDEBIT: PAGAMENTO, a purchase;
  FEE/SRVCHG: TARIFA), else OUTROS.
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
# A card movement's Open Finance type (EnumCreditCardTransactionType) from its OFX TRNTYPE, when its description
# names none (CARD_NAME_TYPES).
CARD_TRNTYPE_TYPES = {
    "DEBIT": "PAGAMENTO",
    "POS": "PAGAMENTO",
    "DIRECTDEBIT": "PAGAMENTO",
    "FEE": "TARIFA",
    "SRVCHG": "TARIFA",
}
CARD_NAME_TYPES = (
    (re.compile(r"\bIOF\b"), "OUTROS"),
    (re.compile(r"\bESTORNO\b"), "ESTORNO"),
    (re.compile(r"\bANUIDADE\b|\bTARIFA\b"), "TARIFA"),
    (re.compile(r"\bCASHBACK\b"), "CASHBACK"),
)
# CCACCTFROM/ACCTID that is a card number, masked or not: its last 4 digits name the card across sources
_CARD_NUMBER = re.compile(r"[0-9*Xx .-]{8,18}([0-9]{4})")
CENT = Decimal("0.01")


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


def _account_aggregate(statement, tag: str, what: str, line: int):
    """The statement's account aggregate (BANKACCTFROM / CCACCTFROM) through ofxtools, or a format error naming it."""
    element = statement.find(tag)
    if element is None:
        raise StatementFormatError(f"line {line}: a {what} without {tag}")
    try:
        return Aggregate.from_etree(element)
    except Exception as error:  # ofxtools raises its own validation errors
        raise StatementFormatError(f"line {line}: {tag} is not valid OFX ({error})") from None


def _account(stmtrs, line: int) -> dict:
    acct = _account_aggregate(stmtrs, "BANKACCTFROM", "bank statement (STMTRS)", line)
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
    # bank and card statements in document order, so the lines of their STMTTRN / LEDGERBAL follow one another
    statements = [element for element in root.iter() if element.tag in ("STMTRS", "CCSTMTRS")]
    if not statements:
        raise StatementFormatError("no bank statement (STMTRS) nor credit card statement (CCSTMTRS) in the file")
    lineage = {"source_file": name, "file_sha256": sha256}
    starts = {"STMTRS": iter(_lines_of(text, "STMTRS")), "CCSTMTRS": iter(_lines_of(text, "CCSTMTRS"))}
    lines = _Lines(iter(_lines_of(text, "STMTTRN")), iter(_lines_of(text, "LEDGERBAL")))
    parsed = Parsed()
    for statement in statements:
        line = next(starts[statement.tag], 1)
        if statement.tag == "STMTRS":
            _bank_statement(parsed, statement, line, lines, lineage)
        else:
            _card_statement(parsed, statement, line, lines, _issuer(root), lineage)
    return parsed


class _Lines:
    """The lines the file's `<STMTTRN>` and `<LEDGERBAL>` start on, handed out in document order."""

    def __init__(self, transactions, ledgers):
        self.transactions, self.ledgers = transactions, ledgers

    def transaction(self, default: int) -> int:
        return next(self.transactions, default)

    def ledger(self, default: int) -> int:
        return next(self.ledgers, default)


def _bank_statement(parsed: Parsed, stmtrs, line: int, lines: _Lines, lineage: dict) -> None:
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
        _transaction(parsed, account, element, lines.transaction(line), currency, lineage)
    # `.//`: a bank that leaves BANKTRANLIST unclosed (Nubank does) has its LEDGERBAL read inside it
    ledger = stmtrs.find(".//LEDGERBAL")
    if ledger is not None:
        _balance(parsed, account, ledger, stmtrs.find(".//AVAILBAL"), lines.ledger(line), currency, lineage)


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


# --- credit card statements (CCSTMTRS) ------------------------------------------------------------------------------


def _issuer(root) -> tuple[str | None, str | None]:
    """(COMPE code, organisation) of the file's `SONRS/FI`: FID is taken as the COMPE code when it is one (1 to 3
    significant digits); ORG as written."""
    fid = (root.findtext(".//SONRS/FI/FID") or "").strip()
    org = (root.findtext(".//SONRS/FI/ORG") or "").strip() or None
    significant = fid.lstrip("0")
    compe = significant.zfill(3) if fid.isdigit() and 0 < len(significant) <= 3 else None
    return compe, org


def card_last4(acctid: str) -> str | None:
    """The last four digits of a CCACCTFROM/ACCTID that is a card number (`5502 09** **** 1234`,
    `************1234`); None for an opaque id (a UUID), which names no card another source could name."""
    match = _CARD_NUMBER.fullmatch(acctid.strip())
    return match.group(1) if match else None


def _institution(compe: str | None, org: str | None) -> str:
    if compe:
        return c.institution_of(compe)
    if org:
        return "fi_" + re.sub(r"[^a-z0-9]+", "_", c.ascii_upper(org).lower()).strip("_")
    return "unknown_issuer"


def _card_statement(parsed: Parsed, ccstmtrs, line: int, lines: _Lines, issuer: tuple, lineage: dict) -> None:
    acct = _account_aggregate(ccstmtrs, "CCACCTFROM", "credit card statement (CCSTMTRS)", line)
    compe, org = issuer
    card = {
        "statement_format": "OFX",
        "institution": _institution(compe, org),
        "card_account_id": (acct.acctid or "").strip(),
    }
    currency = (ccstmtrs.findtext("CURDEF") or "BRL").strip().upper()
    tranlist = ccstmtrs.find("BANKTRANLIST")
    for trn in tranlist.findall("STMTTRN") if tranlist is not None else []:
        _card_transaction(parsed, card, trn, lines.transaction(line), currency, lineage)
    row = {
        **card,
        "compe_code": compe,
        "card_last4": card_last4(card["card_account_id"]),
        "brand_name": c.brand_of(compe) if compe else (org or card["institution"]),
        "currency": currency,
        "statement_start": _day_of(tranlist, "DTSTART"),
        "statement_end": _day_of(tranlist, "DTEND"),
        "line_number": line,
        **lineage,
    }
    ledger, avail = ccstmtrs.find(".//LEDGERBAL"), ccstmtrs.find(".//AVAILBAL")  # see _bank_statement
    if ledger is not None:
        lines.ledger(line)
    try:
        ledgerbal = Aggregate.from_etree(ledger) if ledger is not None else None
        availbal = Aggregate.from_etree(avail) if avail is not None else None
    except Exception as error:
        parsed.bad.append(("card_accounts", row, f"LEDGERBAL/AVAILBAL is not valid OFX: {error}"))
        return
    moment = _instant(ledger.findtext("DTASOF"), ledgerbal.dtasof) if ledgerbal is not None else None
    parsed.records["card_accounts"].append(
        {
            **row,
            "balance_datetime": moment,
            "ledger_amount": Decimal(ledgerbal.balamt) if ledgerbal is not None else None,
            "available_amount": Decimal(availbal.balamt) if availbal is not None else None,
        }
    )


def card_type(description: str, trntype: str) -> str:
    """A card movement's Open Finance type: a keyword of the description's first two words, else its TRNTYPE."""
    text = " ".join(c.ascii_upper(description).split()[:2])
    named = next((kind for pattern, kind in CARD_NAME_TYPES if pattern.search(text)), None)
    return named or CARD_TRNTYPE_TYPES.get(trntype, "OUTROS")


def _amounts(trn, signed: Decimal, currency: str) -> tuple[Decimal, str, Decimal]:
    """(original amount, its currency, BRL amount), unsigned, from TRNAMT and ORIGCURRENCY / CURRENCY."""
    if trn.origcurrency is not None:  # TRNAMT is in CURDEF; the purchase was in CURSYM
        rate = Decimal(trn.origcurrency.currate)
        return (abs(signed) / rate).quantize(CENT), trn.origcurrency.cursym, abs(signed)
    if trn.currency is not None:  # TRNAMT is in CURSYM
        rate = Decimal(trn.currency.currate)
        return abs(signed), trn.currency.cursym, (abs(signed) * rate).quantize(CENT)
    return abs(signed), currency, abs(signed)


def _card_transaction(parsed: Parsed, card: dict, element, line: int, currency: str, lineage: dict) -> None:
    fitid = (element.findtext("FITID") or "").strip()
    base = {**card, "transaction_id": fitid or f"line-{line}", "line_number": line, **lineage}
    try:
        trn = Aggregate.from_etree(element)
        if trn.origcurrency is not None and not trn.origcurrency.currate:
            raise ValueError("ORIGCURRENCY with a zero CURRATE")
    except Exception as error:
        parsed.bad.append(("card_transactions", base, f"STMTTRN is not valid OFX: {error}"))
        return
    posted = _instant(element.findtext("DTPOSTED"), trn.dtposted)
    made = _instant(element.findtext("DTUSER"), trn.dtuser) if trn.dtuser is not None else posted
    signed = Decimal(trn.trnamt)
    amount, original_currency, brazilian = _amounts(trn, signed, currency)
    description = (trn.memo or trn.name or "").strip()
    direction = "CREDITO" if signed >= 0 else "DEBITO"
    parsed.records["card_transactions"].append(
        {
            **base,
            "transaction_id": trn.fitid,
            "fitid": trn.fitid,
            "transaction_date": _local_day(made),
            "posted_date": _local_day(posted),
            "transaction_datetime": made,
            "credit_debit_type": direction,
            "amount": amount,
            "currency": original_currency,
            "brazilian_amount": brazilian,
            "signed_brazilian_amount": brazilian if direction == "CREDITO" else -brazilian,
            "brazilian_currency": currency,
            "transaction_type": card_type(description, trn.trntype),
            "transaction_name": description or trn.trntype,
            "payee_mcc": trn.sic,
            "ofx_trntype": trn.trntype,
        }
    )


# --- writing (the demo company's bank) -----------------------------------------------------------------------------


def _when(moment: datetime) -> str:
    local = moment.astimezone(SAO_PAULO)
    hours = int(local.utcoffset().total_seconds() // 3600)
    return f"{local:%Y%m%d%H%M%S}.{local.microsecond // 1000:03d}[{hours}:{'BRST' if hours == -2 else 'BRT'}]"


def _sgml(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _header(generated: datetime, fi: tuple[str, str] | None = None) -> list[str]:
    """The OFX 1.02 SGML header and sign-on, with `<FI><ORG><FID>` when `fi` (organisation, FID) is given."""
    issuer = ["<FI>", f"<ORG>{_sgml(fi[0])}", f"<FID>{fi[1]}", "</FI>"] if fi else []
    return [
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
        *issuer,
        "</SONRS>",
        "</SIGNONMSGSRSV1>",
    ]


def _encoded(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("cp1252", errors="replace")


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
        *_header(generated),
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
    return _encoded(out)


def _card_lines(row: dict) -> list[str]:
    """One card STMTTRN: DTUSER the purchase, ORIGCURRENCY for a purchase in another currency (CURRATE = BRL per
    unit of it, 8 places, so TRNAMT / CURRATE gives the original amount back to the cent), SIC the MCC."""
    out = [
        "<STMTTRN>",
        f"<TRNTYPE>{row['trntype']}",
        f"<DTPOSTED>{_when(row['posted'])}",
        f"<DTUSER>{_when(row['user'])}",
        f"<TRNAMT>{row['amount']:.2f}",
        f"<FITID>{row['fitid']}",
    ]
    if row.get("sic") is not None:
        out.append(f"<SIC>{row['sic']}")
    out += [f"<NAME>{_sgml(row['name'][:32])}", f"<MEMO>{_sgml(row['memo'][:255])}"]
    if row.get("original"):
        original, currency = row["original"]
        rate = (abs(row["amount"]) / original).quantize(Decimal("0.00000001"))
        out += ["<ORIGCURRENCY>", f"<CURRATE>{rate}", f"<CURSYM>{currency}", "</ORIGCURRENCY>"]
    return [*out, "</STMTTRN>"]


def render_card(
    *,
    bank: tuple[str, str],
    card_number: str,
    start: date,
    end: date,
    balance: Decimal,
    balance_at: datetime,
    transactions: list[dict],
    generated: datetime,
) -> bytes:
    """An OFX 1.02 SGML credit card statement (CREDITCARDMSGSRSV1/CCSTMTRS) as Brazilian banks export a card bill:
    `bank` is (name, COMPE code) for `SONRS/FI` (ORG, FID), `card_number` the masked number for ACCTID,
    `balance` what is owed (negative); `transactions` are dicts with fitid, trntype, posted and user (aware
    datetimes), amount (signed BRL Decimal, negative for a purchase), name, memo, sic (or None) and original
    ((amount, currency) of a purchase in another currency, or None)."""
    out = [
        *_header(generated, (bank[0], bank[1].zfill(4))),
        "<CREDITCARDMSGSRSV1>",
        "<CCSTMTTRNRS>",
        "<TRNUID>1",
        "<STATUS>",
        "<CODE>0",
        "<SEVERITY>INFO",
        "</STATUS>",
        "<CCSTMTRS>",
        "<CURDEF>BRL",
        "<CCACCTFROM>",
        f"<ACCTID>{card_number}",
        "</CCACCTFROM>",
        "<BANKTRANLIST>",
        f"<DTSTART>{start:%Y%m%d}000000[-3:BRT]",
        f"<DTEND>{end:%Y%m%d}235959[-3:BRT]",
    ]
    for row in transactions:
        out += _card_lines(row)
    out += [
        "</BANKTRANLIST>",
        "<LEDGERBAL>",
        f"<BALAMT>{balance:.2f}",
        f"<DTASOF>{_when(balance_at)}",
        "</LEDGERBAL>",
        "</CCSTMTRS>",
        "</CCSTMTTRNRS>",
        "</CREDITCARDMSGSRSV1>",
        "</OFX>",
    ]
    return _encoded(out)
