"""Pluggy records -> lake rows, one contract per record: a record that breaks it is quarantined with its reason
(`QuarantineRecord`, source `pluggy`) and costs only itself.

The mapping to the Open Finance columns (what `stg_pluggy__*` exposes under the Open Finance names):
- direction: `type` CREDIT/DEBIT -> CREDITO/DEBITO (absent: the sign of `amount`); `amount` is positive,
  `signed_amount` credit +, debit -;
- `status` POSTED -> TRANSACAO_EFETIVADA; PENDING -> LANCAMENTO_FUTURO when dated after the pull day, else
  TRANSACAO_PROCESSANDO;
- `transaction_type`: `operationType` when it is an Open Finance type (Pluggy passes the bank's type through for
  Open Finance connectors), else from `paymentData.paymentMethod` (PIX, TED, DOC, TEV ->
  TRANSFERENCIA_MESMA_INSTITUICAO, BOLETO), else OUTROS;
- the counterparty (`partie_*`): `paymentData.receiver` of a debit, `paymentData.payer` of a credit;
  `documentNumber.value` with its punctuation removed, CPF -> PESSOA_NATURAL, CNPJ -> PESSOA_JURIDICA,
  `routingNumber` (COMPE), `branchNumber`, `accountNumber` split at its last `-` into number and check digit;
- `booking_date`: the São Paulo date of `date` (an instant, UTC).
"""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from ingestion.common import decimal_json
from ingestion.common.clock import SAO_PAULO
from ingestion.common.quarantine import QuarantineRecord
from ingestion.open_finance.schemas import CARD_TRANSACTION_TYPES, TRANSACTION_TYPES

SOURCE = "pluggy"
FOUR_PLACES = Decimal("0.0001")
MAX_MONEY = Decimal("99999999999999.9999")  # Decimal(18, 4)

OPEN_FINANCE_TYPES = TRANSACTION_TYPES  # Open Finance's EnumTransactionTypes
CARD_TYPES = CARD_TRANSACTION_TYPES  # Open Finance's EnumCreditCardTransactionType
PAYMENT_METHODS = {
    "PIX": "PIX",
    "TED": "TED",
    "DOC": "DOC",
    "TEV": "TRANSFERENCIA_MESMA_INSTITUICAO",
    "BOLETO": "BOLETO",
}
PERSON_TYPES = {"CPF": "PESSOA_NATURAL", "CNPJ": "PESSOA_JURIDICA"}
CARD_PAYMENT_TYPES = {"SINGLE": "A_VISTA", "INSTALLMENT": "A_PRAZO"}


class RecordError(ValueError):
    """The record breaks the contract: the message is the quarantine reason."""


def raw_json(record) -> str:
    """The record as sent, keys sorted; numbers stay JSON numbers with their digits (they were read as Decimal)."""
    return decimal_json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)


def quarantine(entity: str, key: str, reason: str, record) -> QuarantineRecord:
    return QuarantineRecord(SOURCE, entity, key, reason, raw_json(record))


def _text(record: dict, name: str, *, required: bool = True) -> str | None:
    value = record.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RecordError(f"`{name}` is missing")
        return None
    if not isinstance(value, str):
        raise RecordError(f"`{name}` is {type(value).__name__}, not text: {value!r}")
    return value.strip()


