"""The demo company's bank statements as its banks deliver them: OFX and CNAB 240 files from the bank truth.

`statement_files(company, formats, per)` renders, for every account of the bank truth (`company.bank`), one file
per month (`per="month"`, the default) or per day (`per="day"`) in each format:

- OFX 1.02 (`<compe>_<branch>_<number>_<YYYY-MM[-DD]>.ofx`): every movement of the period as a `STMTTRN`
  (`FITID` = the truth's transaction id, `DTPOSTED` its time with the `[-3:BRT]` offset, the description in
  `MEMO`, the first 32 characters in `NAME`, and the counterparty's CNPJ/CPF written out at the end of `MEMO`
  as Brazilian banks do), `LEDGERBAL`/`AVAILBAL` = the balance at the end of the period's last day;
- CNAB 240 statement (`<compe>_<branch>_<number>_<YYYY-MM[-DD]>.ret`): one batch per calendar day of the period
  (opening balance in the batch header, one segment E per movement, final balance and the day's totals in the
  trailer); the description is the history (25 characters, cut at a word) and its rest in the document field,
  the counterparty's CNPJ/CPF (formatted) in the complement; the category follows the movement's type.

With OFX, the company's credit card statements too (`card_statement_files(company, between)`, from the card truth:
`card_accounts`, `card_bills`, `card_transactions`): one OFX credit card statement (`CCSTMTRS`) per bill
(`<compe>_card_<last4>_<last day>.ofx`), from the day after the previous bill closed to the bill's closing day, or
to the company's last day for the bill still open then (a bank's statement of the open bill). `SONRS/FI` names the
bank (ORG, FID = its COMPE code), ACCTID is the masked card number (`************<last4>`); each purchase is a
`STMTTRN` (`FITID` the truth's id, `DTUSER`/`DTPOSTED` its time, `TRNAMT` minus its BRL value, `SIC` its MCC, a
purchase in USD with `ORIGCURRENCY`) and its IOF its own `STMTTRN` (`<id>-IOF`, "IOF COMPRA INTERNACIONAL"), as
the Open Finance sandbox lists it; `LEDGERBAL` is minus the statement's total (the bill's total for a closed bill).

`between=(first, last)` keeps the periods that overlap `first`..`last` only, the way a bank delivers the statements
of the period asked for: the files kept are byte for byte those of the whole run (so the first one's opening balance
is the account's real balance on that day). Same company, same bytes (the generation time
written into the files is the period's next day at 06:00 São Paulo). `write_bank_statements(company, out,
formats=("ofx", "cnab240"), per="month", between=None)` writes them with a `manifest.json` (file, format, account,
period, movements, SHA-256), the card statements with the OFX ones. `cnab240_transaction_ids(bank)` gives the id the
CNAB 240 parser gives each movement of the bank truth (an OFX FITID is the truth's id itself), so a warehouse fed by
the statements is scored against the ground truth (`bank_source_ids.py`).
"""

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from ingestion.bank_statements import cnab240, ofx
from ingestion.bank_statements.cnab240 import end_of_day
from ingestion.bank_statements.contracts import ascii_upper, format_tax_id
from ingestion.common.clock import SAO_PAULO

FORMATS = ("ofx", "cnab240")
EXTENSIONS = {"ofx": ".ofx", "cnab240": ".ret"}
# (debit, credit) FEBRABAN category and the OFX TRNTYPE of each Open Finance type of the truth
CATEGORIES = {
    "TED": ("120", "209", "XFER"),
    "PIX": ("120", "209", "XFER"),
    "DOC": ("120", "209", "XFER"),
    "BOLETO": ("112", "202", None),
    "CONVENIO_ARRECADACAO": ("126", "218", "PAYMENT"),
    "TARIFA_SERVICOS_AVULSOS": ("105", "205", "FEE"),
    "PACOTE_TARIFA_SERVICOS": ("105", "205", "SRVCHG"),
}


