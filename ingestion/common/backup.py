"""Backups of the warehouse to S3 with ClickHouse's own `BACKUP ... TO S3` and `RESTORE ... FROM S3`.

`backup` writes the five databases (raw, staging, intermediate, marts, ml: tables, views and their data) to
`<CLICKHOUSE_BACKUP_URL>/<name>/`, then the checksum of every table (row count and the sum of
`cityHash64(toString(tuple(*)))`: cityHash64 over the columns themselves is NULL as soon as one is NULL) to
`<CLICKHOUSE_BACKUP_URL>/<name>.checksums.jsonl`. `restore` refuses a warehouse that already has tables, restores
the backup into it, recomputes every checksum and reports any table that differs or is missing.

The S3 keys never reach SQL text or a disk. On the embedded chDB they are query parameters, bound in memory
(measured on chDB 26.9: `BACKUP ... TO S3({url:String}, {key:String}, {secret:String})` works and nothing under
the warehouse folder holds the key afterwards). On a server no key is sent at all: `S3('<url>')` without keys
makes the server use the credentials of the matching endpoint in its own config (docs/clickhouse/
importau_backup_s3.xml, keys from the server's environment). In cluster mode the statements run `ON CLUSTER`,
so each shard's data is backed up (and restored) once. Every S3 call is bounded like the lake's reads.
"""

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from ingestion.common.raw_load import S3_BOUNDS
from ingestion.common.table_layout import TableLayout

DATABASES = ("raw", "staging", "intermediate", "marts", "ml")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# Tables whose rows are not the warehouse's own: views (no data), Distributed (the shards' data, backed up
# through their local tables), and the raw loader's side tables (a load in progress).
_SKIPPED_ENGINES = ("View", "MaterializedView", "LiveView", "Distributed", "Memory")


class BackupError(RuntimeError):
    """A backup or restore that cannot run or did not give back the same tables; the message says why."""


@dataclass(frozen=True)
class BackupLocation:
    """`<endpoint>/<bucket>/<prefix>/<name>/` (the BACKUP directory) and its checksums object beside it."""

    endpoint: str
    bucket: str
    prefix: str
    name: str

    @property
    def url(self) -> str:
        return f"{self.endpoint}/{self.bucket}/{self.prefix + '/' if self.prefix else ''}{self.name}/"

    @property
    def checksums_url(self) -> str:
        return self.url.rstrip("/") + ".checksums.jsonl"

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix + '/' if self.prefix else ''}{self.name}/ at {self.endpoint}"


def backup_location(backup_url: str, endpoint_url: str, name: str) -> BackupLocation:
    """`CLICKHOUSE_BACKUP_URL=s3://bucket[/prefix]` on `S3_ENDPOINT_URL`, one backup `name` under it."""
    parts = urlsplit(backup_url or "")
    if parts.scheme != "s3" or not parts.netloc:
        raise BackupError(f"CLICKHOUSE_BACKUP_URL={backup_url!r}: expected s3://bucket[/prefix]")
    if not endpoint_url:
        raise BackupError("CLICKHOUSE_BACKUP_URL is set but S3_ENDPOINT_URL is empty")
    if not _NAME.match(name):
        raise BackupError(f"backup name {name!r}: letters, digits, '.', '_' and '-' only")
    endpoint = endpoint_url if "://" in endpoint_url else f"http://{endpoint_url}"
    return BackupLocation(endpoint.rstrip("/"), parts.netloc, parts.path.strip("/"), name)


@dataclass(frozen=True)
class S3Access:
    """How a statement reaches the backup: keys as query parameters (chDB) or the server's own config."""

    access_key: str = ""
    secret_key: str = ""
    embedded: bool = True

    def function(self, url_parameter: str, *rest: str, name: str = "S3") -> str:
        """`S3(...)` for BACKUP/RESTORE (`name="s3"` for the table function), the URL a query parameter."""
        keys = ", {importau_backup_key:String}, {importau_backup_secret:String}" if self.embedded else ""
        return f"{name}({{{url_parameter}:String}}{keys}{''.join(', ' + part for part in rest)})"

    def parameters(self, **urls: str) -> dict[str, str]:
        keys = {"importau_backup_key": self.access_key, "importau_backup_secret": self.secret_key}
        return {**urls, **(keys if self.embedded else {})}


def _databases(databases: Sequence[str]) -> str:
    for name in databases:
        if name not in DATABASES:
            raise BackupError(f"not a warehouse database: {name}")
    return ", ".join(f"DATABASE {name}" for name in databases)


