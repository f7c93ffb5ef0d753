"""The demo company's bank truth (`sandboxes/demo_company`, `write_bank_truth`) as Pluggy sees it on `today`.

One item per bank (COMPE code), its BANK accounts and its card accounts (type CREDIT), transactions in Pluggy's
shape: a bank entry's `amount` is negative for a debit, `type` CREDIT/DEBIT, `operationType` the Open Finance
type (Pluggy passes it through for Open Finance connectors), `paymentData` with the counterparty's document,
bank, branch and account; `balance` the running balance after the entry. A card purchase is positive, in its
original currency with `amountInAccountCurrency` in BRL when foreign, its IOF a separate `OUTROS` line (as the
Open Finance sandbox shows it). What is dated after `today` is not shown; a card purchase whose bill closes after
`today` is PENDING without `billId`. Ids are UUIDs derived from the truth's ids (`pluggy_id`), so tests map back.
Each card's bills closed by `today` are its `Bill`s (`GET /bills`, pluggy-sdk's `Bill`): `dueDate` and
`billClosingDate` written as 00:00 UTC of their dates, `totalAmount` the truth's total, `minimumPaymentAmount` 15%
of it (as the Open Finance sandbox shows it: the truth has none), no finance charges nor payments listed.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal

from ingestion.common.clock import SAO_PAULO

MINIMUM_SHARE = Decimal("0.15")

NAMESPACE = uuid.UUID("6f1c3f52-5c55-4c39-9a43-8b0a8c1d2e10")
PAYMENT_METHODS = {
    "PIX": "PIX",
    "TED": "TED",
    "DOC": "DOC",
    "BOLETO": "BOLETO",
    "TRANSFERENCIA_MESMA_INSTITUICAO": "TEV",
}


def pluggy_id(kind: str, truth_id: str) -> str:
    """The stand-in's UUID for a truth id (a 32-hex transaction id is the UUID itself)."""
    if kind == "transaction" and len(truth_id) == 32:
        try:
            return str(uuid.UUID(hex=truth_id))
        except ValueError:
            pass
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{truth_id}"))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _local(moment: datetime) -> date:
    return moment.astimezone(SAO_PAULO).date()


def _document(number: str) -> dict:
    if len(number) == 14:
        value = f"{number[:2]}.{number[2:5]}.{number[5:8]}/{number[8:12]}-{number[12:]}"
        return {"type": "CNPJ", "value": value}
    return {"type": "CPF", "value": f"{number[:3]}.{number[3:6]}.{number[6:9]}-{number[9:]}"}


@dataclass
class PluggyWorld:
    items: dict[str, dict] = field(default_factory=dict)  # item id -> Item
    accounts: dict[str, list[dict]] = field(default_factory=dict)  # item id -> [Account]
    transactions: dict[str, list[dict]] = field(default_factory=dict)  # account id -> [Transaction], by date
    compe: dict[str, str] = field(default_factory=dict)  # item id -> COMPE code
    bills: dict[str, list[dict]] = field(default_factory=dict)  # card account id -> [Bill], by due date