def money(record: dict, name: str, *, required: bool = True) -> Decimal | None:
    value = record.get(name)
    if value is None:
        if required:
            raise RecordError(f"`{name}` is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise RecordError(f"`{name}` is not a number: {value!r}")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise RecordError(f"`{name}` is not a number: {value!r}") from None
    if not amount.is_finite():
        raise RecordError(f"`{name}` is not a finite number: {value!r}")
    if amount != amount.quantize(FOUR_PLACES):
        raise RecordError(f"`{name}` has more than 4 decimal places: {value!r}")
    if abs(amount) > MAX_MONEY:
        raise RecordError(f"`{name}` does not fit Decimal(18, 4): {value!r}")
    return amount.quantize(FOUR_PLACES)


def instant(record: dict, name: str, *, required: bool = True) -> datetime | None:
    value = _text(record, name, required=required)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(f"`{name}` is not an ISO 8601 date-time: {value!r}") from None
    if moment.tzinfo is None:
        raise RecordError(f"`{name}` has no time zone: {value!r}")
    return moment.astimezone(ZoneInfo("UTC"))


def local_date(moment: datetime) -> date:
    return moment.astimezone(SAO_PAULO).date()


def _digits(value: str | None) -> str | None:
    if value is None:
        return None
    digits = re.sub(r"\D", "", value)
    return digits or None


def split_check_digit(number: str) -> tuple[str, str]:
    """`"13772361-7"` -> (`"13772361"`, `"7"`); without a `-`, the number and an empty check digit."""
    head, _, tail = number.rpartition("-")
    return (head.strip(), tail.strip()) if head else (number.strip(), "")


def account_row(record: dict, institution: str, item_id: str, compe_code: str | None, connector: str | None) -> dict:
    account_id = _text(record, "id")
    kind = _text(record, "type")
    if kind not in ("BANK", "CREDIT"):
        raise RecordError(f"`type` {kind!r} is neither BANK nor CREDIT")
    number = _text(record, "number")
    bank = record.get("bankData") or {}
    if not isinstance(bank, dict):
        raise RecordError("`bankData` is not an object")
    branch = None
    transfer = bank.get("transferNumber")
    if isinstance(transfer, str) and "/" in transfer:
        branch = transfer.split("/", 1)[0].strip() or None
    account_number, check_digit = split_check_digit(number) if kind == "BANK" else (number, "")
    return {
        "institution": institution,
        "item_id": item_id,
        "account_id": account_id,
        "connector_name": connector,
        "type": kind,
        "subtype": _text(record, "subtype"),
        "name": _text(record, "name"),
        "number": number,
        "compe_code": compe_code,
        "branch_code": branch,
        "account_number": account_number,
        "check_digit": check_digit,
        "owner_tax_number": _digits(record.get("taxNumber") if isinstance(record.get("taxNumber"), str) else None),
        "currency": _text(record, "currencyCode"),
        "raw_json": raw_json(record),
    }


def balance_row(record: dict, institution: str, item_id: str) -> dict:
    bank = record.get("bankData") or {}
    updated = instant(record, "updatedAt")
    return {
        "institution": institution,
        "item_id": item_id,
        "account_id": _text(record, "id"),
        "update_datetime": updated,
        "balance_date": local_date(updated),
        "balance": money(record, "balance"),
        "closing_balance": money(bank, "closingBalance", required=False),
        "automatically_invested_balance": money(bank, "automaticallyInvestedBalance", required=False),
        "currency": _text(record, "currencyCode"),
        "raw_json": raw_json(record),
    }


def _direction(record: dict, amount: Decimal) -> str:
    kind = record.get("type")
    if kind is None:
        return "CREDITO" if amount >= 0 else "DEBITO"
    if kind not in ("CREDIT", "DEBIT"):
        raise RecordError(f"`type` {kind!r} is neither CREDIT nor DEBIT")
    return "CREDITO" if kind == "CREDIT" else "DEBITO"


def open_finance_type(operation_type: str | None, payment_method: str | None) -> str:
    if operation_type in OPEN_FINANCE_TYPES:
        return operation_type
    return PAYMENT_METHODS.get(payment_method or "", "OUTROS")


def _partie(payment: dict, direction: str) -> dict:
    side = payment.get("receiver" if direction == "DEBITO" else "payer") or {}
    if not isinstance(side, dict):
        raise RecordError("`paymentData` payer/receiver is not an object")
    document = side.get("documentNumber") or {}
    if not isinstance(document, dict):
        raise RecordError("`paymentData` documentNumber is not an object")
    number, check = (None, None)
    if isinstance(side.get("accountNumber"), str) and side["accountNumber"].strip():
        number, check = split_check_digit(side["accountNumber"])
    return {
        "partie_cnpj_cpf": _digits(document.get("value") if isinstance(document.get("value"), str) else None),
        "partie_person_type": PERSON_TYPES.get(document.get("type") or ""),
        "partie_compe_code": side.get("routingNumber") or None,
        "partie_branch_code": side.get("branchNumber") or None,
        "partie_number": number,
        "partie_check_digit": check or None,
        "partie_name": side.get("name") or None,
    }


def transaction_row(record: dict, institution: str, item_id: str, account_id: str, pull_day: date) -> dict:
    transaction_id = _text(record, "id")
    if record.get("accountId") not in (None, account_id):
        raise RecordError(f"`accountId` {record.get('accountId')!r} is not the account asked for ({account_id})")
    raw_amount = money(record, "amount")
    direction = _direction(record, raw_amount)
    amount = abs(raw_amount)
    moment = instant(record, "date")
    booking = local_date(moment)
    pluggy_status = record.get("status") or "POSTED"
    if pluggy_status not in ("POSTED", "PENDING"):
        raise RecordError(f"`status` {pluggy_status!r} is neither POSTED nor PENDING")
    if pluggy_status == "POSTED":
        status = "TRANSACAO_EFETIVADA"
    else:
        status = "LANCAMENTO_FUTURO" if booking > pull_day else "TRANSACAO_PROCESSANDO"
    payment = record.get("paymentData") or {}
    if not isinstance(payment, dict):
        raise RecordError("`paymentData` is not an object")
    operation_type = record.get("operationType") or None
    method = payment.get("paymentMethod") or None
    currency = _text(record, "currencyCode")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise RecordError(f"`currencyCode` {currency!r} is not an ISO 4217 code")
    return {
        "institution": institution,
        "item_id": item_id,
        "account_id": account_id,
        "transaction_id": transaction_id,
        "provider_id": record.get("providerId") or None,
        "pluggy_status": pluggy_status,
        "status": status,
        "credit_debit_type": direction,
        "operation_type": operation_type,
        "payment_method": method,
        "transaction_type": open_finance_type(operation_type, method),
        "transaction_name": _text(record, "descriptionRaw", required=False) or _text(record, "description"),
        "amount": amount,
        "signed_amount": amount if direction == "CREDITO" else -amount,
        "currency": currency,
        "balance_after": money(record, "balance", required=False),
        "transaction_datetime": moment,
        "booking_date": booking,
        **_partie(payment, direction),
        "raw_json": raw_json(record),
    }


def _int(meta: dict, name: str) -> int | None:
    value = meta.get(name)
    if value is None:
        return None
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError):
        raise RecordError(f"`creditCardMetadata.{name}` is not a number: {value!r}") from None
    if number != number.to_integral_value():
        raise RecordError(f"`creditCardMetadata.{name}` is not a whole number: {value!r}")
    return int(number)


