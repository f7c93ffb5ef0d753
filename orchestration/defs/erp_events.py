"""ERP events from RabbitMQ → runs of the ERP ingestion for the affected partitions (the months of the events).

A message is acknowledged only once its run request is stored: tick N polls, yields a RunRequest per event with
`run_key = event_id` and leaves the messages unacked (closing the connection returns them to the queue); a later
tick polls them again, finds the run with that key, and acks. Dagster ignores a run key it has already seen, so
the second yield is harmless. Malformed messages go to the dead-letter queue with their reason (EventConsumer).
"""

from collections.abc import Callable

import dagster as dg

from ingestion.erp.events import EventConsumer, partition_for
from orchestration.defs.erp import erp_file_drop
from orchestration.partitions import month_key
from orchestration.resources.erp import ErpResource

RUN_KEY_TAG = "dagster/run_key"


def events_to_run_requests(
    consumer: EventConsumer, run_exists: Callable[[str], bool], max_messages: int = 100
) -> tuple[list[dg.RunRequest], int]:
    """Run requests for the events not yet turned into runs; acks the ones whose run is stored. Returns (requests,
    acked)."""
    requests, acked = [], 0
    for tag, event in consumer.poll(max_messages):
        run_key = event.event_id or f"{event.event_type}:{event.entity}:{event.id}:{event.occurred_at.isoformat()}"
        if run_exists(run_key):
            consumer.ack(tag)
            acked += 1
        else:
            requests.append(
                dg.RunRequest(
                    run_key=run_key,
                    partition_key=month_key(partition_for(event)),
                    tags={"importau/erp_event": event.event_type, "importau/erp_entity": event.entity},
                )
            )
    return requests, acked


@dg.sensor(
    name="erp_events_sensor",
    target=dg.AssetSelection.assets(erp_file_drop),
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def erp_events_sensor(context: dg.SensorEvaluationContext, erp: ErpResource):
    """ERP change events (`purchase_order.updated`, `payable.settled`, ...) request the ERP partition they touch."""
    if not erp.setting("rabbitmq_url"):
        return dg.SkipReason("ERP_RABBITMQ_URL is not set")

    def run_exists(run_key: str) -> bool:
        return bool(context.instance.get_run_ids(dg.RunsFilter(tags={RUN_KEY_TAG: run_key}), limit=1))

    with EventConsumer(erp.setting("rabbitmq_url"), **erp.event_topology()) as consumer:
        requests, acked = events_to_run_requests(consumer, run_exists)
        dead = len(consumer.dead_lettered)
    if not requests:
        return dg.SkipReason(f"{acked} event(s) acknowledged, {dead} malformed sent to the dead-letter queue")
    return dg.SensorResult(run_requests=requests)


sensors = [erp_events_sensor]
