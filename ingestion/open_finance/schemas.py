"""The Arrow schema of every Open Finance lake dataset (`open_finance__<entity>`): the single definition.

Money is `decimal128(18, 4)` (Open Finance sends up to 4 decimals), FX rates and VET `decimal128(38, 15)` (up
to 15 decimals), instants `timestamp(ms, UTC)`, business dates `date32`, IDs and codes strings. Every table
starts with `institution` and ends with `raw_json`: the record exactly as the institution sent it (keys
sorted), so fields this version does not map are kept. Rows are sorted by the entity's key, so the same
answers give the same table.
"""

from collections.abc import Iterable

import pyarrow as pa

MONEY = pa.decimal128(18, 4)
RATE = pa.decimal128(38, 15)
TS = pa.timestamp("ms", tz="UTC")
DATE = pa.date32()
STR = pa.string()
# Open Finance Brasil's EnumTransactionTypes (accounts API v2, specs/accounts/): the bank statement files and Pluggy
# map their movements onto these too, so staging shares them.
TRANSACTION_TYPES = frozenset(
    {
        "TED",
        "DOC",
        "PIX",
        "TRANSFERENCIA_MESMA_INSTITUICAO",
        "BOLETO",
        "CONVENIO_ARRECADACAO",
        "PACOTE_TARIFA_SERVICOS",
        "TARIFA_SERVICOS_AVULSOS",
        "FOLHA_PAGAMENTO",
        "DEPOSITO",
        "SAQUE",
        "CARTAO",
        "ENCARGOS_JUROS_CHEQUE_ESPECIAL",
        "RENDIMENTO_APLIC_FINANCEIRA",
        "PORTABILIDADE_SALARIO",
        "RESGATE_APLIC_FINANCEIRA",
        "OPERACAO_CREDITO",
        "OUTROS",
    }
)
# Open Finance Brasil's EnumCreditCardTransactionType (credit-cards API v2): Pluggy and the OFX card statements map
# their card movements onto these too. PAGAMENTO is a purchase (a payment to the merchant), not the bill's payment.
CARD_TRANSACTION_TYPES = frozenset(
    {"PAGAMENTO", "TARIFA", "OPERACOES_CREDITO_CONTRATADAS_CARTAO", "ESTORNO", "CASHBACK", "OUTROS"}
)


def _schema(*fields: tuple[str, pa.DataType, bool]) -> pa.Schema:
    head = [pa.field("institution", STR, nullable=False)]
    tail = [pa.field("raw_json", STR, nullable=False)]
    return pa.schema(head + [pa.field(name, kind, nullable=nullable) for name, kind, nullable in fields] + tail)


ACCOUNTS = _schema(
    ("account_id", STR, False),
    ("brand_name", STR, False),
    ("company_cnpj", STR, False),
    ("account_type", STR, False),
    ("compe_code", STR, False),
    ("branch_code", STR, True),
    ("number", STR, False),
    ("check_digit", STR, False),
)

BALANCES = _schema(
    ("account_id", STR, False),
    ("update_datetime", TS, False),
    ("available_amount", MONEY, False),
    ("available_currency", STR, False),
    ("blocked_amount", MONEY, False),
    ("blocked_currency", STR, False),
    ("automatically_invested_amount", MONEY, False),
    ("automatically_invested_currency", STR, False),
)

TRANSACTIONS = _schema(
    ("account_id", STR, False),
    ("transaction_id", STR, False),
    ("status", STR, False),
    ("credit_debit_type", STR, False),
    ("transaction_type", STR, False),
    ("transaction_name", STR, False),
    ("amount", MONEY, False),
    ("signed_amount", MONEY, False),
    ("currency", STR, False),
    ("transaction_datetime", TS, False),
    ("booking_date", DATE, False),
    ("partie_cnpj_cpf", STR, True),
    ("partie_person_type", STR, True),
    ("partie_compe_code", STR, True),
    ("partie_branch_code", STR, True),
    ("partie_number", STR, True),
    ("partie_check_digit", STR, True),
)

CREDIT_CARD_ACCOUNTS = _schema(
    ("credit_card_account_id", STR, False),
    ("brand_name", STR, False),
    ("company_cnpj", STR, False),
    ("name", STR, False),
    ("product_type", STR, False),
    ("product_additional_info", STR, True),
    ("credit_card_network", STR, False),
    ("network_additional_info", STR, True),
)

CREDIT_CARD_BILLS = _schema(
    ("credit_card_account_id", STR, False),
    ("bill_id", STR, False),
    ("due_date", DATE, False),
    ("bill_total_amount", MONEY, False),
    ("bill_total_currency", STR, False),
    ("bill_minimum_amount", MONEY, False),
    ("bill_minimum_currency", STR, False),
    ("is_instalment", pa.bool_(), False),
)