def backup_sql(access: S3Access, layout: TableLayout, databases: Sequence[str] = DATABASES) -> str:
    return f"BACKUP {_databases(databases)}{layout.on_cluster()} TO {access.function('importau_backup_url')}"


def restore_sql(access: S3Access, layout: TableLayout, databases: Sequence[str] = DATABASES) -> str:
    return f"RESTORE {_databases(databases)}{layout.on_cluster()} FROM {access.function('importau_backup_url')}"


def table_checksums(client, databases: Sequence[str] = DATABASES) -> dict[str, list[int]]:
    """`{"db.table": [rows, sum of row hashes]}` for every table holding data in `databases`."""
    tables = client.query(
        "SELECT database, name FROM system.tables WHERE database IN {dbs:Array(String)} AND NOT is_temporary "
        "AND engine NOT IN {skipped:Array(String)} AND NOT match(name, '__incoming_') ORDER BY database, name",
        parameters={"dbs": list(databases), "skipped": list(_SKIPPED_ENGINES)},
    ).result_rows
    checksums = {}
    for database, name in tables:
        rows, hashes = client.query(
            f"SELECT count(), sum(cityHash64(toString(tuple(*)))) FROM `{database}`.`{name}`"
        ).result_rows[0]
        checksums[f"{database}.{name}"] = [int(rows), int(hashes)]
    return checksums


def _said(error: Exception, access: S3Access) -> str:
    line = next((x for x in str(error).splitlines() if "DB::Exception" in x), str(error).splitlines()[0])
    for secret in (access.secret_key, access.access_key):
        if secret:
            line = line.replace(secret, "***")
    return line.strip()[:500]


def backup(client, location: BackupLocation, access: S3Access, layout: TableLayout | None = None) -> dict:
    """Back the warehouse up to `location`; return `{"status", "checksums"}`. A name already used is refused."""
    layout = layout or TableLayout()
    checksums = table_checksums(client)
    try:
        rows = client.query(
            backup_sql(access, layout),
            parameters=access.parameters(importau_backup_url=location.url),
            settings=S3_BOUNDS,
        ).result_rows
        lines = "\n".join(json.dumps({"table": table, "rows": r, "hash": h}) for table, (r, h) in checksums.items())
        target = access.function("importau_checksums_url", "'JSONEachRow'", name="s3")
        client.command(
            f"INSERT INTO FUNCTION {target} "
            "SELECT * FROM format(JSONEachRow, 'table String, rows UInt64, hash UInt64', {lines:String})",
            parameters={**access.parameters(importau_checksums_url=location.checksums_url), "lines": lines},
            settings={**S3_BOUNDS, "s3_truncate_on_insert": 1},
        )
    except Exception as error:
        raise BackupError(f"backup to {location} failed: {_said(error, access)}") from None
    return {"status": rows[0][1] if rows and len(rows[0]) > 1 else "", "checksums": checksums}


def restore(client, location: BackupLocation, access: S3Access, layout: TableLayout | None = None) -> dict:
    """Restore `location` into this (empty) warehouse and compare every table's checksum with the backup's.

    Returns `{"checksums", "differences"}`; `differences` names each table whose rows or hash differ, or that
    is missing on either side (empty when the restore is exact)."""
    layout = layout or TableLayout()
    present = client.query(
        "SELECT count() FROM system.tables WHERE database IN {dbs:Array(String)} AND NOT is_temporary",
        parameters={"dbs": list(DATABASES)},
    ).result_rows[0][0]
    if present:
        raise BackupError(
            f"the warehouse already has {present} tables and views in {', '.join(DATABASES)}: restore into an empty "
            "warehouse (a new CLICKHOUSE_URL folder or server), then switch to it"
        )
    source = access.function("importau_checksums_url", "'JSONEachRow'", name="s3")
    try:
        expected_rows = client.query(
            f"SELECT table, rows, hash FROM {source}",
            parameters=access.parameters(importau_checksums_url=location.checksums_url),
            settings=S3_BOUNDS,
        ).result_rows
        client.query(
            restore_sql(access, layout),
            parameters=access.parameters(importau_backup_url=location.url),
            settings=S3_BOUNDS,
        )
    except Exception as error:
        raise BackupError(f"restore from {location} failed: {_said(error, access)}") from None
    expected = {table: [int(rows), int(hashes)] for table, rows, hashes in expected_rows}
    restored = table_checksums(client)
    differences = [
        f"{table}: backup {expected.get(table, 'missing')}, restored {restored.get(table, 'missing')}"
        for table in sorted(set(expected) | set(restored))
        if expected.get(table) != restored.get(table)
    ]
    return {"checksums": restored, "differences": differences}
