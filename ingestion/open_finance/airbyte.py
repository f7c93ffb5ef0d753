"""Airbyte-managed mode: trigger the company's Open Finance connection in Airbyte, wait for it, read what it wrote.

When the bank connectors run in Airbyte instead of this package's own client, an asset (1) triggers the configured
connection with the `airbyte-api` SDK (`POST /jobs` with `{"connectionId", "jobType": "sync"}`), (2) polls
`GET /jobs/{jobId}` until the job is `succeeded`, `failed`, `cancelled` or `incomplete`, within a timeout, and
(3) reads the records the connection's destination wrote under `<lake>/airbyte/open_finance/<stream>/` (see
`read_airbyte_output`) and turns them into the usual Open Finance tables (`entity_table`). Plain Python, no Dagster.

How an asset would call it (the Dagster side lives in `orchestration/`)::

    from ingestion.open_finance.airbyte import AirbyteSync, entity_table, read_airbyte_output

    sync = AirbyteSync.from_env(os.environ)          # AIRBYTE_* variables, read at call time
    result = sync.run_sync()                         # raises AirbyteJobFailed / AirbyteTimeout / AirbyteAuthError
    context.add_output_metadata(result.metadata())   # ids, status, rows, elapsed: never a secret
    raw = read_airbyte_output(lake, "transactions")  # the Airbyte rows of the stream mapped to `transactions`
    parsed = entity_table("transactions", "banco_a", raw)
    lake.write_partition("open_finance", "transactions", day, parsed.table)
    lake.write_quarantine("open_finance", "transactions", day, parsed.quarantine)

Authentication, in this order: `bearer_token` (an application access token), or `client_id` + `client_secret` (the
SDK fetches a token from `POST <server>/applications/token` with the client_credentials grant, caches it until
60 s before `expires_in`, and drops it after a 401; this module then asks once more), or `username` + `password`
(HTTP basic, self-managed Airbyte). No secret or token is ever put in a message, a repr or the result.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.common.quarantine import QuarantineRecord
from ingestion.common.redact import redact_text, redact_url
from ingestion.open_finance import entities, schemas
from ingestion.open_finance.parse import SOURCE

DEFAULT_SERVER_URL = "https://api.airbyte.com/v1"
TERMINAL_STATUSES = ("succeeded", "failed", "cancelled", "incomplete")
RUNNING_STATUSES = ("pending", "queued", "running")

# Lake convention: the connection's destination (S3 / local files, Parquet or JSONL) writes each stream under
# <lake>/airbyte/open_finance/<stream>/ (S3 destination: bucket path "<lake prefix>/airbyte/open_finance",
# path format "${STREAM_NAME}/"; any file names below it).
AIRBYTE_PREFIX = ("airbyte", "open_finance")

# Our entity -> the Airbyte stream that carries it. Records are the official Open Finance records (the items of
# `data`); child streams carry their parent's id in the record (an Airbyte substream adds it: `accountId`,
# `creditCardAccountId`, `operationId`), and `fx_operations` records are list item and detail merged.
DEFAULT_STREAMS: dict[str, str] = {
    "accounts": "accounts",
    "balances": "account_balances",
    "transactions": "account_transactions",
    "credit_card_accounts": "credit_card_accounts",
    "credit_card_bills": "credit_card_bills",
    "credit_card_transactions": "credit_card_transactions",
    "fx_operations": "exchanges_operations",
    "fx_operation_events": "exchanges_operation_events",
}
PARENT_FIELDS: dict[str, str] = {
    "balances": "accountId",
    "transactions": "accountId",
    "credit_card_bills": "creditCardAccountId",
    "credit_card_transactions": "creditCardAccountId",
    "fx_operation_events": "operationId",
}


class AirbyteError(RuntimeError):
    """Anything that stops the Airbyte-managed pull; the message says what and where, never a secret."""


class AirbyteAuthError(AirbyteError):
    """The Airbyte API refused the credentials (token endpoint or a 401/403)."""


class AirbyteApiError(AirbyteError):
    """An Airbyte API call failed (HTTP error after retries, unreachable server, unexpected answer)."""


class AirbyteJobFailed(AirbyteError):
    """The sync job ended in `failed`, `cancelled` or `incomplete`."""

    def __init__(self, message: str, result: JobResult):
        super().__init__(message)
        self.result = result


class AirbyteTimeout(AirbyteError):
    """The sync job did not finish within the timeout (it is cancelled unless `cancel_on_timeout=False`)."""

    def __init__(self, message: str, result: JobResult):
        super().__init__(message)
        self.result = result


class AirbyteOutputMissing(AirbyteError):
    """No file of the stream was found where the connection should have written it."""


@dataclass(frozen=True)
class JobResult:
    connection_id: str
    job_id: int
    status: str
    job_type: str = "sync"
    start_time: str | None = None
    duration: str | None = None
    rows_synced: int | None = None
    bytes_synced: int | None = None
    elapsed_seconds: float = 0.0
    polls: int = 0

    def metadata(self) -> dict[str, Any]:
        """Values safe for asset metadata (ids, status, counts; no credential)."""
        values = {
            "airbyte_connection_id": self.connection_id,
            "airbyte_job_id": self.job_id,
            "airbyte_job_status": self.status,
            "airbyte_elapsed_seconds": round(self.elapsed_seconds, 1),
            "airbyte_rows_synced": self.rows_synced,
            "airbyte_bytes_synced": self.bytes_synced,
            "airbyte_duration": self.duration,
        }
        return {key: value for key, value in values.items() if value is not None}


def _value(enum_or_text: Any) -> str:
    return str(getattr(enum_or_text, "value", enum_or_text))


class AirbyteSync:
    """Trigger one Airbyte connection and wait for its sync job.

    `timeout` bounds the wait for the job (seconds, from the trigger); `poll_interval` is the pause between two
    `GET /jobs/{jobId}`; `request_timeout` bounds each HTTP call; 429/5xx and connection errors of a single call are
    retried by the SDK with exponential backoff from `retry_initial` for up to `retry_max_elapsed` seconds.
    """

    def __init__(
        self,
        server_url: str,
        connection_id: str,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        bearer_token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        token_url: str | None = None,
        timeout: float = 3600.0,
        poll_interval: float = 15.0,
        request_timeout: float = 30.0,
        retry_max_elapsed: float = 60.0,
        retry_initial: float = 0.5,
        cancel_on_timeout: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not connection_id:
            raise ValueError("AirbyteSync needs a connection_id (AIRBYTE_OPEN_FINANCE_CONNECTION_ID)")
        if timeout <= 0 or poll_interval < 0:
            raise ValueError("timeout must be > 0 and poll_interval >= 0")
        self.server_url = (server_url or DEFAULT_SERVER_URL).rstrip("/")
        self.connection_id = connection_id
        self.timeout = float(timeout)
        self.poll_interval = float(poll_interval)
        self.request_timeout = float(request_timeout)
        self.retry_max_elapsed = float(retry_max_elapsed)
        self.retry_initial = float(retry_initial)
        self.cancel_on_timeout = cancel_on_timeout
        self._clock = clock
        self._sleep = sleep
        # Absolute token URL: the SDK's default "/applications/token" is joined to the host and would drop "/v1".
        self.token_url = token_url or f"{self.server_url}/applications/token"
        self._secrets = [s for s in (client_secret, bearer_token, password) if s]
        if bearer_token:
            self.auth_mode = "bearer token"
            self._security = {"bearer_auth": bearer_token}
        elif client_id and client_secret:
            self.auth_mode = f"client credentials (client id {client_id})"
            self._security = {
                "client_credentials": {
                    "client_id": client_id,
                    "client_secret": client_secret,
                    "token_url": self.token_url,
                }
            }
        elif username and password:
            self.auth_mode = f"basic auth (user {username})"
            self._security = {"basic_auth": {"username": username, "password": password}}
        else:
            raise ValueError(
                "AirbyteSync needs credentials: AIRBYTE_API_TOKEN, or AIRBYTE_CLIENT_ID and AIRBYTE_CLIENT_SECRET, "
                "or AIRBYTE_USERNAME and AIRBYTE_PASSWORD"
            )
        self._sdk = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str], connection_id: str | None = None, **overrides: Any) -> AirbyteSync:
        """Settings from `AIRBYTE_*` variables (see the README's "Airbyte mode"); keyword overrides win."""

        def number(name: str, default: float) -> float:
            text = environ.get(name, "").strip()
            try:
                return float(text) if text else default
            except ValueError:
                raise ValueError(f"{name} must be a number of seconds, got {text!r}") from None

        settings: dict[str, Any] = {
            "server_url": environ.get("AIRBYTE_SERVER_URL") or DEFAULT_SERVER_URL,
            "connection_id": connection_id or environ.get("AIRBYTE_OPEN_FINANCE_CONNECTION_ID", ""),
            "client_id": environ.get("AIRBYTE_CLIENT_ID") or None,
            "client_secret": environ.get("AIRBYTE_CLIENT_SECRET") or None,
            "bearer_token": environ.get("AIRBYTE_API_TOKEN") or None,
            "username": environ.get("AIRBYTE_USERNAME") or None,
            "password": environ.get("AIRBYTE_PASSWORD") or None,
            "token_url": environ.get("AIRBYTE_TOKEN_URL") or None,
            "timeout": number("AIRBYTE_SYNC_TIMEOUT_SECONDS", 3600.0),
            "poll_interval": number("AIRBYTE_POLL_INTERVAL_SECONDS", 15.0),
        }
        settings.update(overrides)
        return cls(**settings)

    def __repr__(self) -> str:
        return (
            f"AirbyteSync(server_url={redact_url(self.server_url)!r}, connection_id={self.connection_id!r}, "
            f"auth={self.auth_mode})"
        )

    # -- SDK plumbing ---------------------------------------------------------------------------------------------

    @property
    def sdk(self):
        if self._sdk is None:
            import airbyte_api
            from airbyte_api import models
            from airbyte_api.utils import BackoffStrategy, RetryConfig

            max_elapsed_ms = int(self.retry_max_elapsed * 1000)
            initial_ms = max(1, min(int(self.retry_initial * 1000), max_elapsed_ms))
            self._sdk = airbyte_api.AirbyteAPI(
                security=models.Security(**self._security),
                server_url=self.server_url,
                client=httpx.Client(follow_redirects=True, timeout=self.request_timeout),
                retry_config=RetryConfig(
                    "backoff",
                    BackoffStrategy(
                        initial_interval=initial_ms,
                        max_interval=max(initial_ms, min(10_000, max_elapsed_ms)),
                        exponent=2.0,
                        max_elapsed_time=max_elapsed_ms,
                        jitter_ms=initial_ms // 2,
                    ),
                    retry_connection_errors=True,
                ),
                timeout_ms=int(self.request_timeout * 1000),
            )
        return self._sdk

    def _redact(self, text: str) -> str:
        return redact_text(text, self._secrets)

    def _where(self, job_id: int | None = None) -> str:
        where = f"Airbyte {redact_url(self.server_url)}, connection {self.connection_id}"
        return f"{where}, job {job_id}" if job_id is not None else where

    def _call(self, what: str, call: Callable[[], Any], job_id: int | None = None) -> Any:
        """One SDK call; a 401 after a client-credentials token is retried once with a fresh token."""
        from airbyte_api import errors

        for attempt in (1, 2):
            try:
                return call()
            except errors.AirbyteAPIError as error:
                status = error.status_code
                body = self._redact((error.body or "").strip().replace("\n", " "))[:300]
                if status == 401 and attempt == 1 and "client_credentials" in self._security:
                    continue  # the SDK dropped its cached token on the 401; ask for a new one once
                if status in (401, 403):
                    raise AirbyteAuthError(
                        f"{self._where(job_id)}: {what} refused with HTTP {status} using {self.auth_mode}; "
                        f"check the Airbyte credentials and that they may use this connection. Answer: {body}"
                    ) from None
                hint = ""
                if status == 404:
                    hint = " (unknown connection or job id, or a server URL without the API path, e.g. /v1)"
                elif status == 409:
                    hint = " (a job is already running for this connection: wait for it or cancel it in Airbyte)"
                raise AirbyteApiError(
                    f"{self._where(job_id)}: {what} failed with HTTP {status}{hint}. Answer: {body}"
                ) from None
            except httpx.HTTPError as error:
                raise AirbyteApiError(
                    f"{self._where(job_id)}: {what} could not reach the server ({type(error).__name__}: "
                    f"{self._redact(str(error))[:200]})"
                ) from None
            except Exception as error:  # the SDK's token hook raises a bare Exception
                text = self._redact(str(error))
                if "token endpoint" in text:
                    raise AirbyteAuthError(
                        f"{self._where(job_id)}: the token endpoint {redact_url(self.token_url)} refused "
                        f"{self.auth_mode} ({text}); check AIRBYTE_CLIENT_ID / AIRBYTE_CLIENT_SECRET"
                    ) from None
                raise AirbyteApiError(
                    f"{self._where(job_id)}: {what} failed: {type(error).__name__}: {text[:300]}"
                ) from None
        raise AssertionError("unreachable")

    # -- operations -----------------------------------------------------------------------------------------------

    def trigger(self):
        """`POST /jobs` {connectionId, jobType: sync}; returns the SDK's `JobResponse`."""
        from airbyte_api import models

        request = models.JobCreateRequest(connection_id=self.connection_id, job_type=models.JobTypeEnum.SYNC)
        response = self._call("starting a sync job", lambda: self.sdk.jobs.create_job(request=request))
        if response.job_response is None:
            raise AirbyteApiError(f"{self._where()}: starting a sync job returned no job (HTTP {response.status_code})")
        return response.job_response

    def get_job(self, job_id: int):
        """`GET /jobs/{jobId}`; returns the SDK's `JobResponse`."""
        from airbyte_api import api

        response = self._call(
            "reading the job", lambda: self.sdk.jobs.get_job(request=api.GetJobRequest(job_id=job_id)), job_id
        )
        if response.job_response is None:
            raise AirbyteApiError(
                f"{self._where(job_id)}: reading the job returned no job (HTTP {response.status_code})"
            )
        return response.job_response

    def cancel(self, job_id: int):
        """`DELETE /jobs/{jobId}`; returns the SDK's `JobResponse` (or None)."""
        from airbyte_api import api

        response = self._call(
            "cancelling the job", lambda: self.sdk.jobs.cancel_job(request=api.CancelJobRequest(job_id=job_id)), job_id
        )
        return response.job_response

    def _result(self, job, started: float, polls: int) -> JobResult:
        return JobResult(
            connection_id=self.connection_id,
            job_id=int(job.job_id),
            status=_value(job.status),
            job_type=_value(job.job_type),
            start_time=job.start_time,
            duration=job.duration,
            rows_synced=job.rows_synced,
            bytes_synced=job.bytes_synced,
            elapsed_seconds=self._clock() - started,
            polls=polls,
        )

    def wait(self, job_id: int, started: float | None = None, job=None) -> JobResult:
        """Poll the job until it ends; `JobResult` when it succeeded, else `AirbyteJobFailed` / `AirbyteTimeout`."""
        started = self._clock() if started is None else started
        polls = 0
        while True:
            if job is not None and _value(job.status) in TERMINAL_STATUSES:
                result = self._result(job, started, polls)
                if result.status == "succeeded":
                    return result
                raise AirbyteJobFailed(
                    f"{self._where(job_id)}: the sync job ended with status {result.status!r} after "
                    f"{result.elapsed_seconds:.1f} s; see the job's logs in Airbyte (nothing was loaded)",
                    result,
                )
            elapsed = self._clock() - started
            if elapsed >= self.timeout:
                break
            if job is not None:
                self._sleep(min(self.poll_interval, self.timeout - elapsed))  # the last poll falls on the deadline
            job = self.get_job(job_id)
            polls += 1
        result = (
            self._result(job, started, polls)
            if job is not None
            else JobResult(self.connection_id, job_id, "unknown", elapsed_seconds=self._clock() - started, polls=polls)
        )
        action = "left running"
        if self.cancel_on_timeout:
            try:
                self.cancel(job_id)
                action = "cancelled"
            except AirbyteError as error:
                action = f"not cancelled ({error})"
        raise AirbyteTimeout(
            f"{self._where(job_id)}: the sync job was still {result.status!r} after {result.elapsed_seconds:.1f} s "
            f"(timeout {self.timeout:g} s); the job was {action}",
            result,
        )

    def run_sync(self) -> JobResult:
        """Trigger a sync of the connection and wait for it (see `wait`)."""
        started = self._clock()
        job = self.trigger()
        return self.wait(int(job.job_id), started=started, job=job)


# -- what the connection wrote ----------------------------------------------------------------------------------


def airbyte_stream_dir(lake_root_or_lake: Any, stream: str) -> Path:
    """`<lake root>/airbyte/open_finance/<stream>` of a folder lake (a path or a `LocalLake`)."""
    root = lake_root_or_lake
    if not isinstance(root, (str, Path)):
        root = getattr(root, "root", root)  # a LocalLake
    if not isinstance(root, (str, Path)) or str(root).startswith("s3://"):
        raise NotImplementedError(
            f"read_airbyte_output reads a folder lake; {lake_root_or_lake!r} is not one (an S3 lake: read "
            f"s3://<bucket>/<prefix>/{'/'.join(AIRBYTE_PREFIX)}/{stream}/ with the lake's S3 client)"
        )
    return Path(root).expanduser().resolve().joinpath(*AIRBYTE_PREFIX, stream)


def _jsonl_rows(path: Path) -> list[dict]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _record(row: Mapping) -> dict:
    """The connector's record of one landed row: `_airbyte_data` when present, else the row without `_airbyte_*`."""
    data = row.get("_airbyte_data")
    if isinstance(data, str):
        data = json.loads(data)
    if isinstance(data, Mapping):
        return dict(data)
    return {key: value for key, value in row.items() if not key.startswith("_airbyte_")}


def read_airbyte_output(lake_root_or_lake: Any, stream: str, streams: Mapping[str, str] = DEFAULT_STREAMS) -> pa.Table:
    """Every row the connection wrote for a stream, as one table.

    `stream` is one of our entity names (mapped through `streams`, default `DEFAULT_STREAMS`) or an Airbyte
    stream name. Files under `<lake>/airbyte/open_finance/<stream>/` (any depth): `*.parquet`, `*.jsonl`,
    `*.jsonl.gz`, read in path order. Parquet columns are kept as written; JSONL rows keep their `_airbyte_*`
    fields and, when the record sits in `_airbyte_data`, its fields at top level. Raises `AirbyteOutputMissing`
    when the folder holds no such file.
    """
    name = streams.get(stream, stream)
    folder = airbyte_stream_dir(lake_root_or_lake, name)
    files = (
        sorted(p for p in folder.rglob("*") if p.is_file() and p.name.endswith((".parquet", ".jsonl", ".jsonl.gz")))
        if folder.is_dir()
        else []
    )
    if not files:
        raise AirbyteOutputMissing(
            f"no Parquet or JSONL file of Airbyte stream {name!r} under {folder}; did the sync write to "
            f"<lake>/{'/'.join(AIRBYTE_PREFIX)}/<stream>/ (destination path and stream names, README 'Airbyte mode')?"
        )
    parquet = [p for p in files if p.suffix == ".parquet"]
    jsonl = [p for p in files if p.suffix != ".parquet"]
    tables = [pq.read_table(p) for p in parquet]
    if jsonl:
        rows = []
        for path in jsonl:
            for row in _jsonl_rows(path):
                meta = {
                    key: value for key, value in row.items() if key.startswith("_airbyte_") and key != "_airbyte_data"
                }
                rows.append({**meta, **_record(row)})
        tables.append(pa.Table.from_pylist(rows))
    return pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]


