"""The lake datasets of the Pluggy connector (`<lake>/pluggy/<entity>/dt=<month's first day>/part-000.parquet`).

Money `decimal128(18, 4)`, instants `timestamp(ms, UTC)`, dates `date32`. Every table starts with `institution`
and `item_id` and ends with `raw_json` (the record as Pluggy sent it, keys sorted). Rows are sorted by the key, so
the same answers give the same bytes.
"""

import pyarrow as pa

MONEY = pa.decimal128(18, 4)
INSTANT = pa.timestamp("ms", tz="UTC")


def _f(name: str, type_: pa.DataType, nullable: bool = False) -> pa.Field:
    return pa.field(name, type_, nullable=nullable)


ACCOUNTS = pa.schema(
    [
        _f("institution", pa.string()),
        _f("item_id", pa.string()),
        _f("account_id", pa.string()),
        _f("connector_name", pa.string(), True),
        _f("type", pa.string()),  # BANK or CREDIT
        _f("subtype", pa.string()),  # CHECKING_ACCOUNT, SAVINGS_ACCOUNT, CREDIT_CARD
        _f("name", pa.string()),
        _f("number", pa.string()),  # as sent (a card: its last 4 digits)
        _f("compe_code", pa.string(), True),  # from PLUGGY_ITEM_IDS: Pluggy does not send it
        _f("branch_code", pa.string(), True),  # from bankData.transferNumber "<branch>/<number>"
        _f("account_number", pa.string()),  # `number` without its check digit
        _f("check_digit", pa.string()),
        _f("owner_tax_number", pa.string(), True),  # digits only
        _f("currency", pa.string()),
        _f("raw_json", pa.string()),
    ]
)

BALANCES = pa.schema(
    [
        _f("institution", pa.string()),
        _f("item_id", pa.string()),
        _f("account_id", pa.string()),
        _f("update_datetime", INSTANT),  # the account's updatedAt: when Pluggy last read the balance
        _f("balance_date", pa.date32()),  # its São Paulo date
        _f("balance", MONEY),
        _f("closing_balance", MONEY, True),  # bankData.closingBalance (includes entries not yet posted)
        _f("automatically_invested_balance", MONEY, True),
        _f("currency", pa.string()),
        _f("raw_json", pa.string()),
    ]
)

TRANSACTIONS = pa.schema(
    [
        _f("institution", pa.string()),
        _f("item_id", pa.string()),
        _f("account_id", pa.string()),
        _f("transaction_id", pa.string()),
        _f("provider_id", pa.string(), True),
        _f("pluggy_status", pa.string()),  # POSTED or PENDING
        _f("status", pa.string()),  # the Open Finance completedAuthorisedPaymentType it corresponds to
        _f("credit_debit_type", pa.string()),  # CREDITO / DEBITO
        _f("operation_type", pa.string(), True),  # as sent
        _f("payment_method", pa.string(), True),  # paymentData.paymentMethod as sent
        _f("transaction_type", pa.string()),  # the Open Finance type (parse.open_finance_type)
        _f("transaction_name", pa.string()),
        _f("amount", MONEY),  # positive
        _f("signed_amount", MONEY),  # credit +, debit -
        _f("currency", pa.string()),
        _f("balance_after", MONEY, True),  # Pluggy's running balance after the entry, when the bank sends it
        _f("transaction_datetime", INSTANT),
        _f("booking_date", pa.date32()),  # São Paulo date of transaction_datetime
        _f("partie_cnpj_cpf", pa.string(), True),
        _f("partie_person_type", pa.string(), True),
        _f("partie_compe_code", pa.string(), True),
        _f("partie_branch_code", pa.string(), True),
        _f("partie_number", pa.string(), True),
        _f("partie_check_digit", pa.string(), True),
        _f("partie_name", pa.string(), True),
        _f("raw_json", pa.string()),
    ]
)

CREDIT_CARD_TRANSACTIONS = pa.schema(
    [
        _f("institution", pa.string()),
        _f("item_id", pa.string()),
        _f("credit_card_account_id", pa.string()),
        _f("transaction_id", pa.string()),
        _f("bill_id", pa.string(), True),
        _f("identification_number", pa.string()),  # creditCardMetadata.cardNumber, else the account's number
        _f("pluggy_status", pa.string()),
        _f("transaction_name", pa.string()),
        _f("credit_debit_type", pa.string()),
        _f("transaction_type", pa.string()),  # operationType (Open Finance card types), else PAGAMENTO/OUTROS
        _f("payment_type", pa.string(), True),  # A_VISTA / A_PRAZO from SINGLE / INSTALLMENT
        _f("fee_type", pa.string(), True),
        _f("other_credits_type", pa.string(), True),
        _f("charge_identificator", pa.int32(), True),  # installmentNumber
        _f("charge_number", pa.int32(), True),  # totalInstallments
        _f("amount", MONEY),  # in `currency`, positive
        _f("currency", pa.string()),
        _f("brazilian_amount", MONEY),  # amountInAccountCurrency when the purchase was in another currency
        _f("signed_brazilian_amount", MONEY),
        _f("brazilian_currency", pa.string()),
        _f("transaction_datetime", INSTANT),
        _f("transaction_date", pa.date32()),  # São Paulo date: decides the month
        _f("bill_post_date", pa.date32(), True),
        _f("payee_mcc", pa.int32(), True),
        _f("raw_json", pa.string()),
    ]
)

CREDIT_CARD_BILLS = pa.schema(
    [
        _f("institution", pa.string()),
        _f("item_id", pa.string()),
        _f("credit_card_account_id", pa.string()),
        _f("bill_id", pa.string()),
        _f("due_date", pa.date32()),  # the date dueDate is written for
        _f("bill_closing_date", pa.date32(), True),
        _f("total_amount", MONEY),  # as sent (what the bill asks for)
        _f("total_currency", pa.string()),
        _f("minimum_payment_amount", MONEY, True),
        _f("allows_installments", pa.bool_(), True),
        _f("finance_charges_amount", MONEY, True),  # the sum of financeCharges[].amount; null when none listed
        _f("payments_amount", MONEY, True),  # the sum of payments[].amount; null when none listed
        _f("raw_json", pa.string()),
    ]
)

SCHEMAS = {
    "accounts": ACCOUNTS,
    "balances": BALANCES,
    "transactions": TRANSACTIONS,
    "credit_card_transactions": CREDIT_CARD_TRANSACTIONS,
    "credit_card_bills": CREDIT_CARD_BILLS,
}
KEYS = {
    "accounts": ("institution", "item_id", "account_id"),
    "balances": ("institution", "item_id", "account_id", "update_datetime"),
    "transactions": ("institution", "item_id", "account_id", "transaction_id"),
    "credit_card_transactions": ("institution", "item_id", "credit_card_account_id", "transaction_id"),
    "credit_card_bills": ("institution", "item_id", "credit_card_account_id", "bill_id"),
}
