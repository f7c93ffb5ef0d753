"""Field maps from the official records (accounts 2.4.2, credit-cards 2.3.1, exchanges 1.0.0) to lake columns.

`required=True` follows each schema's `required` list; everything else may be absent (null).
"""

from collections.abc import Iterable, Mapping

from ingestion.open_finance.parse import Field, Parsed, booking_date, parse_records, signed

ACCOUNT_FIELDS = (
    Field("account_id", "accountId", "id"),
    Field("brand_name", "brandName", "text"),
    Field("company_cnpj", "companyCnpj", "text"),
    Field("account_type", "type", "text"),
    Field("compe_code", "compeCode", "text"),
    Field("branch_code", "branchCode", "text", False),
    Field("number", "number", "text"),
    Field("check_digit", "checkDigit", "text"),
)

BALANCE_FIELDS = (
    Field("update_datetime", "updateDateTime", "ts"),
    Field("available_amount", "availableAmount.amount", "money"),
    Field("available_currency", "availableAmount.currency", "currency"),
    Field("blocked_amount", "blockedAmount.amount", "money"),
    Field("blocked_currency", "blockedAmount.currency", "currency"),
    Field("automatically_invested_amount", "automaticallyInvestedAmount.amount", "money"),
    Field("automatically_invested_currency", "automaticallyInvestedAmount.currency", "currency"),
)

TRANSACTION_FIELDS = (
    Field("transaction_id", "transactionId", "id"),
    Field("status", "completedAuthorisedPaymentType", "text"),
    Field("credit_debit_type", "creditDebitType", "text"),
    Field("transaction_name", "transactionName", "text"),
    Field("transaction_type", "type", "text"),
    Field("amount", "transactionAmount.amount", "money"),
    Field("currency", "transactionAmount.currency", "currency"),
    Field("transaction_datetime", "transactionDateTime", "ts"),
    Field("partie_cnpj_cpf", "partieCnpjCpf", "text", False),
    Field("partie_person_type", "partiePersonType", "text", False),
    Field("partie_compe_code", "partieCompeCode", "text", False),
    Field("partie_branch_code", "partieBranchCode", "text", False),
    Field("partie_number", "partieNumber", "text", False),
    Field("partie_check_digit", "partieCheckDigit", "text", False),
)

CARD_ACCOUNT_FIELDS = (
    Field("credit_card_account_id", "creditCardAccountId", "id"),
    Field("brand_name", "brandName", "text"),
    Field("company_cnpj", "companyCnpj", "text"),
    Field("name", "name", "text"),
    Field("product_type", "productType", "text"),
    Field("product_additional_info", "productAdditionalInfo", "text", False),
    Field("credit_card_network", "creditCardNetwork", "text"),
    Field("network_additional_info", "networkAdditionalInfo", "text", False),
)

BILL_FIELDS = (
    Field("bill_id", "billId", "id"),
    Field("due_date", "dueDate", "date"),
    Field("bill_total_amount", "billTotalAmount.amount", "money"),
    Field("bill_total_currency", "billTotalAmount.currency", "currency"),
    Field("bill_minimum_amount", "billMinimumAmount.amount", "money"),
    Field("bill_minimum_currency", "billMinimumAmount.currency", "currency"),
    Field("is_instalment", "isInstalment", "bool"),
)

CARD_TRANSACTION_FIELDS = (
    Field("transaction_id", "transactionId", "id"),
    Field("bill_id", "billId", "id", False),
    Field("identification_number", "identificationNumber", "text"),
    Field("transaction_name", "transactionName", "text"),
    Field("credit_debit_type", "creditDebitType", "text"),
    Field("transaction_type", "transactionType", "text"),
    Field("payment_type", "paymentType", "text", False),
    Field("fee_type", "feeType", "text", False),
    Field("other_credits_type", "otherCreditsType", "text", False),
    Field("charge_identificator", "chargeIdentificator", "int", False),
    Field("charge_number", "chargeNumber", "int", False),
    Field("amount", "amount.amount", "money"),
    Field("currency", "amount.currency", "currency"),
    Field("brazilian_amount", "brazilianAmount.amount", "money"),
    Field("brazilian_currency", "brazilianAmount.currency", "currency"),
    Field("transaction_datetime", "transactionDateTime", "ts"),
    Field("bill_post_date", "billPostDate", "date"),
    Field("payee_mcc", "payeeMCC", "int", False),
)


