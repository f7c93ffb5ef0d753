"""One pull of a date range (whole months) for some Pluggy items -> Arrow tables + quarantined records.

Per item: `GET /items/{id}` (the connector's name), `GET /accounts?itemId=` (every page), then per account its
transactions dated from the day before the range to the day after it (`date` is an instant; the range is in São
Paulo dates), kept when their São Paulo date falls in the range: BANK accounts feed `transactions`, CREDIT
accounts `credit_card_transactions`, and their bills (`GET /bills?accountId=`, every closed bill) land in the month
of their due date when the range covers it, as `credit_card_bills`. The account's `balance` is a snapshot as of its
`updatedAt`: it lands in the month of that date only when the range covers it (a past month re-pulled today does
not get today's balance).
Pluggy exposes no FX (câmbio) operations: an FX contract reaches the warehouse only as the account movement that
settles it.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import pyarrow as pa

from ingestion.common.partitioning import month_start
from ingestion.common.quarantine import QuarantineRecord
from ingestion.pluggy import schemas
from ingestion.pluggy.client import PluggyClient
from ingestion.pluggy.config import PluggyItem
from ingestion.pluggy.parse import (
    RecordError,
    account_row,
    balance_row,
    bill_row,
    card_transaction_row,
    instant,
    local_date,
    quarantine,
    transaction_row,
)


@dataclass
class PluggyExtract:
    start: date
    end: date
    item_ids: tuple[str, ...]
    tables: dict[str, pa.Table]
    quarantine: list[tuple[date, QuarantineRecord]]  # (month it belongs to, record)
    balances_outside_range: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    retries: dict[str, int] = field(default_factory=dict)
    item_status: dict[str, str] = field(default_factory=dict)


def _record_month(record, fallback: date) -> date:
    try:
        return month_start(local_date(instant(record, "date")))
    except (RecordError, AttributeError, TypeError):
        return month_start(fallback)


def _table(entity: str, rows: list[dict]) -> pa.Table:
    key = schemas.KEYS[entity]
    rows = sorted(rows, key=lambda row: tuple(str(row[k]) for k in key))
    return pa.Table.from_pylist(rows, schema=schemas.SCHEMAS[entity])


def _bills(client: PluggyClient, item: PluggyItem, account: dict, start: date, end: date, keep, bad: list) -> None:
    """The card account's bills due in `start`..`end` (Pluggy lists every closed bill; other months' runs keep
    theirs). A bill breaking the contract is quarantined by the run of its due date's month (the range's first
    month when that date is unreadable)."""
    for record in client.bills(account["account_id"], item_id=item.item_id):
        bill_id = record.get("id") if isinstance(record, dict) else None
        key = f"item={item.item_id} account={account['account_id']} bill={bill_id}"
        try:
            if not isinstance(record, dict):
                raise RecordError("the bill is not a JSON object")
            row = bill_row(record, item.institution, item.item_id, account)
        except RecordError as error:
            month = _due_month(record, start)
            if start <= month <= end:
                bad.append((month, quarantine("credit_card_bills", key, str(error), record)))
            continue
        if start <= row["due_date"] <= end:
            keep("credit_card_bills", row, month_start(row["due_date"]), record)


def _due_month(record, fallback: date) -> date:
    try:
        return month_start(date.fromisoformat(str(record.get("dueDate"))[:10]))
    except (AttributeError, ValueError):
        return month_start(fallback)


def pull_items(client: PluggyClient, items: list[PluggyItem], start: date, end: date, today: date) -> PluggyExtract:
    """Every item, account and transaction of `start`..`end` (clipped at `today`). Raises on the first HTTP/auth
    failure (nothing is returned half-pulled); bad records are quarantined."""
    rows: dict[str, list[dict]] = defaultdict(list)
    seen: dict[str, set] = defaultdict(set)
    bad: list[tuple[date, QuarantineRecord]] = []
    outside, status = 0, {}
    last = min(end, today)

    def keep(entity: str, row: dict, month: date, record) -> None:
        key = tuple(row[k] for k in schemas.KEYS[entity])
        if key in seen[entity]:
            bad.append((month, quarantine(entity, "/".join(map(str, key)), "the same id twice in one pull", record)))
            return
        seen[entity].add(key)
        rows[entity].append(row)

    for item in items:
        detail = client.item(item.item_id)
        connector = (detail.get("connector") or {}).get("name") if isinstance(detail.get("connector"), dict) else None
        status[item.item_id] = str(detail.get("status"))
        for record in client.accounts(item.item_id):
            where = f"item={item.item_id} account={record.get('id') if isinstance(record, dict) else None}"
            try:
                account = account_row(record, item.institution, item.item_id, item.compe_code, connector)
            except (RecordError, AttributeError) as error:
                reason = f"{error}; the account's balance and transactions were not pulled"
                bad.append((month_start(start), quarantine("accounts", where, reason, record)))
                continue
            keep("accounts", account, month_start(start), record)
            if account["type"] == "BANK":
                try:
                    balance = balance_row(record, item.institution, item.item_id)
                except RecordError as error:
                    bad.append((month_start(start), quarantine("balances", where, str(error), record)))
                else:
                    if start <= balance["balance_date"] <= end:
                        keep("balances", balance, month_start(balance["balance_date"]), record)
                    else:
                        outside += 1
            if account["type"] == "CREDIT":
                _bills(client, item, account, start, end, keep, bad)
            if start > last:
                continue
            entity = "transactions" if account["type"] == "BANK" else "credit_card_transactions"
            for record in client.transactions(
                account["account_id"], start - timedelta(days=1), last + timedelta(days=1), item_id=item.item_id
            ):
                key = f"{where} transaction={record.get('id') if isinstance(record, dict) else None}"
                try:
                    if not isinstance(record, dict):
                        raise RecordError("the transaction is not a JSON object")
                    if entity == "transactions":
                        row = transaction_row(record, item.institution, item.item_id, account["account_id"], today)
                        day = row["booking_date"]
                    else:
                        row = card_transaction_row(record, item.institution, item.item_id, account)
                        day = row["transaction_date"]
                except RecordError as error:
                    if isinstance(record, dict):
                        month = _record_month(record, start)
                        if not start <= month <= end:  # outside the range: another month's run judges it
                            continue
                    else:
                        month = month_start(start)
                    bad.append((month, quarantine(entity, key, str(error), record)))
                    continue
                if start <= day <= end:
                    keep(entity, row, month_start(day), record)
    return PluggyExtract(
        start,
        end,
        tuple(item.item_id for item in items),
        {entity: _table(entity, rows[entity]) for entity in schemas.SCHEMAS},
        bad,
        outside,
        dict(client.calls),
        client.retries.by_reason(),
        status,
    )
