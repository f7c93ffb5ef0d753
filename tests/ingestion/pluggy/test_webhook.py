"""Pluggy webhooks: the body's contract, the months a webhook touches and its run keys, and the receiver over real
HTTP with the stand-in sending the webhooks."""

import json
from datetime import UTC, date, datetime

import httpx
import pytest

from ingestion.pluggy.webhook import SECRET_HEADER, WebhookError, WebhookReceiver, parse_webhook, spooled

NOW = datetime(2024, 12, 20, 15, 0, tzinfo=UTC)
ITEM = "71082288-ffb9-5899-83df-0f812de47738"


def _body(**fields) -> bytes:
    return json.dumps({"event": "transactions/created", "eventId": "ev-1", "itemId": ITEM, **fields}).encode()


def test_a_transactions_webhook_names_its_item_month_and_run_key():
    event = parse_webhook(_body(accountId="acc-1", transactionsCreatedAtFrom="2024-12-19T10:00:00.000Z"), NOW)
    assert (event.item_id, event.account_id, event.months()) == (ITEM, "acc-1", [date(2024, 12, 1)])
    assert event.run_key(date(2024, 12, 1)) == f"pluggy:{ITEM}:2024-12:ev-1"


def test_early_in_a_month_the_month_before_is_pulled_too():
    # 02:00 UTC on 1 Dec is still 30 Nov in São Paulo; 3 Dec local is within the late-posting days
    assert parse_webhook(_body(createdAt="2024-12-01T02:00:00Z"), NOW).months() == [date(2024, 11, 1)]
    assert parse_webhook(_body(createdAt="2024-12-03T12:00:00Z"), NOW).months() == [
        date(2024, 11, 1),
        date(2024, 12, 1),
    ]


def test_the_same_webhook_twice_has_the_same_run_keys_even_without_an_event_id():
    body = json.dumps({"event": "transactions/updated", "itemId": ITEM, "transactionIds": ["a"]}).encode()
    first, second = parse_webhook(body, NOW), parse_webhook(body, NOW)
    assert first.event_id.startswith("sha256-") and first.run_key(date(2024, 12, 1)) == second.run_key(
        date(2024, 12, 1)
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "the body is not JSON"),
        (b"[1]", "the body is not a JSON object"),
        (json.dumps({"itemId": ITEM}).encode(), "`event` is missing"),
        (json.dumps({"event": "item/updated"}).encode(), "`itemId` is missing or not an id: None"),
        (json.dumps({"event": "item/updated", "itemId": "x'; drop"}).encode(), "`itemId` is missing or not an id"),
        (_body(createdAt="yesterday"), "'yesterday' is not an ISO 8601 date-time"),
    ],
)
def test_bad_bodies_are_refused_with_their_reason(body, reason):
    with pytest.raises(WebhookError) as caught:
        parse_webhook(body, NOW)
    assert str(caught.value).startswith(reason)


def test_other_events_need_no_pull():
    assert parse_webhook(json.dumps({"event": "item/login_succeeded", "itemId": ITEM}).encode(), NOW) is None


def test_the_receiver_spools_each_webhook_once(pluggy, tmp_path):
    item = next(iter(pluggy.world.items))
    with WebhookReceiver(tmp_path / "spool", secret="s3cret") as receiver:
        headers = {SECRET_HEADER: "s3cret"}
        for _ in range(2):  # Pluggy redelivers: the same event is one spooled file
            assert (
                pluggy.send_webhook(receiver.url, "transactions/updated", item, headers=headers, event_id="e1") == 200
            )
        assert pluggy.send_webhook(receiver.url, "item/updated", item, headers=headers, event_id="e2") == 200
        assert pluggy.send_webhook(receiver.url, "item/updated", item, event_id="e3") == 401  # no shared secret
        refused = httpx.post(receiver.url, content=b"{oops", headers=headers, timeout=10)
        assert refused.status_code == 400 and refused.json()["message"] == "the body is not JSON"
    events = sorted((event.event, event.event_id) for _, event in spooled(tmp_path / "spool", 10))
    assert events == [("item/updated", "e2"), ("transactions/updated", "e1")]
    assert (tmp_path / "spool").stat().st_mode & 0o777 == 0o700
    assert all(path.stat().st_mode & 0o077 == 0 for path, _ in spooled(tmp_path / "spool", 10))


def test_an_unreadable_spooled_file_is_set_aside_not_lost(tmp_path):
    folder = tmp_path / "spool"
    folder.mkdir()
    (folder / "broken.json").write_text("{half")
    assert list(spooled(folder, 10)) == []
    assert (folder / "broken.bad").read_text() == "{half"


def test_a_client_that_stalls_mid_body_loses_its_connection_and_blocks_no_one(tmp_path):
    import socket

    with WebhookReceiver(tmp_path / "spool", read_timeout=0.5) as receiver:
        host, port = receiver.server_address[:2]
        with socket.create_connection((host, port), timeout=5) as stalled:
            stalled.sendall(b'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"event"')  # then nothing
            stalled.settimeout(5)
            assert stalled.recv(1024) == b""  # closed by the receiver well before our 5 s
        refused = httpx.post(receiver.url, content=b"{oops", timeout=10)  # the receiver still answers
        assert refused.status_code == 400
