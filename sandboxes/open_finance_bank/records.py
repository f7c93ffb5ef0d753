"""Render official-shape records from plain values, so generators never format amounts or dates by hand.

Amounts: `Decimal` → string with the pattern of the field (4 decimals for accounts and cards, 2 for FX values,
up to 15 for FX rates and VET). Instants: aware `datetime` → UTC `...Z` (milliseconds where the field has them).
Signed amounts: account and card transactions take a signed `Decimal` (credit > 0, debit < 0) and become an
unsigned amount plus `creditDebitType`.
"""

from datetime import UTC, date, datetime
from decimal import Decimal


def amount4(value: Decimal) -> str:
    return f"{Decimal(value).quantize(Decimal('0.0001'))}"


def amount2(value: Decimal) -> str:
    return f"{Decimal(value).quantize(Decimal('0.01'))}"


def rate(value: Decimal) -> str:
    """Up to 15 decimals, at least one (pattern `^\\d{1,15}\\.\\d{1,15}$`)."""
    text = format(Decimal(value).normalize(), "f")
    return text if "." in text else text + ".0"


def money(value: Decimal, currency: str = "BRL") -> dict:
    return {"amount": amount4(value), "currency": currency}


def fx_money(value: Decimal, currency: str) -> dict:
    return {"amount": amount2(value), "currency": currency}


def instant(when: datetime) -> str:
    """Second precision, `2021-05-21T08:30:00Z` (maxLength 20 fields)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def instant_ms(when: datetime) -> str:
    """Millisecond precision, `2016-01-29T12:29:03.374Z` (transactionDateTime)."""
    utc = when.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def account(
    account_id: str,
    number: str,
    check_digit: str,
    brand: str,
    bank_cnpj: str,
    compe_code: str,
    branch_code: str | None = "0001",
    kind: str = "CONTA_DEPOSITO_A_VISTA",
) -> dict:
    record = {
        "brandName": brand,
        "companyCnpj": bank_cnpj,
        "type": kind,
        "compeCode": compe_code,
        "number": number,
        "checkDigit": check_digit,
        "accountId": account_id,
    }
    if branch_code:
        record["branchCode"] = branch_code
    return record


def balance(
    available: Decimal,
    updated: datetime,
    blocked: Decimal = Decimal(0),
    invested: Decimal = Decimal(0),
    currency: str = "BRL",
) -> dict:
    return {
        "availableAmount": money(available, currency),
        "blockedAmount": money(blocked, currency),
        "automaticallyInvestedAmount": money(invested, currency),
        "updateDateTime": instant(updated),
    }


def account_transaction(
    transaction_id: str,
    signed_amount: Decimal,
    when: datetime,
    name: str,
    kind: str,
    status: str = "TRANSACAO_EFETIVADA",
    currency: str = "BRL",
    partie: dict | None = None,
) -> dict:
    """`partie`: optional counterparty fields (partieCnpjCpf, partiePersonType, partieCompeCode, ...)."""
    record = {
        "transactionId": transaction_id,
        "completedAuthorisedPaymentType": status,
        "creditDebitType": "CREDITO" if signed_amount > 0 else "DEBITO",
        "transactionName": name,
        "type": kind,
        "transactionAmount": money(abs(signed_amount), currency),
        "transactionDateTime": instant_ms(when),
    }
    record.update(partie or {})
    return record


def card_account(
    card_id: str, name: str, brand: str, bank_cnpj: str, product_type: str = "PLATINUM", network: str = "VISA"
) -> dict:
    return {
        "creditCardAccountId": card_id,
        "brandName": brand,
        "companyCnpj": bank_cnpj,
        "name": name,
        "productType": product_type,
        "creditCardNetwork": network,
    }


def bill(bill_id: str, due: date, total: Decimal, minimum: Decimal, payments: list[dict] | None = None) -> dict:
    return {
        "billId": bill_id,
        "dueDate": due.isoformat(),
        "billTotalAmount": money(total),
        "billMinimumAmount": money(minimum),
        "isInstalment": False,
        "payments": payments or [],
    }


def card_transaction(
    transaction_id: str,
    card_last4: str,
    signed_brl: Decimal,
    when: datetime,
    name: str,
    post_date: date,
    kind: str = "OUTROS",
    original: tuple[Decimal, str] | None = None,
    bill_id: str | None = None,
    mcc: int | None = None,
    fee_type: str | None = None,
) -> dict:
    """`signed_brl`: BRL value, negative for a purchase; `original`: (amount, currency) of a foreign purchase."""
    amount, currency = original or (abs(signed_brl), "BRL")
    record = {
        "transactionId": transaction_id,
        "identificationNumber": card_last4,
        "transactionName": name,
        "creditDebitType": "CREDITO" if signed_brl > 0 else "DEBITO",
        "transactionType": kind,
        "brazilianAmount": money(abs(signed_brl)),
        "amount": money(abs(amount), currency),
        "transactionDateTime": instant_ms(when),
        "billPostDate": post_date.isoformat(),
        "paymentType": "A_VISTA",
    }
    if bill_id:
        record["billId"] = bill_id
    if mcc is not None:
        record["payeeMCC"] = mcc
    if fee_type:
        record["feeType"] = fee_type
    return record


def fx_values(
    rate_brl: Decimal,
    foreign: Decimal,
    currency: str,
    vet: Decimal | None = None,
    outstanding: Decimal | None = None,
) -> dict:
    """The value fields shared by an operation's detail and its events."""
    values = {
        "localCurrencyOperationTax": {"amount": rate(rate_brl), "currency": "BRL"},
        "localCurrencyOperationValue": fx_money(foreign * rate_brl, "BRL"),
        "foreignOperationValue": fx_money(foreign, currency),
    }
    if outstanding is not None:
        values["operationOutstandingBalance"] = fx_money(outstanding, currency)
    if vet is not None:
        values["vetAmount"] = {"amount": rate(vet), "currency": "BRL"}
    return values


def fx_detail(
    bank_cnpj: str,
    bank_name: str,
    operation_type: str,
    contracted: datetime,
    due: date,
    values: dict,
    category_code: str,
    delivery: str = "TELETRANSMISSAO",
    operation_number: str | None = None,
) -> dict:
    record = {
        "authorizedInstitutionCnpjNumber": bank_cnpj,
        "authorizedInstitutionName": bank_name,
        "operationType": operation_type,
        "operationDate": instant(contracted),
        "dueDate": due.isoformat(),
        **values,
        "deliveryForeignCurrency": delivery,
        "operationCategoryCode": category_code,
    }
    if operation_number:
        record["operationNumber"] = operation_number
    return record


def fx_event(
    sequence: str,
    event_type: str,
    when: datetime,
    values: dict | None = None,
    foreign_partie: tuple[str, str, str] | None = None,
    **extra,
) -> dict:
    """`foreign_partie`: (relationshipCode, name, ISO country) of the counterparty abroad, on settlements."""
    record = {
        "eventSequenceNumber": sequence,
        "eventType": event_type,
        "eventDate": instant(when),
        **(values or {}),
        **extra,
    }
    if foreign_partie:
        code, name, country = foreign_partie
        record["foreignPartie"] = {
            "relationshipCode": code,
            "foreignPartieName": name,
            "foreignPartieCountryCode": country,
        }
    return record