@dataclass
class EntityTable:
    table: pa.Table
    quarantine: list[QuarantineRecord] = field(default_factory=list)


def entity_table(entity: str, institution: str, landed: pa.Table) -> EntityTable:
    """Landed Airbyte rows of an entity → the entity's lake table (`schemas.SCHEMAS[entity]`) and quarantine.

    Uses the same field mapping and checks as the direct client (`entities.py`); `_airbyte_*` columns are dropped
    and `raw_json` is the connector's record. Child records lacking their parent id (`PARENT_FIELDS`) are
    quarantined. Rows repeated by several syncs collapse to the last one per key.
    """
    if entity not in schemas.SCHEMAS:
        raise ValueError(f"unknown Open Finance entity {entity!r}; one of {sorted(schemas.SCHEMAS)}")
    records = [_record(row) for row in landed.to_pylist()]
    parent_field = PARENT_FIELDS.get(entity)
    rows: list[dict] = []
    quarantine: list[QuarantineRecord] = []
    for index, record in enumerate(records):
        if parent_field is not None:
            parent = record.get(parent_field)
            if not parent:
                quarantine.append(
                    QuarantineRecord(
                        SOURCE,
                        entity,
                        f"institution={institution} airbyte record #{index}",
                        f"missing {parent_field} (the Airbyte stream must add its parent's id)",
                        json.dumps(record, ensure_ascii=False, sort_keys=True, default=str),
                    )
                )
                continue
        parsed = _parse_one(entity, institution, record, parent_field)
        rows.extend(parsed.rows)
        quarantine.extend(parsed.quarantine)
    latest = {tuple(str(row.get(column)) for column in schemas.KEYS[entity]): row for row in rows}
    return EntityTable(schemas.to_table(entity, latest.values()), quarantine)


def _parse_one(entity: str, institution: str, record: dict, parent_field: str | None):
    parent = str(record[parent_field]) if parent_field else None
    if entity == "accounts":
        return entities.accounts(institution, [record])
    if entity == "balances":
        return entities.balances(institution, parent, record)
    if entity == "transactions":
        return entities.transactions(institution, parent, [record])
    if entity == "credit_card_accounts":
        return entities.credit_card_accounts(institution, [record])
    if entity == "credit_card_bills":
        return entities.credit_card_bills(institution, parent, [record])
    if entity == "credit_card_transactions":
        return entities.credit_card_transactions(institution, parent, [record])
    if entity == "fx_operations":
        return entities.fx_operation(institution, record, record)
    return entities.fx_operation_events(institution, parent, [record])