def _bank_transaction(t: dict, account_uuid: str, company_cnpj: str, account: dict, balance: Decimal) -> dict:
    signed = t["amount"] if t["credit_debit_type"] == "CREDITO" else -t["amount"]
    record = {
        "id": pluggy_id("transaction", t["transaction_id"]),
        "description": t["transaction_name"].title(),
        "descriptionRaw": t["transaction_name"],
        "currencyCode": t["currency"],
        "amount": signed,
        "date": _iso(t["transaction_datetime"]),
        "type": "CREDIT" if t["credit_debit_type"] == "CREDITO" else "DEBIT",
        "balance": balance,
        "status": "POSTED",
        "operationType": t["type"],
        "providerId": t["transaction_id"],
        "accountId": account_uuid,
        "category": None,
        "paymentData": None,
        "createdAt": _iso(t["transaction_datetime"]),
        "updatedAt": _iso(t["transaction_datetime"]),
    }
    if t.get("partie_cnpj_cpf"):
        partie = {
            "documentNumber": _document(t["partie_cnpj_cpf"]),
            "name": None,
            "routingNumber": t.get("partie_compe_code"),
            "branchNumber": t.get("partie_branch_code"),
            "accountNumber": (
                f"{t['partie_number']}-{t['partie_check_digit']}"
                if t.get("partie_number") and t.get("partie_check_digit")
                else t.get("partie_number")
            ),
        }
        company = {
            "documentNumber": _document(company_cnpj),
            "routingNumber": account["compe_code"],
            "branchNumber": account["branch_code"],
            "accountNumber": f"{account['number']}-{account['check_digit']}",
        }
        credit = t["credit_debit_type"] == "CREDITO"
        record["paymentData"] = {
            "payer": partie if credit else company,
            "receiver": company if credit else partie,
            "paymentMethod": PAYMENT_METHODS.get(t["type"]),
            "reason": None,
        }
    return record


def _card_lines(p: dict, card_uuid: str, last4: str, closing: date | None, today: date) -> list[dict]:
    billed = closing is not None and closing <= today
    meta = {
        "billId": pluggy_id("bill", p["bill_id"]) if billed else None,
        "cardNumber": last4,
        "payeeMCC": p["payee_mcc"],
        "transactionDateTime": _iso(p["transaction_datetime"]),
        "billPostDate": closing.isoformat() if billed else None,
        "paymentType": "SINGLE",
    }
    foreign = p["currency"] != "BRL"
    line = {
        "id": pluggy_id("transaction", p["transaction_id"]),
        "description": p["transaction_name"],
        "currencyCode": p["currency"],
        "amount": p["amount"] if p["credit_debit_type"] == "DEBITO" else -p["amount"],
        "amountInAccountCurrency": (
            (p["brazilian_amount"] if p["credit_debit_type"] == "DEBITO" else -p["brazilian_amount"])
            if foreign
            else None
        ),
        "date": _iso(p["transaction_datetime"]),
        "type": "DEBIT" if p["credit_debit_type"] == "DEBITO" else "CREDIT",
        "status": "POSTED" if billed else "PENDING",
        "operationType": p["transaction_type"],
        "accountId": card_uuid,
        "creditCardMetadata": meta,
    }
    lines = [line]
    if p["iof_amount"]:
        lines.append(
            {
                **line,
                "id": pluggy_id("transaction", f"{p['transaction_id']}-IOF"),
                "description": "IOF COMPRA INTERNACIONAL",
                "currencyCode": "BRL",
                "amount": p["iof_amount"] if p["credit_debit_type"] == "DEBITO" else -p["iof_amount"],
                "amountInAccountCurrency": None,
                "operationType": "OUTROS",
                "creditCardMetadata": {**meta, "payeeMCC": None},
            }
        )
    return lines


def _midnight_utc(day: date) -> str:
    return f"{day.isoformat()}T00:00:00.000Z"


def _bill(bill: dict) -> dict:
    return {
        "id": pluggy_id("bill", bill["bill_id"]),
        "dueDate": _midnight_utc(bill["due_date"]),
        "billClosingDate": _midnight_utc(bill["closing_date"]),
        "totalAmount": bill["total_amount"],
        "totalAmountCurrencyCode": bill["currency"],
        "minimumPaymentAmount": (bill["total_amount"] * MINIMUM_SHARE).quantize(Decimal("0.01")),
        "allowsInstallments": False,
        "financeCharges": [],
        "payments": [],
    }


