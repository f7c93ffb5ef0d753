"""The lake: one Parquet object per (source, entity, date), in a local folder or an S3 bucket.

The date `dt` is the object's unit of work: the month's first day for a source landed by month (BCB), the pull
day (Open Finance), the load day (ERP file drops). Dates without data have no object.
Layout under the root (a folder, or `s3://<bucket>/<prefix>`):
    <source>/<entity>/dt=YYYY-MM-DD/part-000.parquet              data; ClickHouse reads `dt` as a column
    _quarantine/<source>/<entity>/dt=YYYY-MM-DD/part-000.parquet  records kept out of it (see quarantine.py)
A re-run overwrites the object whole (temp file + rename locally; one PUT on S3), and the same rows give the
same bytes. S3 keys never appear in SQL text and never reach a disk through ClickHouse (`grant_clickhouse_access`):
with chDB the reader names them as query parameters (`LakeReader.parameters`, bound to each query in memory); a
ClickHouse server reads them from a named collection the operator defines (docs/clickhouse/importau_lake_s3.xml:
the keys come from the server's environment and stay out of its preprocessed config), or one the platform creates
only when the server encrypts named collections at rest.
Every S3 call has a bound (`S3Bounds`: connect and read timeouts, a capped number of retries, no unbounded
Retry-After): the minio SDK's own defaults wait 5 minutes per read and retry 5 times, so a hung endpoint held
a step for half an hour. A dead endpoint now fails within `S3Bounds.worst_case_seconds()` with a `LakeError`
naming the endpoint and what to check.
"""

import io
import os
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import certifi
import pyarrow as pa
import pyarrow.parquet as pq
import urllib3
from minio import Minio
from minio.error import MinioException, S3Error
from urllib3.exceptions import HTTPError

from ingestion.common import settings_registry
from ingestion.common.quarantine import QuarantineRecord, to_arrow
from ingestion.common.redact import redact_text

PART_FILE = "part-000.parquet"
QUARANTINE_DIR = "_quarantine"
DEFAULT_NAMED_COLLECTION = "importau_lake_s3"
# The query parameters that carry the S3 keys to chDB (never written into the SQL text)
ACCESS_KEY_PARAMETER = "importau_lake_s3_access_key_id"
SECRET_KEY_PARAMETER = "importau_lake_s3_secret_access_key"
# named_collections_storage.type values under which a server keeps SQL-created collections encrypted on disk
ENCRYPTED_COLLECTION_STORAGE = ("local_encrypted", "keeper_encrypted", "zookeeper_encrypted")
SERVER_CONFIG_EXAMPLE = "docs/clickhouse/importau_lake_s3.xml"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_PARTITION = re.compile(r"^dt=(\d{4}-\d{2}-\d{2})/" + re.escape(PART_FILE) + "$")
# The registry's defaults of S3_CONNECT_TIMEOUT_SECONDS, S3_READ_TIMEOUT_SECONDS and S3_MAX_RETRIES
S3_CONNECT_TIMEOUT_S = int(settings_registry.lookup("S3_CONNECT_TIMEOUT_SECONDS").default)
S3_READ_TIMEOUT_S = int(settings_registry.lookup("S3_READ_TIMEOUT_SECONDS").default)
S3_MAX_RETRIES = int(settings_registry.lookup("S3_MAX_RETRIES").default)
S3_BACKOFF_FACTOR_S = 0.5  # urllib3: no wait before the first retry, then 1 s, 2 s, ...
S3_BACKOFF_MAX_S = 5.0
S3_RETRY_STATUSES = (500, 502, 503, 504)


class LakeError(RuntimeError):
    """The lake could not be read or written; the message names where and why (never a secret)."""


