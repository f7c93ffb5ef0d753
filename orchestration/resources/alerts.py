"""Where run-failure alerts go: a webhook URL (ALERT_WEBHOOK_URL) that takes a JSON POST, and the UI's address.

The URL often carries a token (a chat webhook's path, a `?token=` query), so it is never logged or shown in full:
`url_origin` (ingestion/common/redact.py) keeps the scheme and host only. The POST goes through the standard
library, not httpx, whose INFO line of every request names the full URL. Every POST is bounded (a timeout on the
connect and on each read) and retried a capped number of times on connection errors, timeouts, 429 and 5xx; any
other answer is final.
"""

import json
import logging
import time
import urllib.error
import urllib.request
from typing import ClassVar

import dagster as dg
from pydantic import Field

from ingestion.common.redact import url_origin
from orchestration.resources.settings import FromEnvironment

log = logging.getLogger(__name__)


class AlertDeliveryError(RuntimeError):
    """No attempt got a 2xx answer: the message names the host only, the attempts and the last answer."""


class AlertWebhookResource(FromEnvironment, dg.ConfigurableResource):
    """Run-failure alerts: where they are POSTed (empty `url`: none is sent) and the UI that run links point to.
    A field left None is read from its variable (`ENV`) when used: the URL may carry a token, it never enters config."""

    ENV: ClassVar[dict[str, str]] = {"url": "ALERT_WEBHOOK_URL", "webserver_url": "DAGSTER_WEBSERVER_URL"}

    url: str | None = Field(default=None, repr=False)
    webserver_url: str | None = None  # e.g. http://dagster.example.com:3000; empty: alerts carry no link
    timeout_seconds: float = 10.0  # of the connect, and of each read of the answer
    max_attempts: int = 3  # POSTs per alert at most (so at most 2 retries)
    retry_wait_seconds: float = 1.0  # doubled after each failed attempt

    @property
    def enabled(self) -> bool:
        return bool(self.setting("url").strip())

    def run_url(self, run_id: str) -> str | None:
        base = self.setting("webserver_url").strip().rstrip("/")
        return f"{base}/runs/{run_id}" if base else None

    def post(self, payload: dict) -> int:
        """POST `payload` as JSON; the number of attempts it took. Raises AlertDeliveryError after the last one."""
        target = url_origin(self.setting("url"))
        body = json.dumps(payload).encode()
        attempts = max(1, self.max_attempts)
        last = ""
        for attempt in range(1, attempts + 1):
            request = urllib.request.Request(
                self.setting("url").strip(), data=body, method="POST", headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                    response.read(65536)
                return attempt
            except urllib.error.HTTPError as error:  # an answer, not 2xx (its text names no URL)
                last = f"HTTP {error.code}"
                error.close()
                if error.code != 429 and error.code < 500:
                    raise AlertDeliveryError(
                        f"alert webhook {target} refused the alert: {last} (not retried)"
                    ) from None
            except (urllib.error.URLError, OSError) as error:  # refused, unreachable, timed out
                reason = getattr(error, "reason", error)
                last = type(reason).__name__ if not isinstance(reason, str) else "URLError"
            if attempt < attempts:
                wait = self.retry_wait_seconds * 2 ** (attempt - 1)
                log.warning(
                    "alert webhook %s: attempt %d of %d failed (%s), retrying in %.1f s",
                    target,
                    attempt,
                    attempts,
                    last,
                    wait,
                )
                time.sleep(wait)
        raise AlertDeliveryError(
            f"alert webhook {target}: no answer after {attempts} attempts (last: {last}); check that "
            "ALERT_WEBHOOK_URL is right and its host reachable from the daemon"
        )