def _periods(start: date, end: date, per: str) -> list[tuple[date, date]]:
    periods, day = [], start
    while day <= end:
        if per == "day":
            last = day
        else:
            following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
            last = min(end, following - timedelta(days=1))
        periods.append((day, last))
        day = last + timedelta(days=1)
    return periods


def _category(row: dict) -> tuple[str, str | None]:
    debit = row["credit_debit_type"] == "DEBITO"
    if row["type"] in CATEGORIES:
        debit_code, credit_code, trntype = CATEGORIES[row["type"]]
        return (debit_code if debit else credit_code), trntype or ("DEBIT" if debit else "CREDIT")
    name = ascii_upper(row["transaction_name"])
    if name.startswith("IOF"):
        code = "110"
    elif "CAMBIO" in name:
        code = "108" if debit else "208"
    elif "CARTAO" in name:
        code = "127"
    else:
        code = "104" if debit else "205"
    return code, "DEBIT" if debit else "CREDIT"


def _split(name: str) -> tuple[str, str]:
    """The history (at most 25 characters, cut at a word) and the rest for the document field."""
    words, history = ascii_upper(name).split(), ""
    while words and len(f"{history} {words[0]}".strip()) <= 25:
        history = f"{history} {words.pop(0)}".strip()
    if not history and words:  # one word longer than 25 characters
        history, words[0] = words[0][:25], words[0][25:]
    return history, " ".join(word for word in words if word)[:39]


def _movement(row: dict) -> cnab240.Movement:
    code, _ = _category(row)
    history, rest = _split(row["transaction_name"])
    partie = row.get("partie_cnpj_cpf")
    return cnab240.Movement(
        booking_date=row["booking_date"],
        credit_debit="D" if row["credit_debit_type"] == "DEBITO" else "C",
        amount=row["amount"],
        category=code,
        history_code=code.zfill(4),
        history=history,
        document=rest,
        complement_type="00",
        complement=format_tax_id(partie) if partie else "",
    )


def _ofx_row(row: dict) -> dict:
    _, trntype = _category(row)
    partie = row.get("partie_cnpj_cpf")
    memo = f"{row['transaction_name']} {format_tax_id(partie)}" if partie else row["transaction_name"]
    signed = row["amount"] if row["credit_debit_type"] == "CREDITO" else -row["amount"]
    return {
        "fitid": row["transaction_id"],
        "trntype": trntype,
        "posted": row["transaction_datetime"],
        "amount": signed,
        "name": row["transaction_name"],
        "memo": memo,
    }


def _by_account(transactions: list[dict]) -> dict[str, list[dict]]:
    moves: dict[str, list[dict]] = defaultdict(list)
    for row in transactions:
        moves[row["account_id"]].append(row)
    return moves


def _by_day(rows: list[dict]) -> dict[date, list[dict]]:
    """An account's movements per booking date, each day's in the order its statements list them (time, then id)."""
    by_day: dict[date, list[dict]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r["transaction_datetime"], r["transaction_id"])):
        by_day[row["booking_date"]].append(row)
    return by_day


def _generated(last: date) -> datetime:
    return datetime.combine(last + timedelta(days=1), time(6), SAO_PAULO)


