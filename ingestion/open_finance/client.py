"""`OpenFinanceClient`: the data APIs of one institution, as lists of records in the official shape.

Lists are read by following `links.next` exactly as the institution wrote it (it carries the bank's
`pagination-key`) until it is absent, asking for 1000 records per page. A page without a `data` list, a
`links.next` seen before, or fewer records than `meta.totalRecords` fail the pull (`OpenFinancePayloadError`):
the partition must not land a partial list. A 401/403 on a data call re-reads the consent once: an unusable
consent becomes a `ConsentError` saying what to do; otherwise the HTTP error stands. Nothing loops.
"""

import json
import logging
from datetime import date, timedelta

from ingestion.common.quarantine import QuarantineRecord
from ingestion.open_finance.consents import ConsentsApi
from ingestion.open_finance.errors import ConsentError, OpenFinanceHTTPError, OpenFinancePayloadError, ResourcesNotReady
from ingestion.open_finance.transport import SOURCE, ApiResponse, FapiSession

log = logging.getLogger(__name__)

CURRENT_DAYS = 7  # transactions-current serves D-6..D (and up to 12 months ahead)
MAX_PAGES = 10_000

RESOURCES = "resources/v3/resources"
ACCOUNTS = "accounts/v2/accounts"
BALANCES = "accounts/v2/accounts/{accountId}/balances"
TRANSACTIONS = "accounts/v2/accounts/{accountId}/transactions"
TRANSACTIONS_CURRENT = "accounts/v2/accounts/{accountId}/transactions-current"
CARDS = "credit-cards-accounts/v2/accounts"
BILLS = "credit-cards-accounts/v2/accounts/{creditCardAccountId}/bills"
BILL_TRANSACTIONS = "credit-cards-accounts/v2/accounts/{creditCardAccountId}/bills/{billId}/transactions"
CARD_TRANSACTIONS = "credit-cards-accounts/v2/accounts/{creditCardAccountId}/transactions"
CARD_TRANSACTIONS_CURRENT = "credit-cards-accounts/v2/accounts/{creditCardAccountId}/transactions-current"
OPERATIONS = "exchanges/v1/operations"
OPERATION = "exchanges/v1/operations/{operationId}"
OPERATION_EVENTS = "exchanges/v1/operations/{operationId}/events"


def fits_current(start: date, today: date) -> bool:
    """Whether a window starting at `start` is inside what `transactions-current` serves (D-6 onwards)."""
    return start >= today - timedelta(days=CURRENT_DAYS - 1)


