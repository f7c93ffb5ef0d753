"""The contract of the bank statement files (OFX and CNAB 240), one entity per staging model.

`accounts` (one row per account per file), `balances` (one row per account and balance instant: OFX LEDGERBAL /
AVAILBAL, a CNAB 240 batch trailer's final balance) and `transactions` (one row per movement); from OFX credit
card statements (`CCSTMTRS`) `card_accounts` (one row per card per file, with the statement's balance) and
`card_transactions` (one row per card movement). Every bank account row carries
`statement_format` (`OFX` / `CNAB240`), the bank account in Open Finance terms (`compe_code`, `branch_code`,
`number`, `check_digit`), `institution` (`bank_<compe>`, as the demo's Open Finance institutions are named) and
`account_id`, a deterministic key of the account (`account_key`: the same account read from an OFX and from a
CNAB file gets the same key), plus lineage: the file's name, its SHA-256 and the line the record starts on.
The column building blocks and the row checker are the ERP's (`ingestion/erp/contract_model.py`); the lake
dataset adds `_arrived_at` (the file's arrival, as for the ERP file drops).
"""

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import pyarrow as pa

from ingestion.common.quarantine import QuarantineRecord
from ingestion.erp.cnpj import is_valid_cnpj
from ingestion.erp.contract_model import Column, Entity, arrival_schema, split_rows, stamp_arrival
from ingestion.open_finance.schemas import (  # the values staging shares with Open Finance
    CARD_TRANSACTION_TYPES,
    TRANSACTION_TYPES,
)

SOURCE = "bank_statement"
ZERO = Decimal(0)
FORMATS = frozenset({"OFX", "CNAB240"})
CREDIT_DEBIT = frozenset({"CREDITO", "DEBITO"})
PERSON_TYPES = frozenset({"PESSOA_FISICA", "PESSOA_JURIDICA"})
# COMPE codes of the banks a company usually holds accounts at (the brand shown in staging); others are named
# by their code.
BANK_NAMES = {
    "001": "Banco do Brasil",
    "033": "Santander",
    "041": "Banrisul",
    "077": "Banco Inter",
    "104": "Caixa Econômica Federal",
    "208": "BTG Pactual",
    "237": "Bradesco",
    "260": "Nu Pagamentos",
    "336": "C6 Bank",
    "341": "Itaú Unibanco",
    "422": "Safra",
    "748": "Sicredi",
    "756": "Sicoob",
}

_LINEAGE = (
    Column("source_file", "string"),
    Column("file_sha256", "string", pattern=r"[0-9a-f]{64}"),
    Column("line_number", "int", minimum=Decimal(1)),
)
_ACCOUNT = (
    Column("statement_format", "string", allowed=FORMATS),
    Column("institution", "string"),
    Column("account_id", "string"),
    Column("compe_code", "string", pattern=r"[0-9A-Za-z]{1,12}"),
    Column("branch_code", "string", required=False, pattern=r"\d{1,5}"),
    Column("number", "string", pattern=r"[0-9A-Za-z]{1,20}"),
    Column("check_digit", "string", required=False, pattern=r"[0-9A-Za-z]{1,2}"),
)