class LakeReader(str):
    """The ClickHouse table-function text that reads one lake dataset, and the query parameters it needs.

    It is a `str` (the SQL text, never a key in it), so it goes wherever SQL text goes; pass `.parameters` with
    every query that uses it (`replace_partitions` does). With chDB they carry the S3 keys, which then live only
    in this process's memory.
    """

    parameters: dict[str, str]

    def __new__(cls, sql: str, parameters: dict[str, str] | None = None):
        reader = super().__new__(cls, sql)
        reader.parameters = dict(parameters or {})
        return reader

    def __repr__(self) -> str:
        return f"LakeReader({str(self)!r}, parameters={sorted(self.parameters)})"


class Lake(Protocol):
    def partition_path(self, source: str, entity: str, day: date) -> str: ...
    def uri(self, path: str) -> str: ...
    def write_partition(self, source: str, entity: str, day: date, table: pa.Table) -> str: ...
    def read_partition(self, source: str, entity: str, day: date) -> pa.Table: ...
    def exists(self, source: str, entity: str, day: date) -> bool: ...
    def remove_partition(self, source: str, entity: str, day: date) -> None: ...
    def list_partitions(self, source: str, entity: str) -> list[date]: ...
    def list_quarantine(self, source: str, entity: str) -> list[date]: ...
    def quarantine_path(self, source: str, entity: str, day: date) -> str: ...
    def read_object(self, path: str) -> bytes: ...
    def write_quarantine(
        self, source: str, entity: str, day: date, records: Iterable[QuarantineRecord]
    ) -> str | None: ...
    def clickhouse_reader(self, source: str, entity: str) -> LakeReader: ...
    def grant_clickhouse_access(self, client, embedded: bool) -> None: ...
    def check_access(self) -> None: ...


def sql_string(value: str) -> str:
    """A ClickHouse single-quoted string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def append_partition(
    store: Lake,
    source: str,
    entity: str,
    day: date,
    table: pa.Table,
    schema: pa.Schema,
    check_existing: Callable[[pa.Table], None] | None = None,
) -> None:
    """Add rows to the day's partition of a file drop's dataset (one object per partition, rewritten whole; the rows
    already there keep theirs), every part cast to `schema`. `check_existing` may refuse (raise on) the object
    already there before anything is written."""
    parts = [store.read_partition(source, entity, day)] if store.exists(source, entity, day) else []
    if parts and check_existing is not None:
        check_existing(parts[0])
    store.write_partition(source, entity, day, pa.concat_tables([*parts, table.cast(schema)]))


def append_quarantine(store: Lake, source: str, entity: str, day: date, records: list[QuarantineRecord]) -> None:
    """Add quarantine records to the day's quarantine object (the records already there are kept)."""
    try:
        previous = store.read_quarantine(source, entity, day).to_pylist()
    except Exception:  # no quarantine yet for that day
        previous = []
    merged = [QuarantineRecord(**{k: row[k] for k in QuarantineRecord.__dataclass_fields__}) for row in previous]
    store.write_quarantine(source, entity, day, [*merged, *records])


def parquet_bytes(table: pa.Table) -> bytes:
    """Parquet for the table; the same rows and schema give the same bytes (zero rows keep the schema)."""
    sink = io.BytesIO()
    pq.write_table(table.combine_chunks(), sink, compression="zstd")
    return sink.getvalue()


