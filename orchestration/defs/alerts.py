"""A failed run becomes a JSON alert POSTed to ALERT_WEBHOOK_URL (`run_failure_alert`).

The alert names the job, the run, its partition, the failed steps with the first lines of each error, and links to
the run in the UI when DAGSTER_WEBSERVER_URL is set. Secrets in error texts (URL credentials, `token=` values) are
masked, and the webhook URL itself is never logged. The sensor runs by itself everywhere except `APP_ENV=ci`
(like the automation sensors); without ALERT_WEBHOOK_URL it only logs that nothing was sent. A webhook that does
not answer after the capped retries fails the sensor's tick with the reason (visible in the UI).
"""

import dagster as dg

from ingestion.common.redact import redact_text
from orchestration.defs.automation import default_sensor_status
from orchestration.resources.alerts import AlertWebhookResource

ERROR_LINES = 5  # of each error message
ERROR_CHARS = 1500


def error_head(message: str | None) -> str:
    """The first lines of an error message (what a person reads in a chat), secrets masked."""
    lines = [line.rstrip() for line in (message or "").strip().splitlines()]
    head = "\n".join(lines[:ERROR_LINES]) + ("\n…" if len(lines) > ERROR_LINES else "")
    return redact_text(head[:ERROR_CHARS])


def _error_message(event: dg.DagsterEvent) -> str:
    """The error a person needs: the step's own exception, not the Dagster wrapper around it."""
    error = getattr(event.event_specific_data, "error", None)
    if error is None:
        return event.message or ""
    while error.cause is not None and (error.cls_name or "").startswith("Dagster"):
        error = error.cause
    return error.message


def failure_alert(context: dg.RunFailureSensorContext, alerts: AlertWebhookResource) -> dict:
    """The alert's JSON: who failed, where, why, and the link; `text` is a one-paragraph summary for chat tools."""
    run = context.dagster_run
    steps = [
        {"step": event.step_key, "error": error_head(_error_message(event))}
        for event in context.get_step_failure_events()
    ]
    run_error = error_head(_error_message(context.failure_event))
    partition = run.tags.get("dagster/partition") or (
        f"{run.tags['dagster/asset_partition_range_start']}..{run.tags['dagster/asset_partition_range_end']}"
        if "dagster/asset_partition_range_start" in run.tags
        else None
    )
    link = alerts.run_url(run.run_id)
    where = f" (partition {partition})" if partition else ""
    failed = ", ".join(step["step"] for step in steps) or "the run itself"
    first_error = (steps[0]["error"] if steps else run_error).splitlines()[0] if (steps or run_error) else ""
    text = f"Dagster run {run.run_id[:8]} of {run.job_name}{where} failed in {failed}: {first_error}"
    return {
        "text": text + (f" {link}" if link else ""),
        "status": "FAILURE",
        "job": run.job_name,
        "run_id": run.run_id,
        "partition": partition,
        "attempt": int(run.tags.get("dagster/retry_number", "0")) + 1,  # > 1: an automatic run retry
        "failed_steps": steps,
        "error": run_error,
        "run_url": link,
    }


@dg.run_failure_sensor(
    name="run_failure_alert",
    description="POST a JSON alert to ALERT_WEBHOOK_URL for every failed run (job, run, failed steps, error, link).",
    default_status=default_sensor_status(),
)
def run_failure_alert(context: dg.RunFailureSensorContext, alerts: AlertWebhookResource) -> None:
    run_id = context.dagster_run.run_id
    if not alerts.enabled:
        context.log.info(f"run {run_id} of {context.dagster_run.job_name} failed; ALERT_WEBHOOK_URL is not set")
        return
    payload = failure_alert(context, alerts)
    attempts = alerts.post(payload)  # AlertDeliveryError fails this tick, with the reason, after capped retries
    context.log.info(
        f"alert sent for run {run_id} of {payload['job']} ({len(payload['failed_steps'])} failed steps, "
        f"{attempts} attempt{'s' if attempts > 1 else ''})"
    )


sensors = [run_failure_alert]
