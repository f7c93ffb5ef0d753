"""The ERP events sensor against the machine's real RabbitMQ: right partition, ack only after the run exists,
malformed messages dead-lettered without crashing the sensor."""

from datetime import UTC, date, datetime

import dagster as dg
import pika
import pytest

from ingestion.erp.events import REASON_HEADER, ErpEvent, EventConsumer, publish_event
from orchestration.defs.erp_events import erp_events_sensor, events_to_run_requests
from orchestration.resources.erp import ErpResource
from tests.servers.rabbitmq import rabbitmq_url, temporary_topology

pytestmark = pytest.mark.integration

# 01:30 UTC on 1 Mar 2025 is still 28 Feb in São Paulo: the partition is the month of the Brazilian date.
EVENT = ErpEvent(
    "payable.settled", "payables", "PAY-00042", datetime(2025, 3, 1, 1, 30, tzinfo=UTC), date(2025, 2, 28), "evt-42"
)


@pytest.fixture
def topology():
    url = rabbitmq_url()
    with temporary_topology(url) as names:
        # Declare the queue (and its dead-letter queue) before publishing, as the deployed consumer would.
        EventConsumer(url, **names.names()).close()
        yield url, names


def _publish(url, names, event=None, raw: bytes | None = None):
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        if event is not None:
            publish_event(channel, event, exchange=names.exchange)
        else:
            channel.basic_publish(names.exchange, "payable.settled", raw)
    finally:
        connection.close()


def _dead_letters(url, queue):
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        found = []
        while True:
            method, properties, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return found
            found.append((body, (properties.headers or {}).get(REASON_HEADER)))
    finally:
        connection.close()


def test_an_event_requests_its_partition_and_is_acked_only_once_the_run_exists(topology):
    url, names = topology
    _publish(url, names, EVENT)
    with EventConsumer(url, **names.names()) as consumer:
        requests, acked = events_to_run_requests(consumer, run_exists=lambda key: False)
    assert [(r.run_key, r.partition_key) for r in requests] == [("evt-42", "2025-02-01")]
    assert acked == 0
    # Not acked: the message is back in the queue. Once the run with that key exists, the next tick acks it.
    with EventConsumer(url, **names.names()) as consumer:
        requests, acked = events_to_run_requests(consumer, run_exists=lambda key: key == "evt-42")
    assert (requests, acked) == ([], 1)
    with EventConsumer(url, **names.names()) as consumer:
        assert consumer.poll() == []


def test_the_sensor_dead_letters_a_malformed_message_and_keeps_going(topology):
    url, names = topology
    _publish(url, names, raw=b"{not json")
    _publish(url, names, EVENT)
    resource = ErpResource(
        rabbitmq_url=url,
        events_queue=names.queue,
        events_exchange=names.exchange,
        dead_letter_exchange=names.dead_letter_exchange,
        dead_letter_queue=names.dead_letter_queue,
    )
    with dg.instance_for_test() as instance:
        result = erp_events_sensor(dg.build_sensor_context(instance=instance, resources={"erp": resource}))
    assert [(r.run_key, r.partition_key) for r in result.run_requests] == [("evt-42", "2025-02-01")]
    dead = _dead_letters(url, names.dead_letter_queue)
    assert len(dead) == 1 and dead[0][0] == b"{not json"
    assert "JSON" in dead[0][1] or "json" in dead[0][1]


def test_without_a_broker_the_sensor_skips():
    with dg.instance_for_test() as instance:
        result = erp_events_sensor(dg.build_sensor_context(instance=instance, resources={"erp": ErpResource()}))
    assert isinstance(result, dg.SkipReason)