CREDIT_CARD_TRANSACTIONS = _schema(
    ("credit_card_account_id", STR, False),
    ("transaction_id", STR, False),
    ("bill_id", STR, True),
    ("identification_number", STR, False),
    ("transaction_name", STR, False),
    ("credit_debit_type", STR, False),
    ("transaction_type", STR, False),
    ("payment_type", STR, True),
    ("fee_type", STR, True),
    ("other_credits_type", STR, True),
    ("charge_identificator", pa.int32(), True),
    ("charge_number", pa.int32(), True),
    ("amount", MONEY, False),
    ("currency", STR, False),
    ("brazilian_amount", MONEY, False),
    ("signed_brazilian_amount", MONEY, False),
    ("brazilian_currency", STR, False),
    ("transaction_datetime", TS, False),
    ("bill_post_date", DATE, False),
    ("payee_mcc", pa.int32(), True),
)

_FX_VALUES = (
    ("fx_rate", RATE),
    ("fx_rate_currency", STR),
    ("local_currency_value", MONEY),
    ("local_currency", STR),
    ("foreign_value", MONEY),
    ("foreign_currency", STR),
    ("outstanding_balance", MONEY),
    ("outstanding_balance_currency", STR),
    ("vet_amount", RATE),
    ("vet_currency", STR),
    ("local_currency_advance_percentage", RATE),
)

FX_OPERATIONS = _schema(
    ("operation_id", STR, False),
    ("brand_name", STR, False),
    ("company_cnpj", STR, False),
    ("authorized_institution_cnpj", STR, False),
    ("authorized_institution_name", STR, False),
    ("intermediary_institution_cnpj", STR, True),
    ("intermediary_institution_name", STR, True),
    ("operation_number", STR, True),
    ("operation_type", STR, False),
    ("operation_datetime", TS, False),
    ("due_date", DATE, False),
    *(
        (
            name,
            kind,
            name
            in (
                "outstanding_balance",
                "outstanding_balance_currency",
                "vet_amount",
                "vet_currency",
                "local_currency_advance_percentage",
            ),
        )
        for name, kind in _FX_VALUES
    ),
    ("delivery_foreign_currency", STR, False),
    ("operation_category_code", STR, False),
)

FX_OPERATION_EVENTS = _schema(
    ("operation_id", STR, False),
    ("event_sequence_number", STR, False),
    ("event_type", STR, False),
    ("event_datetime", TS, False),
    ("due_date", DATE, True),
    *((name, kind, True) for name, kind in _FX_VALUES),
    ("delivery_foreign_currency", STR, True),
    ("operation_category_code", STR, True),
    ("foreign_partie_relationship_code", STR, True),
    ("foreign_partie_name", STR, True),
    ("foreign_partie_country_code", STR, True),
)

SCHEMAS: dict[str, pa.Schema] = {
    "accounts": ACCOUNTS,
    "balances": BALANCES,
    "transactions": TRANSACTIONS,
    "credit_card_accounts": CREDIT_CARD_ACCOUNTS,
    "credit_card_bills": CREDIT_CARD_BILLS,
    "credit_card_transactions": CREDIT_CARD_TRANSACTIONS,
    "fx_operations": FX_OPERATIONS,
    "fx_operation_events": FX_OPERATION_EVENTS,
}

# Natural key of each entity within one pull (rows are sorted by it; staging dedupes on it across pulls).
KEYS: dict[str, tuple[str, ...]] = {
    "accounts": ("institution", "account_id"),
    "balances": ("institution", "account_id", "update_datetime"),
    "transactions": ("institution", "account_id", "transaction_id"),
    "credit_card_accounts": ("institution", "credit_card_account_id"),
    "credit_card_bills": ("institution", "credit_card_account_id", "bill_id"),
    "credit_card_transactions": ("institution", "credit_card_account_id", "transaction_id"),
    "fx_operations": ("institution", "operation_id"),
    "fx_operation_events": ("institution", "operation_id", "event_sequence_number"),
}


def dataset_name(entity: str) -> str:
    """The dataset identifier used through every layer: `open_finance__<entity>`."""
    return f"open_finance__{entity}"


def to_table(entity: str, rows: Iterable[dict]) -> pa.Table:
    """Rows (dicts keyed by column) as a table in the entity's schema, sorted by its key."""
    schema = SCHEMAS[entity]
    ordered = sorted(rows, key=lambda row: tuple(str(row.get(column)) for column in KEYS[entity]))
    return pa.Table.from_pylist([{name: row.get(name) for name in schema.names} for row in ordered], schema=schema)


def empty_tables() -> dict[str, pa.Table]:
    return {entity: schema.empty_table() for entity, schema in SCHEMAS.items()}