def statement_files(
    company, formats=FORMATS, per: str = "month", between: tuple[date, date] | None = None
) -> dict[str, bytes]:
    """{file name: bytes} of every account's statements in the formats asked for (see the module docstring)."""
    unknown = set(formats) - set(FORMATS)
    if unknown or per not in ("month", "day"):
        raise ValueError(f"formats must be among {FORMATS} (got {sorted(unknown)}) and per 'month' or 'day'")
    moves = _by_account(company.bank["bank_transactions"].to_pylist())
    files: dict[str, bytes] = {}
    sequence = 0  # the files rendered so far, counting those outside `between`
    for account in company.bank["bank_accounts"].to_pylist():
        rows = moves[account["account_id"]]
        by_day = _by_day(rows)
        balance = account["opening_balance"]
        start = max(account["opening_date"], company.start)
        balance += sum(
            (
                r["amount"] if r["credit_debit_type"] == "CREDITO" else -r["amount"]
                for r in rows
                if r["booking_date"] < start
            ),
            Decimal(0),
        )
        stem = f"{account['compe_code']}_{account['branch_code']}_{account['number']}"
        for first, last in _periods(start, company.end, per):
            # outside `between`: the days still move the balance, and the file numbering counts them, so the
            # files kept are byte for byte those of the whole run
            wanted = not between or (between[0] <= last and first <= between[1])
            days = []
            day = first
            while day <= last:
                today = by_day.get(day, [])
                days.append(cnab240.Day(day, balance, tuple(_movement(row) for row in today)))
                balance += sum(
                    (r["amount"] if r["credit_debit_type"] == "CREDITO" else -r["amount"] for r in today), Decimal(0)
                )
                day += timedelta(days=1)
            label = first.strftime("%Y-%m") if per == "month" else first.isoformat()
            if "cnab240" in formats:
                sequence += 1
            if "cnab240" in formats and wanted:
                files[f"{stem}_{label}.ret"] = cnab240.render(
                    compe_code=account["compe_code"],
                    bank_name=account["institution_name"],
                    company_cnpj=account["company_cnpj"],
                    company_name=company.company["name"],
                    branch=account["branch_code"],
                    number=account["number"],
                    check_digit=account["check_digit"],
                    days=days,
                    generated=_generated(last),
                    file_sequence=sequence,
                )
            if "ofx" in formats:
                sequence += 1
            if "ofx" in formats and wanted:
                period_rows = [row for d in days for row in by_day.get(d.day, [])]
                files[f"{stem}_{label}.ofx"] = ofx.render(
                    compe_code=account["compe_code"],
                    branch=account["branch_code"],
                    number=account["number"],
                    check_digit=account["check_digit"],
                    start=first,
                    end=last,
                    balance=balance,
                    balance_at=end_of_day(last),
                    transactions=[_ofx_row(row) for row in period_rows],
                    generated=_generated(last),
                )
    return files


def _card_rows(purchase: dict) -> list[dict]:
    """The OFX lines of one card purchase: the purchase (its original amount when foreign) and its IOF, if any."""
    debit = purchase["credit_debit_type"] == "DEBITO"
    foreign = purchase["currency"] != "BRL"
    common = {"trntype": "DEBIT" if debit else "CREDIT", "posted": purchase["transaction_datetime"]}
    rows = [
        {
            **common,
            "fitid": purchase["transaction_id"],
            "user": purchase["transaction_datetime"],
            "amount": -purchase["brazilian_amount"] if debit else purchase["brazilian_amount"],
            "name": purchase["transaction_name"],
            "memo": purchase["transaction_name"],
            "sic": purchase["payee_mcc"],
            "original": (purchase["amount"], purchase["currency"]) if foreign else None,
        }
    ]
    if purchase["iof_amount"]:
        rows.append(
            {
                **common,
                "trntype": "FEE",
                "fitid": f"{purchase['transaction_id']}-IOF",
                "user": purchase["transaction_datetime"],
                "amount": -purchase["iof_amount"] if debit else purchase["iof_amount"],
                "name": "IOF COMPRA INTERNACIONAL",
                "memo": "IOF COMPRA INTERNACIONAL",
                "sic": None,
                "original": None,
            }
        )
    return rows


def _bill_periods(company, bills: list[dict]) -> list[tuple[dict, date, date]]:
    """(bill, first day, last day) of each bill of one card, by closing date: from the day after the previous
    closing (the company's first day for the first bill) to the closing day, or the company's last day."""
    periods, opened = [], company.start
    for bill in sorted(bills, key=lambda b: b["closing_date"]):
        last = min(bill["closing_date"], company.end)
        if opened <= last:
            periods.append((bill, opened, last))
        opened = bill["closing_date"] + timedelta(days=1)
    return periods