ENTITIES: dict[str, Entity] = {
    "accounts": Entity(
        "accounts",
        (
            *_ACCOUNT,
            Column("brand_name", "string"),
            Column("company_cnpj", "string", required=False, check="cnpj"),
            Column("company_name", "string", required=False),
            Column("account_type", "string"),
            Column("currency", "string", pattern=r"[A-Z]{3}"),
            Column("statement_start", "date", required=False),
            Column("statement_end", "date", required=False),
            *_LINEAGE,
        ),
        ("account_id",),
    ),
    "balances": Entity(
        "balances",
        (
            *_ACCOUNT,
            Column("balance_date", "date"),
            Column("update_datetime", "timestamp"),
            Column("ledger_amount", "money"),
            Column("available_amount", "money", required=False),
            Column("blocked_amount", "money", required=False, minimum=ZERO),
            Column("currency", "string", pattern=r"[A-Z]{3}"),
            *_LINEAGE,
        ),
        ("account_id", "update_datetime"),
    ),
    "transactions": Entity(
        "transactions",
        (
            *_ACCOUNT,
            Column("transaction_id", "string"),
            Column("fitid", "string", required=False),
            Column("document_number", "string", required=False),
            Column("booking_date", "date"),
            Column("accounting_date", "date", required=False),
            Column("transaction_datetime", "timestamp"),
            Column("credit_debit_type", "string", allowed=CREDIT_DEBIT),
            Column("amount", "money", minimum=ZERO),
            Column("signed_amount", "money"),
            Column("currency", "string", pattern=r"[A-Z]{3}"),
            Column("transaction_type", "string", allowed=TRANSACTION_TYPES),
            Column("transaction_name", "string"),
            Column("partie_cnpj_cpf", "string", required=False, pattern=r"\d{11}|\d{14}"),
            Column("partie_person_type", "string", required=False, allowed=PERSON_TYPES),
            Column("ofx_trntype", "string", required=False),
            Column("cnab_nature", "string", required=False),
            Column("cnab_complement_type", "string", required=False),
            Column("cnab_complement", "string", required=False),
            Column("cnab_category", "string", required=False, pattern=r"\d{3}"),
            Column("cnab_history_code", "string", required=False),
            *_LINEAGE,
        ),
        ("account_id", "transaction_id"),
        (
            (
                "signed amount",
                lambda row: (
                    None
                    if row["signed_amount"]
                    == (row["amount"] if row["credit_debit_type"] == "CREDITO" else -row["amount"])
                    else f"signed_amount {row['signed_amount']} does not follow amount {row['amount']} and "
                    f"{row['credit_debit_type']}"
                ),
            ),
        ),
    ),
    # an OFX credit card statement (CCSTMTRS): the card as the file names it, with the statement's balance
    "card_accounts": Entity(
        "card_accounts",
        (
            Column("statement_format", "string", allowed=FORMATS),
            Column("institution", "string"),
            Column("card_account_id", "string"),
            Column("compe_code", "string", required=False, pattern=r"\d{3}"),
            Column("card_last4", "string", required=False, pattern=r"\d{4}"),
            Column("brand_name", "string"),
            Column("currency", "string", pattern=r"[A-Z]{3}"),
            Column("statement_start", "date", required=False),
            Column("statement_end", "date", required=False),
            Column("balance_datetime", "timestamp", required=False),
            Column("ledger_amount", "money", required=False),
            Column("available_amount", "money", required=False),
            *_LINEAGE,
        ),
        ("card_account_id",),
    ),
    "card_transactions": Entity(
        "card_transactions",
        (
            Column("statement_format", "string", allowed=FORMATS),
            Column("institution", "string"),
            Column("card_account_id", "string"),
            Column("transaction_id", "string"),
            Column("fitid", "string", required=False),
            Column("transaction_date", "date"),
            Column("posted_date", "date"),
            Column("transaction_datetime", "timestamp"),
            Column("credit_debit_type", "string", allowed=CREDIT_DEBIT),
            Column("amount", "money", minimum=ZERO),
            Column("currency", "string", pattern=r"[A-Z]{3}"),
            Column("brazilian_amount", "money", minimum=ZERO),
            Column("signed_brazilian_amount", "money"),
            Column("brazilian_currency", "string", pattern=r"[A-Z]{3}"),
            Column("transaction_type", "string", allowed=CARD_TRANSACTION_TYPES),
            Column("transaction_name", "string"),
            Column("payee_mcc", "int", required=False, minimum=ZERO),
            Column("ofx_trntype", "string", required=False),
            *_LINEAGE,
        ),
        ("card_account_id", "transaction_id"),
        (
            (
                "signed amount",
                lambda row: (
                    None
                    if row["signed_brazilian_amount"]
                    == (row["brazilian_amount"] if row["credit_debit_type"] == "CREDITO" else -row["brazilian_amount"])
                    else f"signed_brazilian_amount {row['signed_brazilian_amount']} does not follow brazilian_amount "
                    f"{row['brazilian_amount']} and {row['credit_debit_type']}"
                ),
            ),
        ),
    ),
}
ENTITY_NAMES: tuple[str, ...] = tuple(ENTITIES)
# the entities of a bank account and those of a credit card, each led by its account entity
BANK_ENTITIES = ("accounts", "balances", "transactions")
CARD_ENTITIES = ("card_accounts", "card_transactions")