def world_from_truth(tables: dict[str, list[dict]], today: date) -> PluggyWorld:
    """The Pluggy view on `today` of a `read_truth` folder (sandboxes/open_finance_bank/erp_truth.py)."""
    world = PluggyWorld()
    updated = _iso(datetime.combine(today, time(20), tzinfo=SAO_PAULO))
    by_account = defaultdict(list)
    for t in tables["bank_transactions"]:
        if t["booking_date"] <= today:
            by_account[t["account_id"]].append(t)
    compe_of = {}
    for account in tables["bank_accounts"]:
        compe = account["compe_code"]
        compe_of[account["account_id"]] = compe
        item_id = pluggy_id("item", compe)
        world.compe[item_id] = compe
        world.items.setdefault(
            item_id,
            {
                "id": item_id,
                "connector": {"id": 600 + int(compe), "name": account["institution_name"], "isOpenFinance": True},
                "status": "UPDATED",
                "executionStatus": "SUCCESS",
                "createdAt": _iso(datetime.combine(account["opening_date"], time(9), tzinfo=SAO_PAULO)),
                "updatedAt": updated,
                "lastUpdatedAt": updated,
                "products": ["ACCOUNTS", "TRANSACTIONS", "CREDIT_CARDS"],
            },
        )
        account_uuid = pluggy_id("account", account["account_id"])
        postings = sorted(
            by_account[account["account_id"]], key=lambda t: (t["transaction_datetime"], t["transaction_id"])
        )
        balance, records = account["opening_balance"], []
        for t in postings:
            balance += t["amount"] if t["credit_debit_type"] == "CREDITO" else -t["amount"]
            records.append(_bank_transaction(t, account_uuid, account["company_cnpj"], account, balance))
        world.transactions[account_uuid] = records
        world.accounts.setdefault(item_id, []).append(
            {
                "id": account_uuid,
                "type": "BANK",
                "subtype": "CHECKING_ACCOUNT"
                if account["account_type"] == "CONTA_DEPOSITO_A_VISTA"
                else "SAVINGS_ACCOUNT",
                "number": f"{account['number']}-{account['check_digit']}",
                "name": "Conta Corrente",
                "marketingName": f"{account['institution_name']} Empresas",
                "balance": balance,
                "itemId": item_id,
                "taxNumber": _document(account["company_cnpj"])["value"],
                "owner": None,
                "currencyCode": account["currency"],
                "bankData": {
                    "transferNumber": f"{account['branch_code']}/{account['number']}-{account['check_digit']}",
                    "closingBalance": balance,
                    "automaticallyInvestedBalance": Decimal(0),
                },
                "creditData": None,
                "createdAt": _iso(datetime.combine(account["opening_date"], time(9), tzinfo=SAO_PAULO)),
                "updatedAt": updated,
            }
        )
    closing = {b["bill_id"]: b["closing_date"] for b in tables["card_bills"]}
    for card in tables["card_accounts"]:
        item_id = pluggy_id("item", compe_of[card["account_id"]])
        card_uuid = pluggy_id("card", card["card_account_id"])
        lines = []
        for p in tables["card_transactions"]:
            if p["card_account_id"] == card["card_account_id"] and _local(p["transaction_datetime"]) <= today:
                lines += _card_lines(p, card_uuid, card["identification_number"], closing.get(p["bill_id"]), today)
        world.transactions[card_uuid] = sorted(lines, key=lambda r: (r["date"], r["id"]))
        world.bills[card_uuid] = [
            _bill(bill)
            for bill in sorted(tables["card_bills"], key=lambda b: (b["due_date"], b["bill_id"]))
            if bill["card_account_id"] == card["card_account_id"] and bill["closing_date"] <= today
        ]
        world.accounts[item_id].append(
            {
                "id": card_uuid,
                "type": "CREDIT",
                "subtype": "CREDIT_CARD",
                "number": card["identification_number"],
                "name": card["name"],
                "balance": sum(
                    (Decimal(r["amountInAccountCurrency"] or r["amount"]) for r in lines if r["status"] == "PENDING"),
                    Decimal(0),
                ),
                "itemId": item_id,
                "currencyCode": "BRL",
                "bankData": None,
                "creditData": {"brand": card["credit_card_network"], "level": card["product_type"]},
                "createdAt": world.items[item_id]["createdAt"],
                "updatedAt": updated,
            }
        )
    return world
