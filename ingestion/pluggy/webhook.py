"""Pluggy webhooks -> work to do: validate and parse a webhook body, and a tiny receiver that spools accepted
events to a folder the Dagster sensor reads (`orchestration/defs/pluggy.py`, `pluggy_webhook_sensor`).

Pluggy POSTs a JSON body per event to the URL registered for it (`POST /webhooks {url, event, headers}`); the
data events used here are `transactions/created`, `transactions/updated`, `transactions/deleted` and
`item/updated`, each naming its `itemId` (and an `eventId`; transactions events also an `accountId`). Pluggy
allows fixed `headers` on a webhook: set one to the value of `PLUGGY_WEBHOOK_SECRET` and the receiver refuses
deliveries without it (`X-Importau-Webhook-Secret`).

Which month a webhook touches: the São Paulo month of its reference instant (`transactionsCreatedAtFrom`, else
`createdAt`, else the time it was received), plus the month before when that instant is in the first
`LATE_DAYS` days of its month (a movement of the 30th often reaches Pluggy on the 2nd). At most two run requests
per webhook; the run key is `pluggy:<item>:<month>:<eventId or a hash of the body>`, so the same webhook delivered
twice is one run per month.
"""

import argparse
import hashlib
import hmac
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ingestion.common.partitioning import month_start
from ingestion.pluggy.parse import SAO_PAULO

log = logging.getLogger(__name__)

DATA_EVENTS = frozenset({"transactions/created", "transactions/updated", "transactions/deleted", "item/updated"})
LATE_DAYS = 7
MAX_BODY_BYTES = 64 * 1024
READ_TIMEOUT_S = 10.0  # per read of a request (headers, body)
SECRET_HEADER = "X-Importau-Webhook-Secret"


class WebhookError(ValueError):
    """The body is not a usable Pluggy data webhook: the message is the reason (the receiver answers 400)."""


@dataclass(frozen=True)
class WebhookEvent:
    event: str
    item_id: str
    event_id: str  # Pluggy's eventId, else a hash of the body (a redelivery carries the same body)
    account_id: str | None
    reference: datetime  # UTC

    def months(self) -> list[date]:
        """The partition months to re-pull (1 or 2), oldest first."""
        local = self.reference.astimezone(SAO_PAULO).date()
        month = month_start(local)
        if local.day <= LATE_DAYS:
            return [month_start(month - timedelta(days=1)), month]
        return [month]

    def run_key(self, month: date) -> str:
        return f"pluggy:{self.item_id}:{month.isoformat()[:7]}:{self.event_id}"


