"""The machine's RabbitMQ (127.0.0.1:5672, guest/guest) for integration tests.

`rabbitmq_url()` returns the AMQP URL once a connection opens (`TEST_RABBITMQ_URL` if set) or raises a
RuntimeError saying how to start the server; tests fail on it, they never skip. `temporary_topology(url)` yields
exchange and queue names with a random suffix (so concurrent test runs never share a queue) and deletes the
queues and exchanges afterwards.
"""

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import pika

URL_ENV = "TEST_RABBITMQ_URL"
DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def rabbitmq_url() -> str:
    url = os.environ.get(URL_ENV) or DEFAULT_URL
    try:
        pika.BlockingConnection(pika.URLParameters(url)).close()
    except Exception as error:
        raise RuntimeError(
            f"RabbitMQ does not answer for the integration tests at {url.replace('guest:guest@', 'guest:***@')} "
            f"({type(error).__name__}: {error}). Start it with `bash .ci/services.sh`, or set {URL_ENV}."
        ) from None
    return url


@dataclass(frozen=True)
class Topology:
    exchange: str
    queue: str
    dead_letter_exchange: str
    dead_letter_queue: str

    def names(self) -> dict[str, str]:
        """Keyword arguments for `EventConsumer`."""
        return asdict(self)


@contextmanager
def temporary_topology(url: str) -> Iterator[Topology]:
    suffix = secrets.token_hex(4)
    topology = Topology(
        exchange=f"erp.events.test.{suffix}",
        queue=f"importau.erp.events.test.{suffix}",
        dead_letter_exchange=f"erp.events.dlx.test.{suffix}",
        dead_letter_queue=f"importau.erp.events.dead.test.{suffix}",
    )
    try:
        yield topology
    finally:
        connection = pika.BlockingConnection(pika.URLParameters(url))
        try:
            channel = connection.channel()
            for queue in (topology.queue, topology.dead_letter_queue):
                channel.queue_delete(queue)
            for exchange in (topology.exchange, topology.dead_letter_exchange):
                channel.exchange_delete(exchange)
        finally:
            connection.close()
