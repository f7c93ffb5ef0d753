"""ERP events over RabbitMQ: what changed, when, so the orchestration can refresh the affected partitions.

The ERP publishes one JSON message per change to the topic exchange `erp.events`, routing key = event type:
    {"event_type": "payable.settled", "entity": "payables", "id": "PAY-000123",
     "occurred_at": "2024-03-05T14:07:09.123Z", "business_date": "2024-03-05", "event_id": "optional"}
`id` is the entity's key as text (`PO-000001/2` for a composite key); `occurred_at` needs a UTC offset;
`business_date` is the document's date in the ERP. Unknown extra fields are ignored (forward compatible).

`EventConsumer(url)` declares its queue (`importau.erp.events`, bound to every routing key) with a dead-letter
exchange and queue (`erp.events.dlx` -> `importau.erp.events.dead`). `poll(max_messages)` returns
`[(delivery_tag, ErpEvent)]` and leaves them unacknowledged; the caller acks each one once its work is safely
stored (`ack(tag)`), or gives it up with `reject_to_dead_letter(tag, reason)`. Anything not acked when the
connection closes is delivered again, so a crash loses nothing (and the caller must tolerate repeats:
`event.event_id` is stable across deliveries). A malformed message (not JSON, unknown event type, missing or
bad field) never reaches the caller: `poll` moves it to the dead-letter queue with the reason in the
`x-importau-reason` header and goes on. Dead letters are republished (with publisher confirms) and then acked,
so the reason travels with them; the queue's own `x-dead-letter-exchange` catches plain rejects too.

`partition_for(event)` is the daily partition key: the São Paulo calendar date of `occurred_at`.
One consumer per thread (pika's BlockingConnection is not thread-safe).
"""

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pika
from pika.adapters.blocking_connection import BlockingChannel

from ingestion.common.redact import redact_text, redact_url, secrets_of

URL_ENV = "ERP_RABBITMQ_URL"
EXCHANGE = "erp.events"
QUEUE = "importau.erp.events"
DEAD_LETTER_EXCHANGE = "erp.events.dlx"
DEAD_LETTER_QUEUE = "importau.erp.events.dead"
REASON_HEADER = "x-importau-reason"
BUSINESS_TIMEZONE = ZoneInfo("America/Sao_Paulo")

_ACTIONS = ("created", "updated", "deleted")
_SINGULAR = {
    "suppliers": "supplier",
    "products": "product",
    "customers": "customer",
    "purchase_orders": "purchase_order",
    "purchase_order_lines": "purchase_order_line",
    "shipments": "shipment",
    "import_declarations": "import_declaration",
    "import_declaration_items": "import_declaration_item",
    "payables": "payable",
    "payable_settlements": "payable_settlement",
    "inventory_movements": "inventory_movement",
    "sales_invoices": "sales_invoice",
    "receivables": "receivable",
}
_BUSINESS_EVENTS = {
    "purchase_order.confirmed": "purchase_orders",
    "purchase_order.cancelled": "purchase_orders",
    "shipment.departed": "shipments",
    "shipment.arrived": "shipments",
    "import_declaration.registered": "import_declarations",
    "import_declaration.cleared": "import_declarations",
    "payable.settled": "payables",
    "sales_invoice.issued": "sales_invoices",
    "sales_invoice.cancelled": "sales_invoices",
    "receivable.paid": "receivables",
}
EVENT_TYPES: dict[str, str] = {
    **{f"{singular}.{action}": entity for entity, singular in _SINGULAR.items() for action in _ACTIONS},
    **_BUSINESS_EVENTS,
}  # event type -> the entity it is about
REQUIRED_FIELDS = ("event_type", "entity", "id", "occurred_at", "business_date")


class MalformedEvent(ValueError):
    """A message that is not a valid ERP event; the message says why."""


@dataclass(frozen=True)
class ErpEvent:
    event_type: str
    entity: str
    id: str
    occurred_at: datetime  # UTC
    business_date: date
    event_id: str = ""  # the message id; when the publisher gives none, a hash of the body

    def to_json(self) -> bytes:
        body = asdict(self)
        body["occurred_at"] = self.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        body["business_date"] = self.business_date.isoformat()
        return json.dumps(body, sort_keys=True).encode("utf-8")


