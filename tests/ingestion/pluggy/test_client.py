"""The Pluggy client against the stand-in over real HTTP on 127.0.0.1: auth and key renewal, paging, 429 and 5xx
retries, error shapes, and the clear errors naming endpoint and item."""

import logging
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime

import pytest

from ingestion.pluggy.client import ClientSettings, PluggyClient
from ingestion.pluggy.errors import PluggyAuthError, PluggyHTTPError
from tests.ingestion.pluggy.conftest import END, FAST, START


def _bank_item(pluggy) -> str:
    """The item holding the card (two accounts: a BANK and a CREDIT one)."""
    return next(item for item, accounts in pluggy.world.accounts.items() if len(accounts) > 1)


def test_auth_gives_a_key_used_in_x_api_key_and_reused(pluggy, client):
    item = _bank_item(pluggy)
    assert client.item(item)["id"] == item
    client.accounts(item)
    assert pluggy.auth_calls == 1 and client.auth_calls == 1
    assert [r[1] for r in pluggy.requests[:2]] == ["/auth", f"/items/{item}"]


def test_wrong_credentials_are_a_clear_auth_error_without_the_secret(pluggy, settings):
    with PluggyClient(settings.base_url, settings.client_id, "not-the-secret", FAST) as client:
        with pytest.raises(PluggyAuthError) as caught:
            client.item(_bank_item(pluggy))
    message = str(caught.value)
    assert "POST /auth" in message and "HTTP 401" in message and "PLUGGY_CLIENT_SECRET" in message
    assert "not-the-secret" not in message and settings.client_secret not in message


def test_an_expired_key_is_replaced_once_and_the_call_goes_on(pluggy, client, caplog):
    item = _bank_item(pluggy)
    client.item(item)
    pluggy.expire_keys()
    with caplog.at_level(logging.WARNING, logger="ingestion.pluggy.client"):
        assert len(client.accounts(item)) == 2
    assert pluggy.auth_calls == 2
    assert "HTTP 401" in caplog.text and "new API key" in caplog.text
    assert not any(key in caplog.text for key in pluggy._keys)  # no key reaches the logs


def test_the_key_is_renewed_before_its_documented_expiry(pluggy, settings):
    now = [0.0]
    lifetime = ClientSettings(key_lifetime_seconds=7200, key_refresh_margin_seconds=600)
    with PluggyClient(
        settings.base_url, settings.client_id, settings.client_secret, lifetime, clock=lambda: now[0]
    ) as client:
        item = _bank_item(pluggy)
        client.item(item)
        now[0] = 6599.0
        client.item(item)
        assert pluggy.auth_calls == 1
        now[0] = 6600.0  # 1 h 50 min: renewed before Pluggy's 2 h
        client.item(item)
        assert pluggy.auth_calls == 2
    statuses = [r for r in pluggy.requests if r[1] == "/auth"]
    assert len(statuses) == 2


def test_a_key_refused_even_fresh_is_an_auth_error(pluggy, client):
    item = _bank_item(pluggy)
    client.item(item)
    pluggy.key_lifetime_seconds = -1  # every key is already expired when used
    with pytest.raises(PluggyAuthError, match=r"GET /items/\{id\} \(item .*\) refused a fresh API key \(HTTP 401"):
        client.item(item)


def test_accounts_are_read_page_by_page(pluggy, client):
    item = _bank_item(pluggy)
    accounts = client.accounts(item)
    assert {a["type"] for a in accounts} == {"BANK", "CREDIT"}
    pages = [q["page"] for method, path, q in pluggy.requests if path == "/accounts"]
    assert pages == ["1", "2"]


