"""The demo company's bank truth (`sandboxes/demo_company`, `write_bank_truth`) as sandbox institutions.

The demo generator writes one Parquet file per table (`bank_accounts`, `bank_transactions`, `fx_operations`,
`fx_operation_events`, `card_accounts`, `card_bills`, `card_transactions`) in snake_case Open Finance names.
`bank_data_from_truth` renders them into one `BankData` per institution, keyed by COMPE code, so each bank of
the demo company runs as its own `SandboxBank`:

    banks = bank_data_from_truth(read_truth("data/demo/bank"))
    with SandboxBank(data=banks["341"], today=date(2024, 12, 31)) as itau: ...

What the bank shows follows its calendar: a transaction from its booking date, an FX contract from its
contracting date and each event from its date, a card purchase from its date (with its `billId` from the
bill's closing date), a bill from its closing date; one balance per day from the opening date. The truth has
no minimum payment: bills show 15% of the total. Card IOF, a separate amount in the truth, is shown as its own
`OUTROS` line (`<transactionId>-IOF`), as banks list it.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.open_finance.parse import SAO_PAULO
from sandboxes.open_finance_bank import records as r
from sandboxes.open_finance_bank.data import PROVISIONAL_ID, BankData, Entry, FxOperation

TABLES = (
    "bank_accounts",
    "bank_transactions",
    "fx_operations",
    "fx_operation_events",
    "card_accounts",
    "card_bills",
    "card_transactions",
)
MINIMUM_SHARE = Decimal("0.15")


def read_truth(folder: str | Path) -> dict[str, list[dict]]:
    """The bank truth tables of a `write_bank_truth` folder, as lists of rows."""
    return {name: pq.read_table(Path(folder) / f"{name}.parquet").to_pylist() for name in TABLES}


def _rows(table: pa.Table | Iterable[dict]) -> list[dict]:
    return table.to_pylist() if isinstance(table, pa.Table) else list(table)


def _local_day(moment: datetime) -> date:
    return moment.astimezone(SAO_PAULO).date()


def _signed(row: dict, amount_key: str = "amount") -> Decimal:
    return row[amount_key] if row["credit_debit_type"] == "CREDITO" else -row[amount_key]


def _partie(row: dict) -> dict:
    names = {
        "partie_cnpj_cpf": "partieCnpjCpf",
        "partie_person_type": "partiePersonType",
        "partie_compe_code": "partieCompeCode",
        "partie_branch_code": "partieBranchCode",
        "partie_number": "partieNumber",
        "partie_check_digit": "partieCheckDigit",
    }
    return {official: row[ours] for ours, official in names.items() if row.get(ours)}


def _balances(account: dict, postings: list[dict], last_day: date) -> list[Entry]:
    by_day: dict[date, Decimal] = defaultdict(Decimal)
    for posting in postings:
        by_day[posting["booking_date"]] += _signed(posting)
    balance, entries, day = account["opening_balance"], [], account["opening_date"]
    while day <= last_day:
        balance += by_day.get(day, Decimal(0))
        moment = datetime.combine(day, datetime.min.time(), tzinfo=SAO_PAULO) + timedelta(hours=20)
        entries.append(Entry(account["account_id"], r.balance(balance, moment), shown_from=day))
        day += timedelta(days=1)
    return entries


def _fx_values(row: dict, with_vet: bool) -> dict:
    values = {
        "localCurrencyOperationTax": {"amount": r.rate(row["fx_rate"]), "currency": "BRL"},
        "localCurrencyOperationValue": r.fx_money(row["local_amount"], "BRL"),
        "foreignOperationValue": r.fx_money(row["foreign_amount"], row["foreign_currency"]),
    }
    if with_vet and row.get("vet_amount") is not None:
        values["vetAmount"] = {"amount": r.rate(row["vet_amount"]), "currency": "BRL"}
    return values


def _fx(operation: dict, events: list[dict]) -> FxOperation:
    detail = r.fx_detail(
        operation["authorized_institution_cnpj"],
        operation["authorized_institution_name"],
        operation["operation_type"],
        operation["operation_datetime"],
        operation["settlement_date"],
        _fx_values(operation, with_vet=True),
        operation["operation_category_code"],
        delivery=operation["delivery_foreign_currency"],
        operation_number=operation["operation_number"],
    )
    partie = (
        operation["relationship_code"],
        operation["foreign_partie_name"],
        operation["foreign_partie_country_code"],
    )
    rendered = tuple(
        r.fx_event(
            event["event_sequence_number"],
            event["event_type"],
            event["event_datetime"],
            _fx_values({**event, "vet_amount": None}, with_vet=False),
            partie if event["event_type"] == "4" else None,
            dueDate=event["settlement_date"].isoformat(),
            deliveryForeignCurrency=operation["delivery_foreign_currency"],
            operationCategoryCode=operation["operation_category_code"],
        )
        for event in sorted(events, key=lambda e: e["event_sequence_number"])
    )
    return FxOperation(operation["operation_id"], detail, rendered, _local_day(operation["operation_datetime"]))


def _card_entries(purchase: dict, last4: str, closing: date | None) -> list[Entry]:
    when, day = purchase["transaction_datetime"], _local_day(purchase["transaction_datetime"])
    original = (purchase["amount"], purchase["currency"])
    lines = [
        (
            purchase["transaction_id"],
            _signed(purchase, "brazilian_amount"),
            purchase["transaction_name"],
            purchase["transaction_type"],
            original,
            purchase["payee_mcc"],
        )
    ]
    if purchase["iof_amount"]:
        iof = -purchase["iof_amount"] if purchase["credit_debit_type"] == "DEBITO" else purchase["iof_amount"]
        lines.append((f"{purchase['transaction_id']}-IOF", iof, "IOF COMPRA INTERNACIONAL", "OUTROS", None, None))
    card_id, bill_id = purchase["card_account_id"], purchase["bill_id"]
    entries = []
    for transaction_id, brl, name, kind, source, mcc in lines:
        billed = r.card_transaction(
            transaction_id, last4, brl, when, name, day, kind=kind, original=source, bill_id=bill_id, mcc=mcc
        )
        if closing is None or closing <= day:
            entries.append(Entry(card_id, billed, shown_from=day))
        else:  # on the open bill until it closes, then the same id under its bill
            unbilled = {key: value for key, value in billed.items() if key != "billId"}
            entries.append(Entry(card_id, unbilled, day, closing - timedelta(days=1)))
            entries.append(Entry(card_id, billed, shown_from=closing))
    return entries


def bank_data_from_truth(tables: Mapping[str, pa.Table | Iterable[dict]]) -> dict[str, BankData]:
    """One `BankData` per institution of the demo company, keyed by COMPE code."""
    rows = {name: _rows(tables[name]) for name in TABLES}
    last_day = max([t["booking_date"] for t in rows["bank_transactions"]], default=date.today())
    banks: dict[str, BankData] = {}
    compe_of: dict[str, str] = {}
    for account in rows["bank_accounts"]:
        compe = account["compe_code"]
        compe_of[account["account_id"]] = compe
        bank = banks.setdefault(compe, BankData(account["institution_name"], account["institution_cnpj"]))
        bank.accounts.append(
            r.account(
                account["account_id"],
                account["number"],
                account["check_digit"],
                account["institution_name"],
                account["institution_cnpj"],
                compe,
                account["branch_code"],
                account["account_type"],
            )
        )
        postings = [t for t in rows["bank_transactions"] if t["account_id"] == account["account_id"]]
        bank.balances.extend(_balances(account, postings, last_day))
        for t in postings:
            record = r.account_transaction(
                t["transaction_id"],
                _signed(t),
                t["transaction_datetime"],
                t["transaction_name"],
                t["type"],
                t["completed_authorised_payment_type"],
                t["currency"],
                _partie(t),
            )
            if t.get("provisional_transaction_id"):  # a messy demo's cross-pull duplicate (sandbox/data.py)
                record[PROVISIONAL_ID] = t["provisional_transaction_id"]
            bank.transactions.append(Entry(account["account_id"], record, shown_from=t["booking_date"]))
    events = defaultdict(list)
    for event in rows["fx_operation_events"]:
        events[event["operation_id"]].append(event)
    for operation in rows["fx_operations"]:
        banks[compe_of[operation["account_id"]]].fx_operations.append(_fx(operation, events[operation["operation_id"]]))
    bills = defaultdict(list)
    for bill in rows["card_bills"]:
        bills[bill["card_account_id"]].append(bill)
    for card in rows["card_accounts"]:
        bank = banks[compe_of[card["account_id"]]]
        bank.credit_card_accounts.append(
            r.card_account(
                card["card_account_id"],
                card["name"],
                bank.brand_name,
                bank.bank_cnpj,
                card["product_type"],
                card["credit_card_network"],
            )
        )
        closing = {bill["bill_id"]: bill["closing_date"] for bill in bills[card["card_account_id"]]}
        for bill in bills[card["card_account_id"]]:
            minimum = (bill["total_amount"] * MINIMUM_SHARE).quantize(Decimal("0.01"))
            record = r.bill(bill["bill_id"], bill["due_date"], bill["total_amount"], minimum)
            bank.credit_card_bills.append(Entry(card["card_account_id"], record, shown_from=bill["closing_date"]))
        for purchase in rows["card_transactions"]:
            if purchase["card_account_id"] == card["card_account_id"]:
                bank.credit_card_transactions.extend(
                    _card_entries(purchase, card["identification_number"], closing.get(purchase["bill_id"]))
                )
    return banks
