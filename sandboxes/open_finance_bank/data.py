"""`BankData`: what the sandbox institution knows, and when it shows it. The plug point for other generators.

Records are dicts in the official shape of the spec they are served from (accounts 2.4.2, credit-cards 2.3.1,
exchanges 1.0.0); `records.py` renders them from plain Python values (Decimal, datetime) so a generator never
formats a string by hand. Records that live under a parent resource are wrapped in an `Entry` saying which
parent and from/until which day the bank shows them, which is how a pending `LANCAMENTO_FUTURO` disappears and
its posted twin (with a new `transactionId`) appears when the sandbox clock moves on.

A generator (e.g. the ERP demo company, `sandboxes/demo_company/`) builds one `BankData` and hands it to
`SandboxBank(data=...)`; `demo.py` is the small built-in dataset.
"""

from dataclasses import dataclass, field
from datetime import date

# A transaction record may carry the id it is first served under (a messy demo's cross-pull duplicate); the
# transactions endpoint applies and removes it (`endpoints._as_seen_by`), so no client ever sees this key.
PROVISIONAL_ID = "_provisionalTransactionId"


@dataclass(frozen=True)
class Entry:
    """One record under a parent resource (accountId or creditCardAccountId), shown on days in [from, until]."""

    parent_id: str
    data: dict
    shown_from: date | None = None  # None = always shown so far
    shown_until: date | None = None  # None = never withdrawn

    def shown_on(self, day: date) -> bool:
        return (self.shown_from is None or self.shown_from <= day) and (
            self.shown_until is None or day <= self.shown_until
        )


@dataclass(frozen=True)
class FxOperation:
    """One FX contract: its `OperationDetails` record and its `Events` records (exchanges 1.0.0)."""

    operation_id: str
    detail: dict
    events: tuple[dict, ...] = ()
    shown_from: date | None = None  # an operation appears once contracted

    def shown_on(self, day: date) -> bool:
        return self.shown_from is None or self.shown_from <= day

    def events_on(self, day: date) -> list[dict]:
        """Events dated on or before `day` (the bank cannot show tomorrow's settlement today)."""
        return [event for event in self.events if event.get("eventDate", "")[:10] <= day.isoformat()]


@dataclass
class BankData:
    """Everything one sandbox institution serves.

    * `accounts`: `AccountData` records (list endpoint), each with a unique `accountId`.
    * `balances`: `Entry(accountId, AccountBalancesData)`; the latest one shown on the sandbox's day is served.
    * `transactions`: `Entry(accountId, AccountTransactionsData)`.
    * `credit_card_accounts`: `CreditCardAccountsData` records.
    * `credit_card_bills`: `Entry(creditCardAccountId, CreditCardAccountsBillsData)`; show a bill from its
      closing day (only closed bills are listed).
    * `credit_card_transactions`: `Entry(creditCardAccountId, CreditCardAccountsTransaction)`; put `billId` in
      the record once the transaction belongs to a closed bill (the bill's transactions endpoint serves those).
    * `fx_operations`: `FxOperation`s; the list endpoint shows `brand_name`, `bank_cnpj` and the id.
    * `resource_status`: resourceId → status other than AVAILABLE (e.g. PENDING_AUTHORISATION).
    """

    brand_name: str
    bank_cnpj: str
    accounts: list[dict] = field(default_factory=list)
    balances: list[Entry] = field(default_factory=list)
    transactions: list[Entry] = field(default_factory=list)
    credit_card_accounts: list[dict] = field(default_factory=list)
    credit_card_bills: list[Entry] = field(default_factory=list)
    credit_card_transactions: list[Entry] = field(default_factory=list)
    fx_operations: list[FxOperation] = field(default_factory=list)
    resource_status: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, ids in (
            ("accountId", [a["accountId"] for a in self.accounts]),
            ("creditCardAccountId", [c["creditCardAccountId"] for c in self.credit_card_accounts]),
            ("operationId", [o.operation_id for o in self.fx_operations]),
        ):
            if len(set(ids)) != len(ids):
                raise ValueError(f"BankData: duplicate {name} values")

    # -- what the bank shows on a given day ----------------------------------------------------------------

    def resources(self) -> list[dict]:
        listed = (
            [(a["accountId"], "ACCOUNT") for a in self.accounts]
            + [(c["creditCardAccountId"], "CREDIT_CARD_ACCOUNT") for c in self.credit_card_accounts]
            + [(o.operation_id, "EXCHANGE") for o in self.fx_operations]
        )
        return [
            {"resourceId": rid, "type": kind, "status": self.resource_status.get(rid, "AVAILABLE")}
            for rid, kind in listed
        ]

    def account(self, account_id: str) -> dict | None:
        return next((a for a in self.accounts if a["accountId"] == account_id), None)

    def card(self, card_id: str) -> dict | None:
        return next((c for c in self.credit_card_accounts if c["creditCardAccountId"] == card_id), None)

    def operation(self, operation_id: str, day: date) -> FxOperation | None:
        return next((o for o in self.fx_operations if o.operation_id == operation_id and o.shown_on(day)), None)

    def balance(self, account_id: str, day: date) -> dict | None:
        shown = [e for e in self.balances if e.parent_id == account_id and e.shown_on(day)]
        return max(shown, key=lambda e: e.data.get("updateDateTime", "")).data if shown else None

    def account_transactions(self, account_id: str, day: date) -> list[dict]:
        return [e.data for e in self.transactions if e.parent_id == account_id and e.shown_on(day)]

    def bills(self, card_id: str, day: date) -> list[dict]:
        return [e.data for e in self.credit_card_bills if e.parent_id == card_id and e.shown_on(day)]

    def card_transactions(self, card_id: str, day: date) -> list[dict]:
        return [e.data for e in self.credit_card_transactions if e.parent_id == card_id and e.shown_on(day)]

    def operations(self, day: date) -> list[FxOperation]:
        return [o for o in self.fx_operations if o.shown_on(day)]