@dataclass(frozen=True)
class S3Bounds:
    """How long one S3 call may take: each attempt's connect and read timeouts, and how many retries follow.

    The read timeout bounds each wait for bytes (the answer to a request, or the next chunk of a body), not a
    whole transfer, so large objects are not cut off. A 429/503 `Retry-After` is not honoured (it can ask for
    hours); the retries back off S3_BACKOFF_FACTOR_S * 2^n instead, at most S3_BACKOFF_MAX_S.
    """

    connect_timeout: float = S3_CONNECT_TIMEOUT_S
    read_timeout: float = S3_READ_TIMEOUT_S
    max_retries: int = S3_MAX_RETRIES

    def __post_init__(self) -> None:
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise ValueError("S3 connect and read timeouts must be positive seconds")
        if self.max_retries < 0:
            raise ValueError(f"S3 max retries must not be negative, got {self.max_retries}")

    def __str__(self) -> str:
        attempts = self.max_retries + 1
        return (
            f"{attempts} attempt{'s' if attempts > 1 else ''}, connect timeout {self.connect_timeout:g} s, "
            f"read timeout {self.read_timeout:g} s"
        )

    def backoff_seconds(self) -> float:
        """The waits between the attempts of one call."""
        waits = (S3_BACKOFF_FACTOR_S * 2**retry if retry else 0.0 for retry in range(self.max_retries))
        return sum(min(S3_BACKOFF_MAX_S, wait) for wait in waits)

    def worst_case_seconds(self) -> float:
        """The longest one call can wait on an endpoint that accepts no connection or never answers."""
        return (self.max_retries + 1) * (self.connect_timeout + self.read_timeout) + self.backoff_seconds()

    def http_client(self) -> urllib3.PoolManager:
        """The minio SDK's own pool (certificates, pool size) with these bounds instead of its 5-minute ones."""
        return urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=self.connect_timeout, read=self.read_timeout),
            maxsize=10,
            cert_reqs="CERT_REQUIRED",
            ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),  # as the SDK does
            retries=urllib3.Retry(
                total=self.max_retries,
                backoff_factor=S3_BACKOFF_FACTOR_S,
                backoff_max=S3_BACKOFF_MAX_S,
                status_forcelist=S3_RETRY_STATUSES,
                respect_retry_after_header=False,
            ),
        )


def _entity_dir(source: str, entity: str) -> str:
    for name in (source, entity):
        if not _NAME.match(name):
            raise ValueError(f"lake names are lowercase letters, digits and '_': got {name!r}")
    return f"{source}/{entity}"


class _KeyedLake:
    """All but storage: subclasses add _put, _get, _exists, _delete, _list, uri and clickhouse_reader."""

    def partition_path(self, source: str, entity: str, day: date) -> str:
        return f"{_entity_dir(source, entity)}/dt={day.isoformat()}/{PART_FILE}"

    def quarantine_path(self, source: str, entity: str, day: date) -> str:
        return f"{QUARANTINE_DIR}/{self.partition_path(source, entity, day)}"

    def write_partition(self, source: str, entity: str, day: date, table: pa.Table) -> str:
        path = self.partition_path(source, entity, day)
        self._put(path, parquet_bytes(table))
        return self.uri(path)

    def read_partition(self, source: str, entity: str, day: date) -> pa.Table:
        return pq.read_table(io.BytesIO(self._get(self.partition_path(source, entity, day))))

    def exists(self, source: str, entity: str, day: date) -> bool:
        return self._exists(self.partition_path(source, entity, day))

    def remove_partition(self, source: str, entity: str, day: date) -> None:
        """Remove the object of that date if there is one (a re-run that now finds no rows leaves no stale file)."""
        self._delete(self.partition_path(source, entity, day))

    def list_partitions(self, source: str, entity: str) -> list[date]:
        return self._list_days(_entity_dir(source, entity) + "/")

    def list_quarantine(self, source: str, entity: str) -> list[date]:
        """The dates that have a quarantine object (`write_quarantine`)."""
        return self._list_days(f"{QUARANTINE_DIR}/{_entity_dir(source, entity)}/")

    def _list_days(self, base: str) -> list[date]:
        days = []
        for path in self._list(base):
            found = _PARTITION.match(path[len(base) :])
            if found:
                days.append(date.fromisoformat(found.group(1)))
        return sorted(days)

    def read_object(self, path: str) -> bytes:
        """The stored bytes of one object (`path` as `partition_path` or `quarantine_path` give it)."""
        return self._get(path)

    def write_quarantine(self, source: str, entity: str, day: date, records: Iterable[QuarantineRecord]) -> str | None:
        """Store the day's quarantined records; with none, remove a stale file from an earlier run."""
        path = self.quarantine_path(source, entity, day)
        table = to_arrow(records)
        if table.num_rows == 0:
            self._delete(path)
            return None
        self._put(path, parquet_bytes(table))
        return self.uri(path)

    def read_quarantine(self, source: str, entity: str, day: date) -> pa.Table:
        return pq.read_table(io.BytesIO(self._get(self.quarantine_path(source, entity, day))))

    def grant_clickhouse_access(self, client, embedded: bool) -> None:
        """Nothing to grant by default (chDB reads the local folder directly). `embedded`: `client` is the
        embedded chDB (`Warehouse.is_embedded`), not a ClickHouse server."""

    def check_access(self) -> None:
        """Nothing to check by default (a folder lake creates its folders as it writes)."""