def _instant(value) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise WebhookError(f"{value!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise WebhookError(f"{value!r} has no time zone")
    return moment.astimezone(UTC)


def parse_webhook(body: bytes, received_at: datetime) -> WebhookEvent | None:
    """The event, None for an event that needs no pull (e.g. `item/login_succeeded`), or `WebhookError`."""
    if len(body) > MAX_BODY_BYTES:
        raise WebhookError(f"the body is {len(body)} bytes, over {MAX_BODY_BYTES}")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookError("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise WebhookError("the body is not a JSON object")
    event = payload.get("event")
    if not isinstance(event, str) or not event:
        raise WebhookError("`event` is missing")
    if event not in DATA_EVENTS:
        return None
    item_id = payload.get("itemId")
    if not isinstance(item_id, str) or not (8 <= len(item_id) <= 64) or not item_id.replace("-", "").isalnum():
        raise WebhookError(f"`itemId` is missing or not an id: {item_id!r}")
    event_id = payload.get("eventId")
    if not isinstance(event_id, str) or not event_id.strip():
        event_id = "sha256-" + hashlib.sha256(body).hexdigest()[:32]
    account = payload.get("accountId")
    reference = _instant(payload.get("transactionsCreatedAtFrom")) or _instant(payload.get("createdAt"))
    return WebhookEvent(
        event,
        item_id,
        event_id.strip()[:100],
        account if isinstance(account, str) and account else None,
        reference or received_at.astimezone(UTC),
    )


# ---- the spool: one JSON file per accepted event, named by its id (a redelivery rewrites the same file) --------


def _file_name(event: WebhookEvent) -> str:
    return hashlib.sha256(f"{event.item_id}\0{event.event_id}".encode()).hexdigest()[:40] + ".json"


def spool(folder: Path, event: WebhookEvent) -> Path:
    """Write the event atomically into `folder` (created 0700); the same event twice is the same file."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / _file_name(event)
    record = {
        "event": event.event,
        "item_id": event.item_id,
        "event_id": event.event_id,
        "account_id": event.account_id,
        "reference": event.reference.isoformat(),
    }
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".incoming-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(record, out, sort_keys=True)
    os.replace(temp, path)
    return path


def spooled(folder: Path, limit: int) -> Iterator[tuple[Path, WebhookEvent]]:
    """Up to `limit` spooled events, oldest file first."""
    if not folder.is_dir():
        return
    files = sorted((p for p in folder.glob("*.json")), key=lambda p: (p.stat().st_mtime, p.name))[:limit]
    for path in files:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            event = WebhookEvent(
                record["event"],
                record["item_id"],
                record["event_id"],
                record["account_id"],
                datetime.fromisoformat(record["reference"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as error:  # not written by `spool`: set aside, kept
            log.warning("spooled webhook %s is unreadable (%s): renamed to %s.bad", path, error, path.stem)
            path.replace(path.with_suffix(".bad"))
            continue
        yield path, event


# ---- the receiver -------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: "WebhookReceiver"

    def setup(self) -> None:
        # every read of a connection is bounded: a client that announces a body and stalls loses its connection
        self.timeout = self.server.read_timeout
        super().setup()

    def log_message(self, format, *args) -> None:  # noqa: A002 (BaseHTTPRequestHandler's signature)
        log.info("webhook receiver: " + format, *args)

    def _answer(self, status: HTTPStatus, message: str) -> None:
        body = json.dumps({"message": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        secret = self.server.secret
        if secret and not hmac.compare_digest(self.headers.get(SECRET_HEADER, "").encode(), secret.encode()):
            self._answer(HTTPStatus.UNAUTHORIZED, f"missing or wrong {SECRET_HEADER}")
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY_BYTES:
            self._answer(HTTPStatus.BAD_REQUEST, f"a body of 1..{MAX_BODY_BYTES} bytes is required")
            return
        body = self.rfile.read(length)
        try:
            event = parse_webhook(body, datetime.now(UTC))
        except WebhookError as error:
            log.warning("webhook refused: %s", error)
            self._answer(HTTPStatus.BAD_REQUEST, str(error))
            return
        if event is None:
            self._answer(HTTPStatus.OK, "ignored: not a data event")
            return
        spool(self.server.folder, event)
        self._answer(HTTPStatus.OK, "accepted")


class WebhookReceiver(ThreadingHTTPServer):
    """`with WebhookReceiver(folder, port=0) as receiver: receiver.url` (127.0.0.1 unless told otherwise)."""

    daemon_threads = True

    def __init__(
        self,
        folder: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        secret: str | None = None,
        read_timeout: float = READ_TIMEOUT_S,
    ):
        super().__init__((host, port), _Handler)
        self.folder, self.secret, self.read_timeout = Path(folder), secret or None, read_timeout

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def __enter__(self) -> "WebhookReceiver":
        import threading

        self._thread = threading.Thread(target=self.serve_forever, name="pluggy-webhooks", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ingestion.pluggy.webhook", description="Receive Pluggy webhooks into the spool folder."
    )
    parser.add_argument("--spool", type=Path, required=True, help="the folder PLUGGY_WEBHOOK_SPOOL_DIR names")
    parser.add_argument("--host", default="127.0.0.1", help="behind a TLS proxy; 127.0.0.1 by default")
    parser.add_argument("--port", type=int, default=8787)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    secret = os.environ.get("PLUGGY_WEBHOOK_SECRET")
    receiver = WebhookReceiver(args.spool, host=args.host, port=args.port, secret=secret)
    print(f"receiving Pluggy webhooks on {receiver.url} into {args.spool}", flush=True)
    try:
        receiver.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