def parse_event(body: bytes, message_id: str | None = None) -> ErpEvent:
    """The event in a message body; raises `MalformedEvent` naming what is wrong."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedEvent(f"the body is not UTF-8 JSON ({error})") from None
    if not isinstance(data, dict):
        raise MalformedEvent(f"the body is JSON but not an object ({type(data).__name__})")
    missing = [name for name in REQUIRED_FIELDS if data.get(name) in (None, "")]
    if missing:
        raise MalformedEvent(f"missing fields {', '.join(missing)}")
    for name in ("event_type", "entity", "id", "occurred_at", "business_date"):
        if not isinstance(data[name], str):
            raise MalformedEvent(f"{name} must be a string, got {type(data[name]).__name__}")
    event_type, entity = data["event_type"], data["entity"]
    if event_type not in EVENT_TYPES:
        raise MalformedEvent(f"unknown event type {event_type!r}")
    if EVENT_TYPES[event_type] != entity:
        raise MalformedEvent(f"{event_type} is about {EVENT_TYPES[event_type]}, not {entity!r}")
    try:
        occurred_at = datetime.fromisoformat(data["occurred_at"].replace("Z", "+00:00"))
    except ValueError:
        raise MalformedEvent(f"occurred_at {data['occurred_at']!r} is not an ISO-8601 timestamp") from None
    if occurred_at.tzinfo is None:
        raise MalformedEvent(f"occurred_at {data['occurred_at']!r} has no UTC offset")
    try:
        business_date = date.fromisoformat(data["business_date"])
    except ValueError:
        raise MalformedEvent(f"business_date {data['business_date']!r} is not a YYYY-MM-DD date") from None
    event_id = str(data.get("event_id") or message_id or hashlib.sha256(body).hexdigest()[:32])
    return ErpEvent(event_type, entity, data["id"], occurred_at.astimezone(UTC), business_date, event_id)


def partition_for(event: ErpEvent) -> str:
    """The daily partition key (`YYYY-MM-DD`): the São Paulo calendar date of `occurred_at`."""
    return event.occurred_at.astimezone(BUSINESS_TIMEZONE).date().isoformat()


def publish_event(channel: BlockingChannel, event: ErpEvent, exchange: str = EXCHANGE) -> None:
    """Publish as the ERP does (declares the durable topic exchange first; persistent message)."""
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    properties = pika.BasicProperties(
        content_type="application/json", delivery_mode=2, message_id=event.event_id or None
    )
    channel.basic_publish(exchange, event.event_type, event.to_json(), properties)


class EventConsumer:
    """Poll ERP events from RabbitMQ; ack or dead-letter each one explicitly. Use as a context manager."""

    def __init__(
        self,
        url: str,
        queue: str = QUEUE,
        exchange: str = EXCHANGE,
        dead_letter_exchange: str = DEAD_LETTER_EXCHANGE,
        dead_letter_queue: str = DEAD_LETTER_QUEUE,
        routing_keys: tuple[str, ...] = ("#",),
    ):
        self.queue, self.dead_letter_exchange, self.dead_letter_queue = queue, dead_letter_exchange, dead_letter_queue
        self.dead_lettered: list[tuple[str, str]] = []  # (event id or delivery tag, reason) of this connection
        self.redelivered: set[int] = set()  # tags of messages delivered before to some consumer
        self._pending: dict[int, tuple] = {}  # tag -> (method, properties, body), until acked or dead-lettered
        try:
            self._connection = pika.BlockingConnection(pika.URLParameters(url))
        except Exception as error:
            detail = redact_text(f"{type(error).__name__}: {error}", secrets_of(url))
            raise ConnectionError(f"cannot connect to RabbitMQ at {redact_url(url)} ({detail})") from None
        channel = self._channel = self._connection.channel()
        channel.confirm_delivery()
        channel.exchange_declare(exchange, exchange_type="topic", durable=True)
        channel.exchange_declare(dead_letter_exchange, exchange_type="direct", durable=True)
        channel.queue_declare(dead_letter_queue, durable=True)
        channel.queue_bind(dead_letter_queue, dead_letter_exchange, routing_key=dead_letter_queue)
        arguments = {"x-dead-letter-exchange": dead_letter_exchange, "x-dead-letter-routing-key": dead_letter_queue}
        channel.queue_declare(queue, durable=True, arguments=arguments)
        for key in routing_keys:
            channel.queue_bind(queue, exchange, routing_key=key)

    def __enter__(self) -> "EventConsumer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection; whatever was polled and not acked goes back to the queue."""
        if self._connection.is_open:
            self._connection.close()
        self._pending.clear()

    def poll(self, max_messages: int = 100) -> list[tuple[int, ErpEvent]]:
        """Up to `max_messages` valid events waiting in the queue, unacknowledged, in queue order.

        Malformed messages met on the way are dead-lettered with their reason (see `dead_lettered`) and do not
        count towards `max_messages`.
        """
        events: list[tuple[int, ErpEvent]] = []
        while len(events) < max_messages:
            method, properties, body = self._channel.basic_get(self.queue, auto_ack=False)
            if method is None:
                break
            tag = method.delivery_tag
            self._pending[tag] = (method, properties, body)
            if method.redelivered:
                self.redelivered.add(tag)
            try:
                events.append((tag, parse_event(body, properties.message_id)))
            except MalformedEvent as error:
                self.reject_to_dead_letter(tag, str(error))
        return events

    def ack(self, tag: int) -> None:
        """The event's work is stored: remove the message from the queue for good."""
        self._take(tag)
        self._channel.basic_ack(delivery_tag=tag)

    def reject_to_dead_letter(self, tag: int, reason: str) -> None:
        """Move the message to the dead-letter queue, `reason` in its `x-importau-reason` header."""
        method, properties, body = self._take(tag)
        headers = dict(properties.headers or {})
        headers.update(
            {
                REASON_HEADER: reason[:2000],
                "x-importau-original-exchange": method.exchange,
                "x-importau-original-routing-key": method.routing_key,
                "x-importau-rejected-at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
        dead = pika.BasicProperties(
            content_type=properties.content_type,
            delivery_mode=2,
            message_id=properties.message_id,
            headers=headers,
        )
        # Confirmed and routed (mandatory) before the original is acked: a failure here raises and keeps it queued.
        self._channel.basic_publish(self.dead_letter_exchange, self.dead_letter_queue, body, dead, mandatory=True)
        self._channel.basic_ack(delivery_tag=tag)
        self.dead_lettered.append((properties.message_id or str(tag), reason))

    def _take(self, tag: int) -> tuple:
        if tag not in self._pending:
            raise ValueError(
                f"unknown delivery tag {tag}: a tag is valid once, on the consumer (connection) that polled it"
            )
        self.redelivered.discard(tag)
        return self._pending.pop(tag)