class OpenFinanceClient:
    def __init__(self, session: FapiSession):
        self.session = session
        self.institution = session.institution
        self.consents = ConsentsApi(session)
        self.page_size = session.settings.page_size

    # -- discovery ---------------------------------------------------------------------------------------

    def resources(self) -> list[dict]:
        """GET /resources: every resource of the consent with its type and status (AVAILABLE, ...)."""
        url = f"{self.institution.url('resources')}/resources"
        first = self._get(url, {"page-size": self.page_size}, RESOURCES, "list resources", expected=(200, 202))
        if first.status == 202:
            raise ResourcesNotReady(
                f"Open Finance institution {self.institution.name!r}: GET /resources answered 202 (the institution "
                "is still preparing the consent's resources); run again later"
            )
        return self._follow(first, RESOURCES, "list resources")

    # -- accounts ----------------------------------------------------------------------------------------

    def accounts(self) -> list[dict]:
        return self._list(f"{self.institution.url('accounts')}/accounts", {}, ACCOUNTS, "list accounts")

    def balances(self, account_id: str) -> dict:
        url = f"{self.institution.url('accounts')}/accounts/{account_id}/balances"
        body = self._get(url, None, BALANCES, f"balances of account {account_id}").body
        return self._data_object(body, BALANCES, f"balances of account {account_id}")

    def account_transactions(self, account_id: str, start: date, end: date, today: date) -> list[dict]:
        """Transactions booked start..end; `transactions-current` when the window starts at D-6 or later."""
        current = fits_current(start, today)
        endpoint = TRANSACTIONS_CURRENT if current else TRANSACTIONS
        path = "transactions-current" if current else "transactions"
        url = f"{self.institution.url('accounts')}/accounts/{account_id}/{path}"
        params = {"fromBookingDate": start.isoformat(), "toBookingDate": end.isoformat()}
        return self._list(url, params, endpoint, f"{path} of account {account_id} {start}..{end}")

    # -- credit cards ------------------------------------------------------------------------------------

    def credit_card_accounts(self) -> list[dict]:
        return self._list(f"{self.institution.url('credit-cards-accounts')}/accounts", {}, CARDS, "list card accounts")

    def credit_card_bills(self, card_id: str, from_due: date, to_due: date) -> list[dict]:
        url = f"{self.institution.url('credit-cards-accounts')}/accounts/{card_id}/bills"
        params = {"fromDueDate": from_due.isoformat(), "toDueDate": to_due.isoformat()}
        return self._list(url, params, BILLS, f"bills of card account {card_id} due {from_due}..{to_due}")

    def credit_card_bill_transactions(self, card_id: str, bill_id: str, start: date, end: date) -> list[dict]:
        url = f"{self.institution.url('credit-cards-accounts')}/accounts/{card_id}/bills/{bill_id}/transactions"
        params = {"fromTransactionDate": start.isoformat(), "toTransactionDate": end.isoformat()}
        return self._list(url, params, BILL_TRANSACTIONS, f"transactions of bill {bill_id} of card {card_id}")

    def credit_card_transactions(self, card_id: str, start: date, end: date, today: date) -> list[dict]:
        current = fits_current(start, today)
        endpoint = CARD_TRANSACTIONS_CURRENT if current else CARD_TRANSACTIONS
        path = "transactions-current" if current else "transactions"
        url = f"{self.institution.url('credit-cards-accounts')}/accounts/{card_id}/{path}"
        params = {"fromTransactionDate": start.isoformat(), "toTransactionDate": end.isoformat()}
        return self._list(url, params, endpoint, f"{path} of card account {card_id} {start}..{end}")

    # -- exchanges ---------------------------------------------------------------------------------------

    def fx_operations(self) -> list[dict]:
        """GET /operations (no date filter exists: the whole list every time)."""
        return self._list(f"{self.institution.url('exchanges')}/operations", {}, OPERATIONS, "list FX operations")

    def fx_operation(self, operation_id: str) -> dict:
        url = f"{self.institution.url('exchanges')}/operations/{operation_id}"
        body = self._get(url, None, OPERATION, f"FX operation {operation_id}").body
        return self._data_object(body, OPERATION, f"FX operation {operation_id}")

    def fx_operation_events(self, operation_id: str) -> list[dict]:
        url = f"{self.institution.url('exchanges')}/operations/{operation_id}/events"
        return self._list(url, {}, OPERATION_EVENTS, f"events of FX operation {operation_id}")

    # -- plumbing ----------------------------------------------------------------------------------------

    def _list(self, url: str, params: dict, endpoint: str, describe: str) -> list[dict]:
        first = self._get(url, {**params, "page-size": self.page_size}, endpoint, describe)
        return self._follow(first, endpoint, describe)

    def _follow(self, first: ApiResponse, endpoint: str, describe: str) -> list[dict]:
        records: list[dict] = []
        seen = {first.url}
        response, page = first, 1
        total = (first.body.get("meta") or {}).get("totalRecords") if isinstance(first.body, dict) else None
        while True:
            records.extend(self._data_list(response.body, endpoint, f"{describe} page {page}"))
            next_url = ((response.body.get("links") or {}).get("next") or "").strip()
            if not next_url:  # absent (or the empty string some banks send): the list is complete
                break
            if next_url in seen or page >= MAX_PAGES:
                self._fail(
                    endpoint,
                    f"{describe} page {page}",
                    "links.next points back to a page already read",
                    response.body,
                )
            seen.add(next_url)
            page += 1
            response = self._get(next_url, None, endpoint, f"{describe} page {page}")
        if isinstance(total, int) and len(records) < total:
            self._fail(
                endpoint,
                describe,
                f"only {len(records)} of meta.totalRecords={total} records arrived "
                f"over {page} page(s): the listing is truncated",
                response.body,
            )
        log.info(
            "open finance %s: %s: %d record(s) in %d page(s)",
            self.institution.name,
            describe,
            len(records),
            page,
        )
        return records

    def _data_list(self, body, endpoint: str, describe: str) -> list[dict]:
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            self._fail(endpoint, describe, "the page has no `data` list of objects", body)
        return data

    def _data_object(self, body, endpoint: str, describe: str) -> dict:
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            self._fail(endpoint, describe, "the answer has no `data` object", body)
        return data

    def _fail(self, endpoint: str, describe: str, reason: str, body) -> None:
        payload = json.dumps(body, ensure_ascii=False, sort_keys=True) if body is not None else ""
        record = QuarantineRecord(SOURCE, endpoint, f"{self.institution.name} {describe}", reason, payload)
        raise OpenFinancePayloadError(
            f"Open Finance institution {self.institution.name!r}: {describe}: {reason}; nothing stored",
            [record],
        )

    def _get(self, url: str, params: dict | None, endpoint: str, describe: str, expected=(200,)) -> ApiResponse:
        try:
            return self.session.request(
                "GET",
                url,
                endpoint=endpoint,
                token="data",
                describe=describe,
                params=params,
                expected=expected,
            )
        except (OpenFinanceHTTPError, ConsentError) as error:
            # A 401/403, or a refused token refresh: when the consent is the cause (expired, revoked, permission
            # missing) verify() raises the ConsentError that says so; otherwise the original error stands.
            if isinstance(error, ConsentError) or error.status in (401, 403):
                self.consents.verify(self.institution.consent_id, self.institution.permissions)
            raise