class LocalLake(_KeyedLake):
    """A folder lake. ClickHouse reads it with `file(...)`: chDB reads any folder, a server only its own."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).expanduser().resolve()

    def __repr__(self) -> str:
        return f"LocalLake({str(self.root)!r})"

    def uri(self, path: str) -> str:
        return str(self.root / path)

    def clickhouse_reader(self, source: str, entity: str) -> LakeReader:
        pattern = f"{self.root}/{_entity_dir(source, entity)}/dt=*/{PART_FILE}"
        return LakeReader(f"file({sql_string(pattern)}, 'Parquet')")

    def grant_clickhouse_access(self, client, embedded: bool) -> None:
        """Nothing to grant to chDB; a ClickHouse server cannot read this folder, so say so now."""
        if not embedded:
            raise LakeError(
                f"the folder lake {self.root} is readable only by the embedded warehouse (chDB); with a "
                "ClickHouse server, use an S3 lake (LAKE_URL=s3://bucket/prefix and S3_ENDPOINT_URL)"
            )

    def _put(self, path: str, data: bytes) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        try:
            with open(temp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)

    def _get(self, path: str) -> bytes:
        try:
            return (self.root / path).read_bytes()
        except FileNotFoundError:
            raise LakeError(f"no lake object at {self.root / path}") from None

    def _exists(self, path: str) -> bool:
        return (self.root / path).is_file()

    def _delete(self, path: str) -> None:
        (self.root / path).unlink(missing_ok=True)

    def _list(self, prefix: str) -> list[str]:
        base = self.root / prefix
        if not base.is_dir():
            return []
        return [f"{prefix}{p.relative_to(base).as_posix()}" for p in base.rglob(PART_FILE) if p.is_file()]


class S3Lake(_KeyedLake):
    """A lake in an S3-compatible bucket (MinIO, SeaweedFS, AWS S3) through the minio SDK.

    `endpoint` is `host:port` (then `secure` picks https) or a full `http(s)://host:port` URL.
    ClickHouse reads it via `s3(url, {<access key parameter>}, {<secret key parameter>}, 'Parquet')` on chDB, or
    `s3(<named_collection>, url=..., format='Parquet')` once `grant_clickhouse_access` was given a server client.
    `bounds` limits every call (see `S3Bounds`); `check_access` is what a step calls before it does anything.
    """

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        prefix: str = "",
        secure: bool = False,
        region: str | None = None,
        named_collection: str = DEFAULT_NAMED_COLLECTION,
        bounds: S3Bounds | None = None,
    ):
        if "://" in endpoint:
            parts = urlsplit(endpoint)
            endpoint, secure = parts.netloc, parts.scheme == "https"
        self.endpoint, self.secure, self.bucket = endpoint, secure, bucket
        self.prefix = prefix.strip("/")
        self.named_collection = named_collection
        self.uses_named_collection = False  # set by grant_clickhouse_access: a server reads the keys from there
        self.bounds = bounds or S3Bounds()
        self._access_key, self._secret_key = access_key, secret_key
        self._client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=self.bounds.http_client(),
        )

    def __repr__(self) -> str:
        return f"S3Lake(endpoint={self.http_endpoint!r}, bucket={self.bucket!r}, prefix={self.prefix!r})"

    @property
    def http_endpoint(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.endpoint}"

    def _key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def uri(self, path: str) -> str:
        return f"s3://{self.bucket}/{self._key(path)}"

    def clickhouse_reader(self, source: str, entity: str) -> LakeReader:
        """The `s3(...)` text; on chDB the keys travel as its query parameters (in memory, never in the text)."""
        url = f"{self.http_endpoint}/{self.bucket}/{self._key(_entity_dir(source, entity))}/dt=*/{PART_FILE}"
        if self.uses_named_collection:
            return LakeReader(f"s3({self.named_collection}, url={sql_string(url)}, format='Parquet')")
        return LakeReader(
            f"s3({sql_string(url)}, {{{ACCESS_KEY_PARAMETER}:String}}, {{{SECRET_KEY_PARAMETER}:String}}, 'Parquet')",
            {ACCESS_KEY_PARAMETER: self._access_key, SECRET_KEY_PARAMETER: self._secret_key},
        )

    def _fail(self, action: str, error: Exception) -> LakeError:
        where = f"S3 endpoint {self.http_endpoint}, bucket {self.bucket!r}"
        if isinstance(error, S3Error):
            hint = {
                "SignatureDoesNotMatch": "the secret key is wrong",
                "InvalidAccessKeyId": "the access key is unknown",
                "AccessDenied": "the keys may not do this",
                "NoSuchBucket": "create the bucket first, or fix the bucket in LAKE_URL",
            }.get(error.code, "")
            detail = f"{error.code}" + (f": {hint}" if hint else "")
        elif isinstance(error, MinioException):  # an answer that is not S3's (e.g. a bare HTTP 5xx)
            detail = redact_text(f"{type(error).__name__}: {error}", [self._secret_key])
            detail += "; the server answered but not as S3 does: check that the endpoint is an S3 API"
        else:
            reason = getattr(error, "reason", None) or error  # urllib3 wraps the socket error
            detail = redact_text(f"{type(reason).__name__}: {reason}", [self._secret_key])
            detail += (
                f"; no usable answer within {self.bounds}: check that the S3 server is running and reachable "
                f"from this machine at {self.http_endpoint} (S3_ENDPOINT_URL); for a slow one raise "
                "S3_READ_TIMEOUT_SECONDS or S3_MAX_RETRIES"
            )
        return LakeError(f"cannot {action} at {where} ({detail})")

    def _call(self, action: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (MinioException, HTTPError, OSError, ValueError) as error:
            raise self._fail(action, error) from None

    def _put(self, path: str, data: bytes) -> None:
        key = self._key(path)
        self._call(
            f"write {key}",
            self._client.put_object,
            self.bucket,
            key,
            io.BytesIO(data),
            len(data),
            content_type="application/vnd.apache.parquet",
        )

    def _get(self, path: str) -> bytes:
        key = self._key(path)
        response = self._call(f"read {key}", self._client.get_object, self.bucket, key)
        try:
            return self._call(f"read {key}", response.read)  # the body may stall too
        finally:
            response.close()
            response.release_conn()

    def _exists(self, path: str) -> bool:
        key = self._key(path)
        try:
            self._client.stat_object(self.bucket, key)
            return True
        except S3Error as error:
            if error.code in ("NoSuchKey", "NoSuchObject"):
                return False
            raise self._fail(f"check {key}", error) from None
        except (MinioException, HTTPError, OSError, ValueError) as error:
            raise self._fail(f"check {key}", error) from None

    def _delete(self, path: str) -> None:
        self._call(f"delete {self._key(path)}", self._client.remove_object, self.bucket, self._key(path))

    def _list(self, prefix: str) -> list[str]:
        start = len(self._key(""))
        objects = self._call(
            f"list {self._key(prefix)}",
            lambda: list(self._client.list_objects(self.bucket, prefix=self._key(prefix), recursive=True)),
        )
        return [obj.object_name[start:] for obj in objects]

    def check_access(self) -> None:
        """Fail now, clearly, if the endpoint, keys or bucket are wrong (one bounded HEAD of the bucket)."""
        if not self._call("check the bucket", self._client.bucket_exists, self.bucket):
            raise LakeError(
                f"cannot use S3 endpoint {self.http_endpoint}, bucket {self.bucket!r} (NoSuchBucket: the bucket "
                "does not exist; create it, or fix the bucket in LAKE_URL)"
            )

    def grant_clickhouse_access(self, client, embedded: bool) -> None:
        """Let ClickHouse read the lake without the keys ever reaching a disk (nor the SQL text).

        chDB: the readers bind the keys as query parameters, in memory. A named collection of this lake's name that
        an earlier version created is dropped, which deletes `<warehouse>/named_collections/<name>.sql`, where chDB
        kept the keys in clear text (mode 0644).
        A ClickHouse server: the readers use the named collection. A collection the server already has (defined by
        its operator, see SERVER_CONFIG_EXAMPLE) is used as it is. Otherwise it is created (or updated with rotated
        keys) only if the server encrypts named collections at rest; else this fails, saying what to configure.
        """
        if embedded:
            self._drop_persisted_collection(client)
            self.uses_named_collection = False
            return
        self._use_server_collection(client)
        self.uses_named_collection = True

    def _collection_source(self, client) -> str | None:
        """'SQL' or 'CONFIG' for the collection of this lake's name, None when there is none."""
        rows = client.query(
            "SELECT source FROM system.named_collections WHERE name = {name:String}",
            parameters={"name": self.named_collection},
        ).result_rows
        return str(rows[0][0]) if rows else None

    def _drop_persisted_collection(self, client) -> None:
        if self._collection_source(client) != "SQL":
            return
        try:
            client.command(f"DROP NAMED COLLECTION IF EXISTS {self.named_collection}")
        except Exception as error:
            message = redact_text(str(error), [self._secret_key]).splitlines()[0]
            raise LakeError(
                f"chDB keeps the S3 keys of an earlier version in clear text in its named collection "
                f"{self.named_collection} and cannot drop it ({message}); delete "
                f"<warehouse>/named_collections/{self.named_collection}.sql while no process holds the warehouse"
            ) from None

    def _use_server_collection(self, client) -> None:
        name = self.named_collection
        try:
            storage = client.query(
                "SELECT value FROM system.server_settings WHERE name = 'named_collections_storage.type'"
            ).result_rows
        except Exception:  # an older server, or a user who may not read the server settings
            storage = []
        storage_type = str(storage[0][0]) if storage else "unknown"
        if storage_type not in ENCRYPTED_COLLECTION_STORAGE:
            if self._collection_source(client) is not None:
                return
            raise LakeError(
                f"the ClickHouse server has no named collection {name} for the S3 lake, and creating one by SQL "
                f"would store the keys in clear text on its disk (named_collections_storage.type = {storage_type}): "
                f"define {name} in the server config with the keys from the server's environment (example: "
                f"{SERVER_CONFIG_EXAMPLE}), or set named_collections_storage to local_encrypted or keeper_encrypted"
            )
        keys = f"access_key_id = {sql_string(self._access_key)}, secret_access_key = {sql_string(self._secret_key)}"
        for statement in (
            f"CREATE NAMED COLLECTION IF NOT EXISTS {name} AS {keys}",
            f"ALTER NAMED COLLECTION {name} SET {keys}",
        ):
            try:
                client.command(statement)
            except Exception as error:
                if self._collection_source(client) is not None:
                    return  # e.g. defined in the server config, or this user may use it but not manage it
                message = redact_text(str(error), [self._secret_key]).splitlines()[0]
                raise LakeError(
                    f"ClickHouse cannot create the named collection {name} for the S3 lake ({message}); "
                    "grant the user NAMED COLLECTION ADMIN, or define the collection in the server config "
                    f"(example: {SERVER_CONFIG_EXAMPLE})"
                ) from None
