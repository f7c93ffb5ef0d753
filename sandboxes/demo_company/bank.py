"""The bank side of the demo company (truth for the Open Finance sandbox), and the posting helpers.

Field names follow Open Finance Brasil in snake_case (accounts 2.4.2 transactions, exchanges 1.0.0
operations and events, credit-cards 2.3.1), so the sandbox only renames and formats. Amounts are Decimal;
FX rates and VET `decimal128(38, 15)`.
"""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pyarrow as pa

from ingestion.erp.contract_model import FX_RATE, MONEY, TIMESTAMP
from sandboxes.demo_company.context import SAO_PAULO_OFFSET, Context


def _schema(*fields: tuple[str, pa.DataType, bool]) -> pa.Schema:
    return pa.schema([pa.field(name, type_, nullable=nullable) for name, type_, nullable in fields])


S, D = pa.string(), pa.date32()
BANK_ACCOUNTS = _schema(
    ("account_id", S, False),
    ("institution_name", S, False),
    ("institution_cnpj", S, False),
    ("compe_code", S, False),
    ("branch_code", S, False),
    ("number", S, False),
    ("check_digit", S, False),
    ("account_type", S, False),
    ("subtype", S, False),
    ("currency", S, False),
    ("company_cnpj", S, False),
    ("opening_date", D, False),
    ("opening_balance", MONEY, False),
)
BANK_TRANSACTIONS = _schema(
    ("transaction_id", S, False),
    ("account_id", S, False),
    ("booking_date", D, False),
    ("transaction_datetime", TIMESTAMP, False),
    ("completed_authorised_payment_type", S, False),
    ("credit_debit_type", S, False),
    ("type", S, False),
    ("transaction_name", S, False),
    ("amount", MONEY, False),
    ("currency", S, False),
    ("partie_cnpj_cpf", S, True),
    ("partie_person_type", S, True),
    ("partie_compe_code", S, True),
    ("partie_branch_code", S, True),
    ("partie_number", S, True),
    ("partie_check_digit", S, True),
    ("fx_operation_id", S, True),
    ("card_bill_id", S, True),
)
FX_OPERATIONS = _schema(
    ("operation_id", S, False),
    ("account_id", S, False),
    ("authorized_institution_cnpj", S, False),
    ("authorized_institution_name", S, False),
    ("operation_number", S, False),
    ("operation_type", S, False),
    ("operation_datetime", TIMESTAMP, False),
    ("settlement_date", D, False),
    ("foreign_currency", S, False),
    ("foreign_amount", MONEY, False),
    ("fx_rate", FX_RATE, False),
    ("local_amount", MONEY, False),
    ("iof_amount", MONEY, False),
    ("fee_amount", MONEY, False),
    ("vet_amount", FX_RATE, False),
    ("delivery_foreign_currency", S, False),
    ("operation_category_code", S, False),
    ("relationship_code", S, False),
    ("foreign_partie_name", S, False),
    ("foreign_partie_country_code", S, False),
)
FX_OPERATION_EVENTS = _schema(
    ("operation_id", S, False),
    ("event_sequence_number", S, False),
    ("event_type", S, False),
    ("event_datetime", TIMESTAMP, False),
    ("settlement_date", D, False),
    ("fx_rate", FX_RATE, False),
    ("local_amount", MONEY, False),
    ("foreign_amount", MONEY, False),
    ("foreign_currency", S, False),
)
CARD_ACCOUNTS = _schema(
    ("card_account_id", S, False),
    ("account_id", S, False),
    ("name", S, False),
    ("product_type", S, False),
    ("credit_card_network", S, False),
    ("identification_number", S, False),
)
CARD_BILLS = _schema(
    ("bill_id", S, False),
    ("card_account_id", S, False),
    ("closing_date", D, False),
    ("due_date", D, False),
    ("total_amount", MONEY, False),
    ("currency", S, False),
    ("paid_transaction_id", S, True),
)
CARD_TRANSACTIONS = _schema(
    ("transaction_id", S, False),
    ("card_account_id", S, False),
    ("bill_id", S, False),
    ("transaction_datetime", TIMESTAMP, False),
    ("transaction_name", S, False),
    ("credit_debit_type", S, False),
    ("transaction_type", S, False),
    ("amount", MONEY, False),
    ("currency", S, False),
    ("brazilian_amount", MONEY, False),
    ("iof_amount", MONEY, False),
    ("payee_mcc", pa.int32(), False),
)
BANK_TABLES: dict[str, pa.Schema] = {
    "bank_accounts": BANK_ACCOUNTS,
    "bank_transactions": BANK_TRANSACTIONS,
    "fx_operations": FX_OPERATIONS,
    "fx_operation_events": FX_OPERATION_EVENTS,
    "card_accounts": CARD_ACCOUNTS,
    "card_bills": CARD_BILLS,
    "card_transactions": CARD_TRANSACTIONS,
}


def opaque_id(rng) -> str:
    """A bank-style opaque id (32 hex characters) drawn from the run's random stream."""
    return f"{rng.getrandbits(128):032x}"


def account(ctx: Context, compe: str) -> dict:
    return next(a for a in ctx.rows("bank_accounts") if a["compe_code"] == compe)


def post(
    ctx: Context,
    rng,
    acct: dict,
    when: datetime,
    direction: str,
    kind: str,
    name: str,
    amount: Decimal,
    partie: dict | None = None,
    fx_operation_id: str | None = None,
    card_bill_id: str | None = None,
) -> str:
    """Book one movement on an account statement and return its transaction id."""
    partie = partie or {}
    transaction_id = opaque_id(rng)
    ctx.rows("bank_transactions").append(
        {
            "transaction_id": transaction_id,
            "account_id": acct["account_id"],
            "booking_date": _local_date(when),
            "transaction_datetime": when,
            "completed_authorised_payment_type": "TRANSACAO_EFETIVADA",
            "credit_debit_type": direction,
            "type": kind,
            "transaction_name": name[:200],
            "amount": amount,
            "currency": "BRL",
            "partie_cnpj_cpf": partie.get("cnpj"),
            "partie_person_type": "PESSOA_JURIDICA" if partie.get("cnpj") else None,
            "partie_compe_code": partie.get("compe"),
            "partie_branch_code": partie.get("branch"),
            "partie_number": partie.get("number"),
            "partie_check_digit": partie.get("check_digit"),
            "fx_operation_id": fx_operation_id,
            "card_bill_id": card_bill_id,
        }
    )
    return transaction_id


def _local_date(moment: datetime) -> date:
    return (moment + SAO_PAULO_OFFSET).date()


def counterparty(rng, cnpj: str) -> dict:
    """A Brazilian counterparty's bank details (synthetic branch and account at a real COMPE code)."""
    return {
        "cnpj": cnpj,
        "compe": rng.choice(("001", "237", "341", "033", "104")),
        "branch": f"{rng.randint(1000, 9999)}",
        "number": f"{rng.randint(10**5, 10**9)}",
        "check_digit": str(rng.randint(0, 9)),
    }


def rate_places(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
