"""Pull one day's window from one or several institutions into Arrow tables (one per entity) plus quarantine.

Per institution: check the consent (client_credentials) → GET /resources → accounts (balances, transactions
over the trailing window) → credit-card accounts (bills due in the window and ahead, their transactions, the
current card transactions) → FX operations (list → detail → events). Only resources the institution lists as
AVAILABLE are read further. Families whose permissions the institution's config leaves out are skipped.
The detail and events of the FX operations are fetched up to `institution.max_parallel_calls` operations at
once (a thread pool per pull); rows are assembled in the listing's order, so the same answers give the same
tables whatever the pool size. The call budget is charged through one `BudgetSession` per pull (budget.py).

Any error fails the institution's pull as a whole (nothing is returned to be written), so a partition never
lands half a pull; bad records alone are quarantined. `pull_institutions` runs several institutions, and
raises `InstitutionsFailed` (keeping the good results) if any failed.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import date, timedelta

import pyarrow as pa

from ingestion.common.clock import sao_paulo_today
from ingestion.common.quarantine import QuarantineRecord
from ingestion.open_finance import entities, schemas
from ingestion.open_finance.auth import TokenManager, TokenStore, http_client
from ingestion.open_finance.budget import CallBudget
from ingestion.open_finance.client import OpenFinanceClient
from ingestion.open_finance.config import (
    ACCOUNT_PERMISSIONS,
    CARD_PERMISSIONS,
    DEFAULT_WINDOW_DAYS,
    EXCHANGE_PERMISSIONS,
    Institution,
)
from ingestion.open_finance.errors import OpenFinanceHTTPError
from ingestion.open_finance.parse import Parsed
from ingestion.open_finance.transport import CallSettings, FapiSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PullOptions:
    window_days: int = DEFAULT_WINDOW_DAYS  # transactions booked day-(window_days-1) .. day
    bill_due_ahead_days: int = 45  # bills due in the window or up to this many days after it
    bill_lookback_days: int = 90  # a bill's transactions are asked for dueDate-lookback .. dueDate


@dataclass
class OpenFinanceExtract:
    institution: str
    window: tuple[date, date]
    tables: dict[str, pa.Table]
    quarantine: list[QuarantineRecord] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)  # attempts per endpoint template (for metadata)
    retries: dict[str, int] = field(default_factory=dict)  # retries of transient failures by reason (for metadata)


class InstitutionsFailed(RuntimeError):
    def __init__(self, errors: Mapping[str, BaseException], results: Mapping[str, OpenFinanceExtract]):
        self.errors, self.results = dict(errors), dict(results)
        lines = "; ".join(f"{name}: {error}" for name, error in sorted(self.errors.items()))
        super().__init__(f"{len(self.errors)} Open Finance institution(s) failed: {lines}")


def _collect(entity_rows: dict[str, Parsed], entity: str, parsed: Parsed) -> None:
    entity_rows.setdefault(entity, Parsed()).extend(parsed)


def _available(resources: Iterable[dict], kind: str) -> set[str]:
    return {str(r.get("resourceId")) for r in resources if r.get("type") == kind and r.get("status") == "AVAILABLE"}


def _skipped(institution: str, kind: str, ids: Iterable[str], available: set[str]) -> list[str]:
    wanted = [i for i in ids if i in available]
    for missing in sorted(set(ids) - available):
        log.warning("open finance %s: %s %s is not AVAILABLE in /resources; skipped", institution, kind, missing)
    return wanted


def _dedupe_card_transactions(parsed: Parsed) -> None:
    """One row per card transaction id within a pull: the billed version wins (its id is final)."""
    best: dict[tuple, dict] = {}
    for row in parsed.rows:
        key = (row["credit_card_account_id"], row["transaction_id"])
        if key not in best or (best[key].get("bill_id") is None and row.get("bill_id") is not None):
            best[key] = row
    parsed.rows = list(best.values())


class _Stopped(Exception):
    """A fanned-out task that did not start because another one had already failed."""


def fan_out(
    institution: str,
    fn: Callable,
    items: Sequence,
    workers: int,
    item_seconds: float,
    describe: Callable[[object], str],
) -> list:
    """`[fn(item) for item in items]` with up to `workers` items at once; results in the order of `items`.

    Results are awaited in order, each for at most `item_seconds` (the pool starts items first-in first-out,
    so when every earlier item is done this one is running or starts at once: the bound is per item). Once an
    item fails no further item starts; the ones in flight finish (they are bounded by the HTTP timeouts and
    retries) and the first failure in the order of `items` is raised. A wait past the bound raises
    `OpenFinanceHTTPError` without waiting for the stuck item.
    """
    if workers <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    stop = threading.Event()

    def run(item):
        if stop.is_set():
            raise _Stopped()
        try:
            return fn(item)
        except BaseException:
            stop.set()  # before this worker takes the next item
            raise

    pool = ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix=f"open-finance-{institution}")
    stuck = False
    try:
        futures = [pool.submit(run, item) for item in items]
        results = []
        for item, future in zip(items, futures, strict=True):
            try:
                results.append(future.result(timeout=item_seconds))
            except FutureTimeout:
                stuck = True
                raise OpenFinanceHTTPError(
                    institution, describe(item), None, f"no answer within {item_seconds:.0f} s"
                ) from None
        return results
    except BaseException:
        stop.set()
        raise
    finally:
        pool.shutdown(wait=not stuck, cancel_futures=True)


def _fx_operation_with_events(client: OpenFinanceClient, operation_id: str) -> tuple[dict, list[dict]]:
    return client.fx_operation(operation_id), client.fx_operation_events(operation_id)


def pull_with_client(
    client: OpenFinanceClient, day: date, today: date, options: PullOptions | None = None
) -> dict[str, Parsed]:
    """Everything of one institution for the window ending on `day`, parsed (rows and quarantine per entity)."""
    options = options or PullOptions()
    institution = client.institution
    name = institution.name
    start = day - timedelta(days=options.window_days - 1)
    permissions = set(institution.permissions)
    client.consents.verify(institution.consent_id, institution.permissions)
    resources = client.resources()
    out: dict[str, Parsed] = {}

    if set(ACCOUNT_PERMISSIONS) <= permissions:
        listed = client.accounts()
        _collect(out, "accounts", entities.accounts(name, listed))
        ids = [str(a.get("accountId")) for a in listed if a.get("accountId")]
        for account_id in _skipped(name, "account", ids, _available(resources, "ACCOUNT")):
            _collect(out, "balances", entities.balances(name, account_id, client.balances(account_id)))
            records = client.account_transactions(account_id, start, day, today)
            _collect(out, "transactions", entities.transactions(name, account_id, records))

    if set(CARD_PERMISSIONS) <= permissions:
        cards = client.credit_card_accounts()
        _collect(out, "credit_card_accounts", entities.credit_card_accounts(name, cards))
        ids = [str(c.get("creditCardAccountId")) for c in cards if c.get("creditCardAccountId")]
        card_rows = Parsed()
        for card_id in _skipped(name, "credit card account", ids, _available(resources, "CREDIT_CARD_ACCOUNT")):
            bills = client.credit_card_bills(card_id, start, day + timedelta(days=options.bill_due_ahead_days))
            parsed_bills = entities.credit_card_bills(name, card_id, bills)
            _collect(out, "credit_card_bills", parsed_bills)
            for bill in parsed_bills.rows:
                due = bill["due_date"]
                records = client.credit_card_bill_transactions(
                    card_id, bill["bill_id"], due - timedelta(days=options.bill_lookback_days), due
                )
                card_rows.extend(entities.credit_card_transactions(name, card_id, records, bill["bill_id"]))
            current = client.credit_card_transactions(card_id, start, day, today)
            card_rows.extend(entities.credit_card_transactions(name, card_id, current))
        _dedupe_card_transactions(card_rows)
        _collect(out, "credit_card_transactions", card_rows)

    if set(EXCHANGE_PERMISSIONS) <= permissions:
        listed = client.fx_operations()
        by_id = {str(o.get("operationId")): o for o in listed if o.get("operationId")}
        wanted = _skipped(name, "FX operation", list(by_id), _available(resources, "EXCHANGE"))
        fetched = fan_out(
            name,
            lambda operation_id: _fx_operation_with_events(client, operation_id),
            wanted,
            institution.max_parallel_calls,
            4 * client.session.settings.longest_call(),  # detail, events, a further page, a consent re-read
            lambda operation_id: f"FX operation {operation_id} (detail and events)",
        )
        for operation_id, (detail, events) in zip(wanted, fetched, strict=True):
            _collect(out, "fx_operations", entities.fx_operation(name, by_id[operation_id], detail))
            _collect(out, "fx_operation_events", entities.fx_operation_events(name, operation_id, events))
    return out


def to_extract(
    name: str, window: tuple[date, date], parsed: Mapping[str, Parsed], calls: Mapping, retries: Mapping | None = None
) -> OpenFinanceExtract:
    tables = schemas.empty_tables()
    quarantine: list[QuarantineRecord] = []
    for entity, result in parsed.items():
        tables[entity] = schemas.to_table(entity, result.rows)
        quarantine.extend(result.quarantine)
    return OpenFinanceExtract(name, window, tables, quarantine, dict(calls), dict(retries or {}))


def pull_institution(
    institution: Institution,
    day: date,
    *,
    token_store: TokenStore,
    budget: CallBudget,
    settings: CallSettings | None = None,
    options: PullOptions | None = None,
    today: date | None = None,
    grant: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> OpenFinanceExtract:
    """Pull one institution over mutual TLS. `grant` may carry a first `authorization_code`/`refresh_token`."""
    today = today or sao_paulo_today()
    grant = grant or {}
    settings, options = settings or CallSettings(), options or PullOptions()
    with http_client(institution, settings.timeout) as http:
        tokens = TokenManager(
            institution,
            http,
            token_store,
            authorization_code=grant.get("authorization_code"),
            refresh_token=grant.get("refresh_token"),
        )
        with budget.session() as charged:  # in memory; unused reserved calls go back on any exit
            session = FapiSession(institution, http, tokens, charged, settings, sleep)
            parsed = pull_with_client(OpenFinanceClient(session), day, today, options)
    window = (day - timedelta(days=options.window_days - 1), day)
    extract = to_extract(institution.name, window, parsed, session.calls, session.retries.by_reason())
    log.info(
        "open finance %s: pulled %s (%d quarantined, %d calls, %s)",
        institution.name,
        {entity: table.num_rows for entity, table in extract.tables.items()},
        len(extract.quarantine),
        sum(extract.calls.values()),
        session.retries,
    )
    return extract


def pull_institutions(
    institutions: Iterable[Institution],
    day: date,
    *,
    max_workers: int = 2,
    grants: Mapping[str, Mapping[str, str]] | None = None,
    **kwargs,
) -> dict[str, OpenFinanceExtract]:
    """Pull several institutions (a thread each, up to `max_workers`); every one is tried before failing."""
    institutions = list(institutions)
    grants = grants or {}
    results: dict[str, OpenFinanceExtract] = {}
    errors: dict[str, BaseException] = {}
    with ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="open-finance") as pool:
        futures = {
            inst.name: pool.submit(pull_institution, inst, day, grant=grants.get(inst.name), **kwargs)
            for inst in institutions
        }
        for name, future in futures.items():
            try:
                results[name] = future.result()
            except Exception as error:  # noqa: BLE001 - reported per institution below
                errors[name] = error
    if errors:
        raise InstitutionsFailed(errors, results)
    return results


def combine(extracts: Iterable[OpenFinanceExtract]) -> dict[str, pa.Table]:
    """One table per entity across institutions."""
    extracts = list(extracts)
    return {
        entity: pa.concat_tables([extract.tables[entity] for extract in extracts]) if extracts else schema.empty_table()
        for entity, schema in schemas.SCHEMAS.items()
    }
