"""ERP events against the machine's real RabbitMQ: every test has its own exchanges and queues, deleted after."""

import json
from datetime import date, datetime

import pika
import pytest

from ingestion.erp.events import (
    EVENT_TYPES,
    REASON_HEADER,
    ErpEvent,
    EventConsumer,
    MalformedEvent,
    parse_event,
    partition_for,
    publish_event,
)
from tests.servers.rabbitmq import rabbitmq_url, temporary_topology


@pytest.fixture(scope="module")
def url() -> str:
    try:
        return rabbitmq_url()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def topology(url):
    with temporary_topology(url) as names:
        yield names


@pytest.fixture
def publisher(url):
    """A channel with publisher confirms: once basic_publish returns, the message is in the queue."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.confirm_delivery()
    yield channel
    connection.close()


def _event(event_type="payable.settled", id_="PAY-000123", at="2024-03-05T14:07:09.123Z", event_id="") -> ErpEvent:
    occurred = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return ErpEvent(event_type, EVENT_TYPES[event_type], id_, occurred, date(2024, 3, 5), event_id)


def _raw(channel, topology, body: bytes, routing_key="payable.settled") -> None:
    channel.basic_publish(topology.exchange, routing_key, body, pika.BasicProperties(delivery_mode=2))


def _dead_letters(channel, queue) -> list[tuple[bytes, dict]]:
    found = []
    while True:
        method, properties, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            return found
        found.append((body, properties.headers))


@pytest.mark.parametrize(
    ("occurred_at", "partition"),
    [
        ("2024-03-05T14:07:09Z", "2024-03-05"),
        ("2024-03-05T02:59:59Z", "2024-03-04"),  # 23:59:59 in São Paulo (UTC-3)
        ("2024-03-05T03:00:00Z", "2024-03-05"),
        ("2024-03-04T23:30:00-03:00", "2024-03-04"),
        ("2019-01-15T02:30:00Z", "2019-01-15"),  # summer time then (UTC-2): 00:30 on the 15th
    ],
)
def test_partition_is_the_sao_paulo_date_of_occurred_at(occurred_at, partition):
    assert partition_for(_event(at=occurred_at)) == partition


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not UTF-8 JSON"),
        (b"\xff\xfe", "not UTF-8 JSON"),
        (b"[1, 2]", "not an object"),
        (
            b'{"event_type": "payable.exploded", "entity": "payables", "id": "P",'
            b' "occurred_at": "2024-03-05T10:00:00Z", "business_date": "2024-03-05"}',
            "unknown event type 'payable.exploded'",
        ),
        (
            b'{"event_type": "payable.settled", "entity": "payables", "occurred_at": "2024-03-05T10:00:00Z"}',
            "missing fields id, business_date",
        ),
        (
            b'{"event_type": "payable.settled", "entity": "receivables", "id": "P", "occurred_at": "2024-03-05T10:00Z",'
            b' "business_date": "2024-03-05"}',
            "payable.settled is about payables, not 'receivables'",
        ),
        (
            b'{"event_type": "payable.settled", "entity": "payables", "id": "P", "occurred_at": "2024-03-05T10:00:00",'
            b' "business_date": "2024-03-05"}',
            "has no UTC offset",
        ),
        (
            b'{"event_type": "payable.settled", "entity": "payables", "id": 7, "occurred_at": "2024-03-05T10:00:00Z",'
            b' "business_date": "2024-03-05"}',
            "id must be a string",
        ),
        (
            b'{"event_type": "payable.settled", "entity": "payables", "id": "P", "occurred_at": "2024-03-05T10:00:00Z",'
            b' "business_date": "05/03/2024"}',
            "not a YYYY-MM-DD date",
        ),
    ],
)
def test_malformed_bodies_are_named(body, reason):
    with pytest.raises(MalformedEvent, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_event(body)


def test_event_json_round_trip_and_stable_id():
    event = _event(event_id="evt-1")
    assert parse_event(event.to_json()) == event
    anonymous = _event().to_json()
    assert parse_event(anonymous).event_id == parse_event(anonymous).event_id != ""
    assert parse_event(anonymous, message_id="m-9").event_id == "m-9"


@pytest.mark.integration
def test_an_event_leads_to_its_partition_and_is_acked_after_the_run_request_is_stored(url, topology, publisher):
    with EventConsumer(url, **topology.names()) as consumer:
        publish_event(publisher, _event(at="2024-03-05T02:30:00Z", event_id="evt-1"), topology.exchange)
        publish_event(publisher, _event("purchase_order.updated", "PO-1", "2024-03-05T15:00:00Z"), topology.exchange)
        polled = consumer.poll(max_messages=10)
        assert [(e.event_type, e.id) for _, e in polled] == [
            ("payable.settled", "PAY-000123"),
            ("purchase_order.updated", "PO-1"),
        ]
        stored_run_requests = {}  # what a sensor would hand to Dagster, keyed by partition
        for tag, event in polled:
            stored_run_requests.setdefault(partition_for(event), []).append(event.event_id)
            consumer.ack(tag)
        assert stored_run_requests == {"2024-03-04": ["evt-1"], "2024-03-05": [polled[1][1].event_id]}
        assert consumer.poll() == []
        with pytest.raises(ValueError, match="unknown delivery tag"):
            consumer.ack(polled[0][0])
    with EventConsumer(url, **topology.names()) as fresh:
        assert fresh.poll() == []  # acked means gone for good


@pytest.mark.integration
def test_malformed_messages_go_to_the_dead_letter_queue_with_their_reason(url, topology, publisher):
    with EventConsumer(url, **topology.names()) as consumer:
        publish_event(publisher, _event(id_="PAY-1"), topology.exchange)
        _raw(publisher, topology, b"{not json")
        unknown = json.loads(_event().to_json()) | {"event_type": "payable.exploded"}
        _raw(publisher, topology, json.dumps(unknown).encode(), "payable.exploded")
        _raw(publisher, topology, json.dumps({"event_type": "payable.settled", "entity": "payables"}).encode())
        publish_event(publisher, _event(id_="PAY-2"), topology.exchange)
        polled = consumer.poll(max_messages=10)  # does not raise
        assert [event.id for _, event in polled] == ["PAY-1", "PAY-2"]
        assert len(consumer.dead_lettered) == 3
        for tag, _ in polled:
            consumer.ack(tag)
        publish_event(publisher, _event(id_="PAY-3"), topology.exchange)
        [(tag, event)] = consumer.poll()  # the consumer keeps going
        consumer.reject_to_dead_letter(tag, "the sensor gave up: PAY-3 refers to an unknown payable")
    dead = _dead_letters(publisher, topology.dead_letter_queue)
    reasons = [headers[REASON_HEADER] for _, headers in dead]
    assert len(reasons) == 4
    assert "not UTF-8 JSON" in reasons[0] and dead[0][0] == b"{not json"
    assert "unknown event type 'payable.exploded'" in reasons[1]
    assert "missing fields id, occurred_at, business_date" in reasons[2]
    assert reasons[3] == "the sensor gave up: PAY-3 refers to an unknown payable"
    assert dead[1][1]["x-importau-original-routing-key"] == "payable.exploded"
    with EventConsumer(url, **topology.names()) as consumer:
        assert consumer.poll() == []  # nothing left behind in the main queue


@pytest.mark.integration
def test_unacked_messages_are_redelivered_after_the_connection_closes(url, topology, publisher):
    first = EventConsumer(url, **topology.names())
    for number in range(3):
        publish_event(publisher, _event(id_=f"PAY-{number}"), topology.exchange)
    polled = first.poll(max_messages=2)
    assert [event.id for _, event in polled] == ["PAY-0", "PAY-1"]
    first.ack(polled[0][0])
    first.close()  # e.g. the sensor died before storing the run request for PAY-1
    with EventConsumer(url, **topology.names()) as second:
        again = second.poll()
        assert sorted(event.id for _, event in again) == ["PAY-1", "PAY-2"]
        redelivered = {event.id: event.event_id for tag, event in again if tag in second.redelivered}
        assert redelivered == {"PAY-1": polled[1][1].event_id}  # same id: the run key dedupes it
        for tag, _ in again:
            second.ack(tag)
