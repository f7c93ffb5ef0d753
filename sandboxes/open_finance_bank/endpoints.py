"""The data endpoints of the sandbox: resources v3, accounts v2, credit-cards-accounts v2, exchanges v1.

Each handler gets the parsed request and the consent behind the token, and returns a payload dict (HTTP 200) or
raises `ApiError`. Date filters follow the specs: both bounds or none (none = today only, on transaction
lists); `transactions-current` serves D-6 onwards, `transactions` the last 12 months. Booking dates are the
São Paulo calendar date of `transactionDateTime`.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ingestion.open_finance.parse import SAO_PAULO
from sandboxes.open_finance_bank.data import PROVISIONAL_ID
from sandboxes.open_finance_bank.render import ApiError, paged, single
from sandboxes.open_finance_bank.state import ConsentRecord, SandboxState

RESOURCE_PERMISSION = {
    "ACCOUNT": "ACCOUNTS_READ",
    "CREDIT_CARD_ACCOUNT": "CREDIT_CARDS_ACCOUNTS_READ",
    "EXCHANGE": "EXCHANGES_READ",
}


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    query: dict[str, str]
    base_url: str  # https://127.0.0.1:<port>
    self_url: str  # the request as an absolute URL


def _day(query: dict[str, str], name: str) -> date | None:
    raw = query.get(name)
    if not raw:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raise ApiError(400, "PARAMETRO_INVALIDO", "Parâmetro inválido", f"{name} must be YYYY-MM-DD")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "PARAMETRO_INVALIDO", "Parâmetro inválido", f"{name} is not a date") from None


def _window(query: dict[str, str], names: tuple[str, str], today: date, earliest: date | None) -> tuple[date, date]:
    start, end = _day(query, names[0]), _day(query, names[1])
    if (start is None) != (end is None):
        raise ApiError(
            422,
            "PARAMETRO_INVALIDO",
            "Parâmetros de data incompletos",
            f"{names[0]} and {names[1]} must be sent together",
        )
    start, end = start or today, end or today
    if end < start:
        raise ApiError(422, "PARAMETRO_INVALIDO", "Período inválido", f"{names[1]} is before {names[0]}")
    if earliest is not None and start < earliest:
        raise ApiError(
            422,
            "PARAMETRO_INVALIDO",
            "Período inválido",
            f"{names[0]} may not be before {earliest.isoformat()} on this endpoint",
        )
    return start, end


def _booked(record: dict) -> date:
    instant = datetime.fromisoformat(record["transactionDateTime"].replace("Z", "+00:00"))
    return instant.astimezone(SAO_PAULO).date()


def _as_seen_by(record: dict, window_end: date) -> dict:
    """A movement with a provisional id (`PROVISIONAL_ID`, from a messy demo's bank truth) shows that id to a
    request whose window ends less than two days after its booking date (ids settle on D+2), its final id after."""
    provisional = record.get(PROVISIONAL_ID)
    if provisional is None:
        return record
    shown = {key: value for key, value in record.items() if key != PROVISIONAL_ID}
    if (window_end - _booked(record)).days < 2:
        shown["transactionId"] = provisional
    return shown


def _renamed(state: SandboxState, records: list[dict]) -> list[dict]:
    out = []
    for record in records:
        new_id = state.renamed_ids.get(record.get("transactionId"))
        out.append({**record, "transactionId": new_id} if new_id else record)
    return out


def _not_found(what: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", "Recurso não encontrado", f"{what} does not exist for this consent")


# -- resources ---------------------------------------------------------------------------------------------


def resources(state: SandboxState, request: ApiRequest, consent: ConsentRecord) -> dict:
    listed = [r for r in state.data.resources() if RESOURCE_PERMISSION[r["type"]] in consent.permissions]
    return paged(listed, request.base_url, request.path, request.query, {}, min_page_size=25)


# -- accounts ----------------------------------------------------------------------------------------------


def _account(state: SandboxState, account_id: str) -> dict:
    account = state.data.account(account_id)
    if account is None:
        raise _not_found(f"account {account_id}")
    return account


def accounts(state: SandboxState, request: ApiRequest, consent: ConsentRecord) -> dict:
    kind = request.query.get("accountType")
    listed = [a for a in state.data.accounts if kind is None or a["type"] == kind]
    filters = {"accountType": kind} if kind else {}
    return paged(listed, request.base_url, request.path, request.query, filters)


def account(state: SandboxState, request: ApiRequest, consent: ConsentRecord, account_id: str) -> dict:
    found = _account(state, account_id)
    data = {k: found[k] for k in ("compeCode", "branchCode", "number", "checkDigit", "type") if k in found}
    return single({**data, "subtype": "INDIVIDUAL", "currency": "BRL"}, request.self_url, meta_totals=True)


def balances(state: SandboxState, request: ApiRequest, consent: ConsentRecord, account_id: str) -> dict:
    _account(state, account_id)
    balance = state.data.balance(account_id, state.today)
    if balance is None:
        raise _not_found(f"a balance of account {account_id}")
    return single(balance, request.self_url, meta_totals=True)


def account_transactions(
    state: SandboxState, request: ApiRequest, consent: ConsentRecord, account_id: str, current: bool
) -> dict:
    _account(state, account_id)
    earliest = state.today - timedelta(days=6 if current else 365)
    start, end = _window(request.query, ("fromBookingDate", "toBookingDate"), state.today, earliest)
    direction = request.query.get("creditDebitIndicator")
    records = [
        t
        for t in state.data.account_transactions(account_id, state.today)
        if start <= _booked(t) <= end and direction in (None, t["creditDebitType"])
    ]
    records = [_as_seen_by(t, end) for t in records]
    records.sort(key=lambda t: (t["transactionDateTime"], t["transactionId"]))
    filters = {"fromBookingDate": start.isoformat(), "toBookingDate": end.isoformat()}
    if direction:
        filters["creditDebitIndicator"] = direction
    return paged(_renamed(state, records), request.base_url, request.path, request.query, filters, totals=False)


# -- credit cards ------------------------------------------------------------------------------------------


def _card(state: SandboxState, card_id: str) -> dict:
    card = state.data.card(card_id)
    if card is None:
        raise _not_found(f"credit card account {card_id}")
    return card


def card_accounts(state: SandboxState, request: ApiRequest, consent: ConsentRecord) -> dict:
    return paged(state.data.credit_card_accounts, request.base_url, request.path, request.query, {})


def bills(state: SandboxState, request: ApiRequest, consent: ConsentRecord, card_id: str) -> dict:
    _card(state, card_id)
    start, end = _day(request.query, "fromDueDate"), _day(request.query, "toDueDate")
    listed = [
        b
        for b in state.data.bills(card_id, state.today)
        if (start is None or start.isoformat() <= b["dueDate"]) and (end is None or b["dueDate"] <= end.isoformat())
    ]
    listed.sort(key=lambda b: (b["dueDate"], b["billId"]))
    filters = {k: v.isoformat() for k, v in (("fromDueDate", start), ("toDueDate", end)) if v is not None}
    return paged(listed, request.base_url, request.path, request.query, filters)


def _card_window(state: SandboxState, request: ApiRequest, earliest: date | None) -> tuple[date, date, dict]:
    start, end = _window(request.query, ("fromTransactionDate", "toTransactionDate"), state.today, earliest)
    return start, end, {"fromTransactionDate": start.isoformat(), "toTransactionDate": end.isoformat()}


def bill_transactions(
    state: SandboxState, request: ApiRequest, consent: ConsentRecord, card_id: str, bill_id: str
) -> dict:
    _card(state, card_id)
    if not any(b["billId"] == bill_id for b in state.data.bills(card_id, state.today)):
        raise _not_found(f"bill {bill_id}")
    start, end, filters = _card_window(state, request, state.today - timedelta(days=365))
    records = [
        t
        for t in state.data.card_transactions(card_id, state.today)
        if t.get("billId") == bill_id and start <= _booked(t) <= end
    ]
    records.sort(key=lambda t: (t["transactionDateTime"], t["transactionId"]))
    return paged(_renamed(state, records), request.base_url, request.path, request.query, filters)


def card_transactions(
    state: SandboxState, request: ApiRequest, consent: ConsentRecord, card_id: str, current: bool
) -> dict:
    _card(state, card_id)
    start, end, filters = _card_window(state, request, state.today - timedelta(days=6 if current else 365))
    records = [t for t in state.data.card_transactions(card_id, state.today) if start <= _booked(t) <= end]
    records.sort(key=lambda t: (t["transactionDateTime"], t["transactionId"]))
    return paged(_renamed(state, records), request.base_url, request.path, request.query, filters, totals=False)


# -- exchanges ---------------------------------------------------------------------------------------------


def operations(state: SandboxState, request: ApiRequest, consent: ConsentRecord) -> dict:
    listed = [
        {
            "brandName": state.data.brand_name,
            "companyCnpj": state.data.bank_cnpj,
            "operationId": o.operation_id,
        }
        for o in state.data.operations(state.today)
    ]
    return paged(listed, request.base_url, request.path, request.query, {}, min_page_size=25)


def operation(state: SandboxState, request: ApiRequest, consent: ConsentRecord, operation_id: str) -> dict:
    found = state.data.operation(operation_id, state.today)
    if found is None:
        raise _not_found(f"FX operation {operation_id}")
    return single(found.detail, request.self_url)


def operation_events(state: SandboxState, request: ApiRequest, consent: ConsentRecord, operation_id: str) -> dict:
    found = state.data.operation(operation_id, state.today)
    if found is None:
        raise _not_found(f"FX operation {operation_id}")
    events = sorted(found.events_on(state.today), key=lambda e: e["eventSequenceNumber"])
    return paged(events, request.base_url, request.path, request.query, {}, min_page_size=25)