def card_statement_files(company, between: tuple[date, date] | None = None) -> dict[str, bytes]:
    """{file name: bytes} of every credit card's OFX statements, one per bill (see the module docstring)."""
    banks = {a["account_id"]: a for a in company.bank["bank_accounts"].to_pylist()}
    bills, moves = defaultdict(list), defaultdict(list)
    for bill in company.bank["card_bills"].to_pylist():
        bills[bill["card_account_id"]].append(bill)
    for purchase in company.bank["card_transactions"].to_pylist():
        moves[purchase["bill_id"]].append(purchase)
    files: dict[str, bytes] = {}
    for card in company.bank["card_accounts"].to_pylist():
        bank, last4 = banks[card["account_id"]], card["identification_number"]
        for bill, first, last in _bill_periods(company, bills[card["card_account_id"]]):
            if between and not (between[0] <= last and first <= between[1]):
                continue
            purchases = sorted(moves[bill["bill_id"]], key=lambda p: (p["transaction_datetime"], p["transaction_id"]))
            rows = [row for purchase in purchases for row in _card_rows(purchase)]
            files[f"{bank['compe_code']}_card_{last4}_{last.isoformat()}.ofx"] = ofx.render_card(
                bank=(bank["institution_name"], bank["compe_code"]),
                card_number=f"{'*' * 12}{last4}",
                start=first,
                end=last,
                balance=sum((row["amount"] for row in rows), Decimal(0)),
                balance_at=end_of_day(last),
                transactions=rows,
                generated=_generated(last),
            )
    return files


def write_bank_statements(
    company, folder: str | Path, formats=FORMATS, per: str = "month", between: tuple[date, date] | None = None
) -> list[Path]:
    """Write the statements (see `statement_files`) and `manifest.json` into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths, manifest = [], []
    files = statement_files(company, formats, per, between)
    if "ofx" in formats:
        files.update(card_statement_files(company, between))
    for name, data in sorted(files.items()):
        (folder / name).write_bytes(data)
        paths.append(folder / name)
        manifest.append(
            {
                "file": name,
                "format": "OFX" if name.endswith(".ofx") else "CNAB240",
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    body = {"company": company.company, "per": per, "formats": list(formats), "files": manifest}
    if between:
        body["between"] = [between[0].isoformat(), between[1].isoformat()]
    (folder / "manifest.json").write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return [*paths, folder / "manifest.json"]


def cnab240_transaction_ids(bank: Mapping[str, list[dict]]) -> dict[str, str]:
    """{the transaction id the CNAB 240 parser gives a movement of the bank truth: the truth's transaction id}.

    `bank`: the bank truth's tables as rows (`bank_accounts`, `bank_transactions`; `erp_truth.read_truth`). CNAB 240
    gives a movement no id: the parser derives one from the movement's fields and its occurrence among equal ones
    of the day (`ingestion/bank_statements/cnab240.py`). So each account's movements are written as its statements
    write them (one batch per day, the day's movements in the statements' order) and read back by the parser, line
    for line: the ids are those of the demo's files, whatever period each file covers (the fields and occurrence
    are per day)."""
    moves = _by_account(bank["bank_transactions"])
    ids: dict[str, str] = {}
    for account in bank["bank_accounts"]:
        by_day = _by_day(moves[account["account_id"]])
        if not by_day:
            continue
        written = [row for day in sorted(by_day) for row in by_day[day]]
        data = cnab240.render(
            compe_code=account["compe_code"],
            bank_name=account["institution_name"],
            company_cnpj=account["company_cnpj"],
            company_name="",
            branch=account["branch_code"],
            number=account["number"],
            check_digit=account["check_digit"],
            # each batch's balances only need to add up; the ids do not depend on them
            days=[cnab240.Day(day, Decimal(0), tuple(_movement(row) for row in by_day[day])) for day in sorted(by_day)],
            generated=_generated(max(by_day)),
        )
        parsed = cnab240.parse(data, f"{account['account_id']}.ret", "")
        read = parsed.records["transactions"]
        if parsed.bad or len(read) != len(written):
            raise ValueError(
                f"account {account['account_id']}: {len(written)} movements written as CNAB 240, {len(read)} read back "
                f"({[reason for _, _, reason in parsed.bad][:3]})"
            )
        ids.update({got["transaction_id"]: row["transaction_id"] for got, row in zip(read, written, strict=True)})
    return ids