def test_transactions_follow_the_cursor_to_the_end(pluggy, client):
    account = next(a for a in pluggy.world.accounts[_bank_item(pluggy)] if a["type"] == "BANK")
    got = list(client.transactions(account["id"], START, END))
    expected = pluggy.world.transactions[account["id"]]
    assert [t["id"] for t in got] == [t["id"] for t in expected]
    calls = [q for _, path, q in pluggy.requests if path == "/v2/transactions"]
    assert len(calls) == -(-len(expected) // 25) > 1
    assert "after" not in calls[0] and all("after" in q for q in calls[1:])


def test_429_waits_retry_after_and_succeeds(pluggy, client, caplog):
    item = _bank_item(pluggy)
    slept = []
    client._sleep = slept.append
    pluggy.fail("/accounts", 429, times=2, retry_after=1)
    with caplog.at_level(logging.WARNING, logger="ingestion.pluggy.client"):
        assert len(client.accounts(item)) == 2
    assert slept == [1.0, 1.0]
    assert client.retries.by_reason() == {"429": 2}
    assert "GET /accounts" in caplog.text and f"item {item}" in caplog.text


def test_a_retry_after_given_as_an_http_date_is_waited_until_then(pluggy, client):
    """RFC 9110 allows `Retry-After: <HTTP date>`; it is honoured as the seconds until that date (within the bound)."""
    slept = []
    client._sleep = slept.append
    then = format_datetime(datetime.now(UTC) + timedelta(seconds=4), usegmt=True)
    pluggy.fail("/accounts", 429, times=1, retry_after=then)
    assert len(client.accounts(_bank_item(pluggy))) == 2
    assert len(slept) == 1 and 2 <= slept[0] <= 4  # the date has whole seconds; not the 0.01 s backoff


def test_429_asking_for_longer_than_the_bound_fails_at_once(pluggy, client):
    item = _bank_item(pluggy)
    pluggy.fail("/accounts", 429, times=1, retry_after=3600)
    with pytest.raises(PluggyHTTPError) as caught:
        client.accounts(item)
    assert caught.value.status == 429 and caught.value.attempts == 1
    assert "asked to wait 3600 s, over the bound of 5 s" in str(caught.value)
    assert f"item {item}" in str(caught.value)


def test_a_500_that_persists_fails_after_the_bounded_attempts_naming_endpoint_and_item(pluggy, client):
    item = _bank_item(pluggy)
    pluggy.fail("/items/", 500, times=10)
    with pytest.raises(PluggyHTTPError) as caught:
        client.item(item)
    error = caught.value
    assert (error.status, error.attempts, error.item_id) == (500, FAST.max_attempts, item)
    assert str(error) == (
        f"Pluggy GET /items/{{id}} (item {item}) failed after {FAST.max_attempts} attempts: "
        "HTTP 500: Internal server error"
    )
    assert client.retries.by_reason() == {"500": FAST.max_attempts - 1}


def test_a_500_then_success_and_a_cut_off_body_are_retried(pluggy, client):
    item = _bank_item(pluggy)
    pluggy.fail("/items/", 500, times=1)
    pluggy.fail("/accounts", "cut")
    assert client.item(item)["id"] == item
    assert len(client.accounts(item)) == 2
    assert client.retries.by_reason() == {"500": 1, "unreadable body": 1}


def test_an_unknown_item_is_a_404_naming_it(pluggy, client):
    with pytest.raises(
        PluggyHTTPError,
        match=r"GET /items/\{id\} \(item 00000000-dead\) failed after 1 attempt: HTTP 404: Item not found",
    ):
        client.item("00000000-dead")


def test_no_server_is_a_clear_error_after_the_bounded_attempts():
    with PluggyClient("http://127.0.0.1:9", "id", "secret", FAST) as client:
        with pytest.raises(
            PluggyHTTPError,
            match=rf"POST /auth failed after {FAST.max_attempts} attempts: no HTTP response: connection failed",
        ):
            client.item("anything-1")


def test_dates_are_sent_as_iso_days(pluggy, client):
    account = next(a for a in pluggy.world.accounts[_bank_item(pluggy)] if a["type"] == "BANK")
    list(client.transactions(account["id"], date(2024, 2, 1), date(2024, 2, 29)))
    first = next(q for _, path, q in pluggy.requests if path == "/v2/transactions")
    assert (first["dateFrom"], first["dateTo"], first["accountId"]) == ("2024-02-01", "2024-02-29", account["id"])