def schema(entity: str) -> pa.Schema:
    return ENTITIES[entity].schema


def lake_schema(entity: str) -> pa.Schema:
    """The lake dataset `bank_statement/<entity>` and `raw.bank_statement__<entity>`: the contract, `_arrived_at`."""
    return arrival_schema(schema(entity))


def with_arrival(entity: str, table: pa.Table, arrived_at: datetime) -> pa.Table:
    return stamp_arrival(schema(entity), table, arrived_at)


def payload(row: dict) -> str:
    return json.dumps(row, default=str, ensure_ascii=False, sort_keys=True)


def check(entity: str, rows: Iterable[dict]) -> tuple[list[dict], list[QuarantineRecord]]:
    """The rows that keep the entity's contract (typed) and a quarantine record for each that does not, its reason
    prefixed by entity, key and line. Rows sharing a key are all quarantined: nothing tells which is right."""
    return split_rows(ENTITIES[entity], rows, lambda raw, typed, reasons: record(entity, raw, reasons))


def record(entity: str, raw: dict, reason: str) -> QuarantineRecord:
    """One quarantine record: `line 7: transactions account_id=... transaction_id=...: <reason>`."""
    key = ENTITIES[entity].key_of(raw)
    where = f"line {raw['line_number']}: " if raw.get("line_number") else ""
    return QuarantineRecord(SOURCE, entity, key, f"{where}{entity} {key}: {reason}", payload(raw))


# --- shared by both formats --------------------------------------------------------------------------------------


def _digits(value: str | None) -> str:
    return re.sub(r"\D", "", value or "")


def compe_of(bank_id: str) -> str:
    """A COMPE code as three digits (`0341` and `341` are `341`); a longer bank id (a foreign routing number) stays."""
    text = (bank_id or "").strip()
    if text.isdigit():
        significant = text.lstrip("0") or "0"
        return significant.zfill(3) if len(significant) <= 3 else text
    return text


def _unpadded(value: str | None) -> str:
    text = (value or "").strip()
    return (text.lstrip("0") or "0") if text.isdigit() else text


def account_key(compe_code: str, branch_code: str | None, number: str, check_digit: str | None) -> str:
    """`001-9355-13772361-7`: COMPE code, branch, number and check digit, without the zero padding a format adds, so
    the account read from an OFX (`13772361`) and from a CNAB 240 file (`000013772361`) is one key."""
    parts = [compe_of(compe_code), _unpadded(branch_code), _unpadded(number), (check_digit or "").strip()]
    return "-".join(parts)


def institution_of(compe_code: str) -> str:
    """`bank_341`: the institution a statement's bank code names (the demo's Open Finance institutions are named so)."""
    return f"bank_{compe_of(compe_code)}"


def brand_of(compe_code: str) -> str:
    return BANK_NAMES.get(compe_of(compe_code), f"COMPE {compe_of(compe_code)}")