def card_transaction_row(record: dict, institution: str, item_id: str, account: dict) -> dict:
    transaction_id = _text(record, "id")
    meta = record.get("creditCardMetadata") or {}
    if not isinstance(meta, dict):
        raise RecordError("`creditCardMetadata` is not an object")
    raw_amount = money(record, "amount")
    direction = _direction(record, -raw_amount)  # a card purchase is positive; `type` says DEBIT anyway
    amount = abs(raw_amount)
    currency = _text(record, "currencyCode")
    in_brl = money(record, "amountInAccountCurrency", required=False)
    brazilian = abs(in_brl) if in_brl is not None else amount
    if in_brl is None and currency != account["currency"]:
        raise RecordError(f"a {currency} card transaction without `amountInAccountCurrency`")
    moment = instant(meta, "transactionDateTime", required=False) or instant(record, "date")
    post = meta.get("billPostDate")
    try:
        bill_post = date.fromisoformat(post) if post else None
    except (TypeError, ValueError):
        raise RecordError(f"`creditCardMetadata.billPostDate` is not a date: {post!r}") from None
    operation_type = record.get("operationType") or None
    return {
        "institution": institution,
        "item_id": item_id,
        "credit_card_account_id": account["account_id"],
        "transaction_id": transaction_id,
        "bill_id": meta.get("billId") or None,
        "identification_number": meta.get("cardNumber") or account["number"],
        "pluggy_status": record.get("status") or "POSTED",
        "transaction_name": _text(record, "descriptionRaw", required=False) or _text(record, "description"),
        "credit_debit_type": direction,
        "transaction_type": operation_type
        if operation_type in CARD_TYPES
        else ("PAGAMENTO" if direction == "DEBITO" else "OUTROS"),
        "payment_type": CARD_PAYMENT_TYPES.get(meta.get("paymentType") or ""),
        "fee_type": meta.get("feeType") or None,
        "other_credits_type": meta.get("otherCreditsType") or None,
        "charge_identificator": _int(meta, "installmentNumber"),
        "charge_number": _int(meta, "totalInstallments"),
        "amount": amount,
        "currency": currency,
        "brazilian_amount": brazilian,
        "signed_brazilian_amount": brazilian if direction == "CREDITO" else -brazilian,
        "brazilian_currency": account["currency"],
        "transaction_datetime": moment,
        "transaction_date": local_date(moment),
        "bill_post_date": bill_post,
        "payee_mcc": _int(meta, "payeeMCC"),
        "raw_json": raw_json(record),
    }


def _calendar_date(record: dict, name: str, *, required: bool = True) -> date | None:
    """A bill date. pluggy-sdk types `dueDate`/`billClosingDate` as date-times; a calendar date sent as
    `2024-02-05T00:00:00.000Z` is the date written (its São Paulo time would be the evening before), so the date
    part as written is taken; a plain `2024-02-05` too."""
    value = _text(record, name, required=required)
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise RecordError(f"`{name}` is not an ISO 8601 date: {value!r}") from None


def _sum_of(record: dict, name: str) -> Decimal | None:
    """The sum of `<name>[].amount` (financeCharges, payments); None when the list is empty or absent."""
    entries = record.get(name) or []
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise RecordError(f"`{name}` is not a list of objects")
    if not entries:
        return None
    return sum((money(entry, "amount") for entry in entries), Decimal(0))


def bill_row(record: dict, institution: str, item_id: str, account: dict) -> dict:
    """One bill (`Bill` of pluggy-sdk: id, dueDate, billClosingDate, totalAmount, totalAmountCurrencyCode,
    minimumPaymentAmount, allowsInstallments, financeCharges[], payments[])."""
    allows = record.get("allowsInstallments")
    if allows is not None and not isinstance(allows, bool):
        raise RecordError(f"`allowsInstallments` is not true/false: {allows!r}")
    return {
        "institution": institution,
        "item_id": item_id,
        "credit_card_account_id": account["account_id"],
        "bill_id": _text(record, "id"),
        "due_date": _calendar_date(record, "dueDate"),
        "bill_closing_date": _calendar_date(record, "billClosingDate", required=False),
        "total_amount": money(record, "totalAmount"),
        "total_currency": _text(record, "totalAmountCurrencyCode"),
        "minimum_payment_amount": money(record, "minimumPaymentAmount", required=False),
        "allows_installments": allows,
        "finance_charges_amount": _sum_of(record, "financeCharges"),
        "payments_amount": _sum_of(record, "payments"),
        "raw_json": raw_json(record),
    }
