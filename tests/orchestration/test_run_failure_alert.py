"""The run-failure alert sensor against a local webhook receiver (a real HTTP server on 127.0.0.1), evaluated on a
real failed run: the BCB pull against the replay server answering HTTP 500."""

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from ingestion.common.redact import redact_text, url_origin
from orchestration.defs.alerts import run_failure_alert
from orchestration.defs.bcb import bcb_pull
from orchestration.resources.alerts import AlertDeliveryError, AlertWebhookResource
from orchestration.resources.bcb import BcbApiResource
from orchestration.resources.lake import LakeResource
from sandboxes.bcb_replay.server import ReplayServer

TOKEN = "T0KEN-s3cr3t"


@dataclass
class Receiver:
    url: str
    failures_left: int = 0  # answer 503 to that many POSTs first
    received: list[dict] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append({"path": self.path, "type": self.headers["Content-Type"], "json": json.loads(body)})
            status = 503 if state.failures_left > 0 else 200
            state.failures_left -= 1
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/hooks/{TOKEN}?token={TOKEN}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory):
    """A real failed run in a throwaway instance: the SGS pull of 2024-01 gets HTTP 500 with no retry left."""
    instance = dg.DagsterInstance.ephemeral()
    with ReplayServer() as replay:
        replay.inject("500", count=1, match="bcdata.sgs.1/")
        result = dg.materialize(
            [bcb_pull],
            selection=[dg.AssetKey(["lake", "bcb__sgs_observations"])],
            partition_key="2024-01-01",
            resources={
                "bcb": BcbApiResource(
                    sgs_base_url=replay.sgs_base_url,
                    olinda_base_url=replay.olinda_base_url,
                    closing_file_base_url=replay.closing_base_url,
                    max_attempts=1,
                ),
                "lake": LakeResource(url=str(tmp_path_factory.mktemp("lake"))),
            },
            instance=instance,
            raise_on_error=False,
        )
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    (failure,) = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    return instance, run, failure.dagster_event


def _evaluate(failed_run, alerts: AlertWebhookResource):
    instance, run, event = failed_run
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert",
        dagster_event=event,
        dagster_instance=instance,
        dagster_run=run,
        resources={"alerts": alerts},
    ).for_run_failure()
    with context:
        return run_failure_alert(context)


def test_a_failed_run_is_posted_with_its_step_error_and_link_after_a_retry(failed_run, receiver, caplog):
    receiver.failures_left = 1
    alerts = AlertWebhookResource(url=receiver.url, webserver_url="http://127.0.0.1:3000/", retry_wait_seconds=0.05)
    with caplog.at_level(logging.INFO):
        _evaluate(failed_run, alerts)
    _, run, _ = failed_run
    assert len(receiver.received) == 2  # the 503, then the delivered one
    delivered = receiver.received[-1]
    assert delivered["type"] == "application/json" and delivered["path"] == f"/hooks/{TOKEN}?token={TOKEN}"
    alert = delivered["json"]
    assert alert["job"] == run.job_name and alert["run_id"] == run.run_id and alert["partition"] == "2024-01-01"
    assert alert["run_url"] == f"http://127.0.0.1:3000/runs/{run.run_id}" and alert["attempt"] == 1
    (step,) = alert["failed_steps"]
    assert step["step"] == "bcb_pull"
    assert (
        "SourceHTTPError: bcb: SGS series 1 window 2024-01-01..2024-01-31 failed after 1 attempt: HTTP 500"
        in (step["error"])
    )
    assert alert["text"].startswith(f"Dagster run {run.run_id[:8]} of {run.job_name} (partition 2024-01-01) failed")
    assert alert["text"].endswith(alert["run_url"])
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == [
        f"alert webhook http://127.0.0.1:{delivered_port(receiver)}/…: attempt 1 of 3 failed (HTTP 503), "
        "retrying in 0.1 s"
    ]
    assert TOKEN not in caplog.text


def delivered_port(receiver: Receiver) -> int:
    return int(receiver.url.split(":")[2].split("/")[0])


def test_a_webhook_that_keeps_failing_fails_the_tick_after_capped_attempts_without_the_token(
    failed_run, receiver, caplog
):
    receiver.failures_left = 100
    alerts = AlertWebhookResource(url=receiver.url, max_attempts=3, retry_wait_seconds=0.01)
    with caplog.at_level(logging.INFO), pytest.raises(AlertDeliveryError) as raised:
        _evaluate(failed_run, alerts)
    assert len(receiver.received) == 3
    assert "no answer after 3 attempts (last: HTTP 503)" in str(raised.value)
    assert TOKEN not in str(raised.value) and TOKEN not in caplog.text


def test_without_a_webhook_nothing_is_sent(failed_run, receiver, capfd):
    assert _evaluate(failed_run, AlertWebhookResource(url="")) is None
    assert receiver.received == []
    assert "ALERT_WEBHOOK_URL is not set" in capfd.readouterr().err  # the sensor's log (the tick's, in the UI)


def test_a_dead_webhook_is_bounded(failed_run):
    """Nothing listens: connection refused three times, then the error names the host only."""
    alerts = AlertWebhookResource(url=f"http://127.0.0.1:9/{TOKEN}", retry_wait_seconds=0.01, timeout_seconds=1)
    with pytest.raises(AlertDeliveryError, match=r"alert webhook http://127.0.0.1:9/…: no answer after 3 attempts"):
        _evaluate(failed_run, alerts)


def test_secrets_are_masked():
    assert url_origin(f"https://user:pw@hooks.example.com:8443/services/{TOKEN}?token=x") == (
        "https://hooks.example.com:8443/…"
    )
    assert redact_text("cannot reach https://u:p@ch.example.com:8443/?password=abc&db=raw") == (
        "cannot reach https://u:***@ch.example.com:8443/?password=***&db=raw"
    )


def test_the_sensor_is_in_the_code_location_with_its_resource(definitions):
    assert "run_failure_alert" in {sensor.name for sensor in definitions.sensors}
    assert isinstance(definitions.resources["alerts"], AlertWebhookResource)