def ascii_upper(text: str) -> str:
    """Upper case without accents: how the CNAB 240 layout writes text (alphanumeric fields, no diacritics)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").upper()


_CPF_WEIGHTS = (range(10, 1, -1), range(11, 1, -1))


def is_valid_cpf(digits: str) -> bool:
    if not re.fullmatch(r"\d{11}", digits) or len(set(digits)) == 1:
        return False
    for position, weights in zip((9, 10), _CPF_WEIGHTS, strict=True):
        total = sum(int(d) * w for d, w in zip(digits[:position], weights, strict=False))
        if int(digits[position]) != (total * 10 % 11) % 10:
            return False
    return True


# A CNPJ written `12.345.678/0001-90` or a CPF written `123.456.789-09` is taken as written (a mistyped digit is the
# bank's text, as Open Finance's partieCnpjCpf would carry it); a bare run of 14 or 11 digits only with valid check
# digits (otherwise it is more likely a document number). Never part of a longer run of digits.
_FORMATTED = re.compile(r"(?<![\d./-])(\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}|\d{3}\.\d{3}\.\d{3}-\d{2})(?![\d./-])")
_BARE = re.compile(r"(?<![\d./-])(\d{14}|\d{11})(?![\d./-])")


def find_tax_id(*texts: str | None) -> tuple[str | None, str | None, str | None]:
    """(digits, person type, the text as written) of the first CNPJ or CPF in the texts, in order; (None, None,
    None) when there is none. Brazilian banks write the counterparty's tax id into the OFX MEMO/NAME and the CNAB
    240 complement or document field."""
    for text in texts:
        for match in _FORMATTED.finditer(text or ""):
            digits = _digits(match.group(1))
            return digits, "PESSOA_JURIDICA" if len(digits) == 14 else "PESSOA_FISICA", match.group(1)
        for match in _BARE.finditer(text or ""):
            digits = match.group(1)
            if len(digits) == 14 and is_valid_cnpj(digits):
                return digits, "PESSOA_JURIDICA", digits
            if len(digits) == 11 and is_valid_cpf(digits):
                return digits, "PESSOA_FISICA", digits
    return None, None, None


def format_tax_id(digits: str) -> str:
    if len(digits) == 14:
        return f"{digits[:2]}.{digits[2:5]}.{digits[5:8]}/{digits[8:12]}-{digits[12:]}"
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"


# Keywords of a movement's description, first match wins (upper case, no accents), before the format's own code.
_NAME_TYPES = (
    (re.compile(r"\bPIX\b"), "PIX"),
    (re.compile(r"\bTED\b"), "TED"),
    (re.compile(r"\bDOC\b"), "DOC"),
    (re.compile(r"\bBOLETO\b|\bCOBRANCA\b"), "BOLETO"),
    (re.compile(r"\bTARIFA PACOTE\b|\bPACOTE DE SERVICOS\b"), "PACOTE_TARIFA_SERVICOS"),
    (re.compile(r"\bTARIFA\b"), "TARIFA_SERVICOS_AVULSOS"),
    (re.compile(r"\bSISCOMEX\b|\bGARE\b|\bDARF\b|\bAFRMM\b|\bGPS\b|\bARRECADACAO\b"), "CONVENIO_ARRECADACAO"),
    (re.compile(r"\bSAQUE\b"), "SAQUE"),
    (re.compile(r"\bRENDIMENTO\b"), "RENDIMENTO_APLIC_FINANCEIRA"),
    (re.compile(r"\bRESGATE\b"), "RESGATE_APLIC_FINANCEIRA"),
)


def type_from_name(name: str) -> str | None:
    """The type a description's first two words name (`PIX ENVIADO ...`, `DEVOLUCAO TED ...`, `TARIFA PACOTE ...`);
    later words are the counterparty or a note (`CAMBIO ... C/ IOF E TARIFA` is not a tariff)."""
    text = " ".join(ascii_upper(name).split()[:2])
    return next((kind for pattern, kind in _NAME_TYPES if pattern.search(text)), None)


def movement_key(*parts: object) -> str:
    """A deterministic id for a movement whose file gives none (CNAB 240): a hash of what identifies it."""
    return hashlib.sha256("|".join(str(part) for part in parts).encode("utf-8")).hexdigest()[:32]