def _fx_values(required: bool) -> tuple[Field, ...]:
    return (
        Field("fx_rate", "localCurrencyOperationTax.amount", "rate", required),
        Field("fx_rate_currency", "localCurrencyOperationTax.currency", "currency", required),
        Field("local_currency_value", "localCurrencyOperationValue.amount", "money", required),
        Field("local_currency", "localCurrencyOperationValue.currency", "currency", required),
        Field("foreign_value", "foreignOperationValue.amount", "money", required),
        Field("foreign_currency", "foreignOperationValue.currency", "currency", required),
        Field("outstanding_balance", "operationOutstandingBalance.amount", "money", False),
        Field("outstanding_balance_currency", "operationOutstandingBalance.currency", "currency", False),
        Field("vet_amount", "vetAmount.amount", "rate", False),
        Field("vet_currency", "vetAmount.currency", "currency", False),
        Field("local_currency_advance_percentage", "localCurrencyAdvancePercentage", "rate", False),
        Field("delivery_foreign_currency", "deliveryForeignCurrency", "text", required),
        Field("operation_category_code", "operationCategoryCode", "text", required),
    )


FX_OPERATION_FIELDS = (
    Field("operation_id", "operationId", "id"),
    Field("brand_name", "brandName", "text"),
    Field("company_cnpj", "companyCnpj", "text"),
    Field("authorized_institution_cnpj", "authorizedInstitutionCnpjNumber", "text"),
    Field("authorized_institution_name", "authorizedInstitutionName", "text"),
    Field("intermediary_institution_cnpj", "intermediaryInstitutionCnpjNumber", "text", False),
    Field("intermediary_institution_name", "intermediaryInstitutionName", "text", False),
    Field("operation_number", "operationNumber", "text", False),
    Field("operation_type", "operationType", "text"),
    Field("operation_datetime", "operationDate", "ts"),
    Field("due_date", "dueDate", "date"),
    *_fx_values(True),
)

FX_EVENT_FIELDS = (
    Field("event_sequence_number", "eventSequenceNumber", "id"),
    Field("event_type", "eventType", "text"),
    Field("event_datetime", "eventDate", "ts"),
    Field("due_date", "dueDate", "date", False),
    *_fx_values(False),
    Field("foreign_partie_relationship_code", "foreignPartie.relationshipCode", "text", False),
    Field("foreign_partie_name", "foreignPartie.foreignPartieName", "text", False),
    Field("foreign_partie_country_code", "foreignPartie.foreignPartieCountryCode", "text", False),
)


def _derive_transaction(row: dict) -> None:
    row["signed_amount"] = signed(row["amount"], row["credit_debit_type"])
    row["booking_date"] = booking_date(row["transaction_datetime"])


def _derive_card_transaction(row: dict) -> None:
    row["signed_brazilian_amount"] = signed(row["brazilian_amount"], row["credit_debit_type"])


def accounts(institution: str, records: Iterable[Mapping]) -> Parsed:
    return parse_records("accounts", records, ACCOUNT_FIELDS, {"institution": institution}, "accountId")


def balances(institution: str, account_id: str, record: Mapping) -> Parsed:
    context = {"institution": institution, "account_id": account_id}
    return parse_records("balances", [record], BALANCE_FIELDS, context, "updateDateTime")


def transactions(institution: str, account_id: str, records: Iterable[Mapping]) -> Parsed:
    context = {"institution": institution, "account_id": account_id}
    return parse_records("transactions", records, TRANSACTION_FIELDS, context, "transactionId", _derive_transaction)


def credit_card_accounts(institution: str, records: Iterable[Mapping]) -> Parsed:
    context = {"institution": institution}
    return parse_records("credit_card_accounts", records, CARD_ACCOUNT_FIELDS, context, "creditCardAccountId")


def credit_card_bills(institution: str, card_id: str, records: Iterable[Mapping]) -> Parsed:
    context = {"institution": institution, "credit_card_account_id": card_id}
    return parse_records("credit_card_bills", records, BILL_FIELDS, context, "billId")


def credit_card_transactions(
    institution: str, card_id: str, records: Iterable[Mapping], bill_id: str | None = None
) -> Parsed:
    """Card transactions; those read from a bill's endpoint get that `bill_id` when the record lacks it."""
    context = {"institution": institution, "credit_card_account_id": card_id}

    def derive(row: dict) -> None:
        _derive_card_transaction(row)
        if bill_id is not None and row.get("bill_id") is None:
            row["bill_id"] = bill_id

    return parse_records("credit_card_transactions", records, CARD_TRANSACTION_FIELDS, context, "transactionId", derive)


def fx_operation(institution: str, listed: Mapping, detail: Mapping) -> Parsed:
    """One FX operation: the list item (operationId, brandName, companyCnpj) merged with its detail."""
    return parse_records(
        "fx_operations",
        [{**detail, **listed}],
        FX_OPERATION_FIELDS,
        {"institution": institution},
        "operationId",
    )


def fx_operation_events(institution: str, operation_id: str, records: Iterable[Mapping]) -> Parsed:
    context = {"institution": institution, "operation_id": operation_id}
    return parse_records("fx_operation_events", records, FX_EVENT_FIELDS, context, "eventSequenceNumber")
