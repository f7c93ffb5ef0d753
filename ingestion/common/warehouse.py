"""The warehouse: ClickHouse embedded in the process (chDB) or a ClickHouse server over HTTP(S).

`CLICKHOUSE_URL` picks it: empty or `chdb://` = chDB at `<data_dir>/warehouse`; `chdb:///abs/path` = chDB
there; `http(s)://user:pass@host:port/` = a server. chDB lets ONE process open a folder at a time (a second
one fails with an opaque BAD_ARGUMENTS), so before opening it we take an exclusive `flock` on `<folder>.lock`
and write who we are into it; a second process then fails at once with `WarehouseBusyError` naming the holder.
Within one process, opening the same folder again shares the open engine (chDB runs one folder per process).

The table layout (ingestion/common/table_layout.py: `CLICKHOUSE_CLUSTER`, `CLICKHOUSE_STORAGE_POLICY`) rides on
the open warehouse as `.layout`, for the code that writes DDL. A storage policy on the embedded chDB needs the
engine started with it: `chdb_storage_options` writes its config (no secret in it) and every process that opens
the folder (this module, the dbt bridge) passes the same options.
"""

import fcntl
import json
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import clickhouse_connect

from ingestion.common.redact import redact_text
from ingestion.common.table_layout import (
    KEY_ID_VARIABLE,
    SECRET_VARIABLE,
    LayoutError,
    TableLayout,
    chdb_storage_config,
    layout_from_env,
    s3_disk_endpoint,
)

DATABASES = ("raw", "staging", "intermediate", "marts", "ml")

# Settings every client of ours runs with (this module's, the dbt bridge's through profiles.yml's custom_settings,
# the readers' snapshot). The query condition cache (on by default since ClickHouse 25.3) remembers, per part and
# filter, the granules a filter removed; upstream has fixed several ways one query poisons it so that a later,
# different query silently loses rows (ClickHouse/ClickHouse#111476, #119823). chDB 26.9 has one more: in one
# engine, `select card_account_key from stg_bank__credit_card_accounts where card_account_key is null` made the
# next query of stg_bank__credit_card_transactions lose its card account in a join (CI of stop 24: the Pluggy demo
# failed on a NULL key). Our queries read small parts once, so the cache saves nothing worth a wrong answer.
QUERY_SETTINGS = {"use_query_condition_cache": 0}


def apply_query_settings(client) -> None:
    """QUERY_SETTINGS on a server client, each one the server knows (a server before 25.3 has no such cache)."""
    for key, value in QUERY_SETTINGS.items():
        if key in getattr(client, "server_settings", {}):
            client.set_client_setting(key, value)


class WarehouseError(RuntimeError):
    """The warehouse could not be opened; the message says where and why (never a password)."""


class WarehouseBusyError(WarehouseError):
    """Another process holds the embedded warehouse."""


@dataclass(frozen=True)
class WarehouseTarget:
    """Where a CLICKHOUSE_URL points; `str()` never shows the password."""

    chdb_path: str | None = None
    host: str = ""
    port: int = 0
    username: str = "default"
    password: str = ""
    secure: bool = False

    @property
    def is_embedded(self) -> bool:
        return self.chdb_path is not None

    def __str__(self) -> str:
        if self.is_embedded:
            return f"chDB at {self.chdb_path}"
        return f"{'https' if self.secure else 'http'}://{self.username}@{self.host}:{self.port}"

    def __repr__(self) -> str:
        return f"WarehouseTarget({str(self)!r})"


def parse_warehouse_url(url: str | None, data_dir: str) -> WarehouseTarget:
    if not url or url == "chdb://":
        return WarehouseTarget(chdb_path=str(Path(data_dir).expanduser().resolve() / "warehouse"))
    parts = urlsplit(url)
    if parts.scheme == "chdb":
        if not parts.path.startswith("/") or parts.netloc:
            raise ValueError("a chDB CLICKHOUSE_URL is chdb:///absolute/path (three slashes)")
        return WarehouseTarget(chdb_path=str(Path(parts.path).resolve()))
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"CLICKHOUSE_URL must be empty, chdb:///path or http(s)://..., not {parts.scheme}://")
    secure = parts.scheme == "https"
    return WarehouseTarget(
        host=parts.hostname or "localhost",
        port=parts.port or (8443 if secure else 8123),
        username=unquote(parts.username or "default"),
        password=unquote(parts.password or ""),
        secure=secure,
    )


def lock_file(chdb_path: str) -> Path:
    return Path(f"{Path(chdb_path).resolve()}.lock")


def _holder_text(raw: str) -> str:
    try:
        info = json.loads(raw)
        return f"pid {info['pid']} on {info['host']} ({info['owner']}) since {info['started_at']}"
    except (ValueError, KeyError, TypeError):
        return "a process that has not written its name yet"


def _busy_message(chdb_path: str, holder: str) -> str:
    return (
        f"the embedded warehouse {chdb_path} is in use by {holder}. chDB lets one process open it at a time: "
        "wait for that process to finish, or stop it (the Dagster UI/daemon or an `importau` command holding "
        f"it), then retry. Lock file: {lock_file(chdb_path)}"
    )


@contextmanager
def hold_warehouse_lock(chdb_path: str, owner: str) -> Iterator[dict]:
    """Hold `<chdb_path>.lock` exclusively, without waiting: WarehouseBusyError names the holder if taken."""
    path = lock_file(chdb_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder_text(os.pread(fd, 4096, 0).decode(errors="replace"))
            raise WarehouseBusyError(_busy_message(str(chdb_path), holder)) from None
        info = {
            "pid": os.getpid(),
            "owner": owner,
            "host": socket.gethostname(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        try:
            yield info
        finally:
            os.ftruncate(fd, 0)  # before unlocking, so the next holder's name is never wiped
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def read_lock_holder(chdb_path: str) -> dict | None:
    """Who holds the lock, or None when nobody does (for status displays)."""
    try:
        raw = lock_file(chdb_path).read_text()
    except FileNotFoundError:
        return None
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError:
        return None


class Warehouse:
    """A thin wrapper over a clickhouse-connect client: `.client` is there for anything it does not cover."""

    def __init__(self, client, target: WarehouseTarget, on_close=None, layout: TableLayout | None = None):
        self.client = client
        self.target = target
        self.layout = layout or TableLayout()
        self._on_close = on_close

    @property
    def is_embedded(self) -> bool:
        return self.target.is_embedded

    def __repr__(self) -> str:
        return f"Warehouse({self.target})"

    def command(self, sql: str, parameters=None, settings=None):
        return self.client.command(sql, parameters=parameters, settings=settings)

    def query(self, sql: str, parameters=None, settings=None):
        """The clickhouse-connect QueryResult (`.column_names`, `.result_rows`)."""
        return self.client.query(sql, parameters=parameters, settings=settings)

    def query_rows(self, sql: str, parameters=None, settings=None) -> list[tuple]:
        return self.query(sql, parameters, settings).result_rows

    def query_arrow(self, sql: str, parameters=None, settings=None):
        return self.client.query_arrow(sql, parameters=parameters, settings=settings)

    def query_df(self, sql: str, parameters=None, settings=None):
        return self.client.query_df(sql, parameters=parameters, settings=settings)

    def close(self) -> None:
        on_close, self._on_close = self._on_close, None
        if on_close:
            on_close()


@dataclass
class _OpenEngine:
    client: object
    stack: ExitStack
    users: int = 0


_ENGINES: dict[str, _OpenEngine] = {}
_ENGINES_LOCK = threading.Lock()


def _create_databases(client, target: WarehouseTarget, layout: TableLayout) -> None:
    for name in DATABASES:
        try:
            client.command(f"CREATE DATABASE IF NOT EXISTS {name}{layout.on_cluster()}")
        except Exception as error:
            found = client.query("SELECT count() FROM system.databases WHERE name = {n:String}", {"n": name})
            if not found.result_rows[0][0]:
                message = str(error).splitlines()[0]
                raise WarehouseError(
                    f"database {name} is missing in {target} and cannot be created: {message}"
                ) from None


def chdb_storage_options(chdb_path: str, layout: TableLayout, env: dict | None = None) -> dict[str, str]:
    """The chDB options that start the engine with `layout.storage_policy` (none without a policy).

    Writes `<warehouse>.storage.xml` beside the warehouse folder (mode 0600; it names the key variables, never
    their values). The disk is `CLICKHOUSE_S3_DISK_URL` on `S3_ENDPOINT_URL`, its local metadata under
    `<warehouse>/disks/<policy>/`.
    """
    if not layout.storage_policy:
        return {}
    env = os.environ if env is None else env
    disk_url = env.get("CLICKHOUSE_S3_DISK_URL", "")
    if not disk_url:
        raise WarehouseError(
            f"CLICKHOUSE_STORAGE_POLICY={layout.storage_policy} on the embedded chDB needs CLICKHOUSE_S3_DISK_URL "
            "(s3://bucket[/prefix]: where the policy's disk keeps table data) and S3_ENDPOINT_URL"
        )
    missing = [name for name in (KEY_ID_VARIABLE, SECRET_VARIABLE) if not env.get(name)]
    if missing:
        raise WarehouseError(f"the storage policy's S3 disk reads its keys from {' and '.join(missing)}: set them")
    try:
        endpoint = s3_disk_endpoint(disk_url, env.get("S3_ENDPOINT_URL", ""))
    except LayoutError as error:
        raise WarehouseError(str(error)) from None
    config = Path(f"{Path(chdb_path).resolve()}.storage.xml")
    text = chdb_storage_config(
        layout.storage_policy,
        endpoint,
        str(Path(chdb_path) / "disks" / layout.storage_policy),
        env.get("S3_REGION", ""),
    )
    config.parent.mkdir(parents=True, exist_ok=True)
    if not config.exists() or config.read_text() != text:
        # whole or not at all (temp + rename): a running engine may re-read its config file when it changes
        scratch = config.with_name(f"{config.name}.{os.getpid()}.tmp")
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(scratch, config)
    return {"config-file": str(config)}


def _open_chdb(target: WarehouseTarget, owner: str, layout: TableLayout):
    path = target.chdb_path
    others = [p for p in _ENGINES if p != path]
    if others:
        raise WarehouseError(
            f"this process already has the embedded warehouse {others[0]} open; chDB opens one folder per "
            f"process at a time, so {path} must wait until it is closed"
        )
    stack = ExitStack()
    try:
        stack.enter_context(hold_warehouse_lock(path, owner))
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        options = chdb_storage_options(path, layout)
        try:
            client = clickhouse_connect.get_client(
                interface="chdb", path=path, chdb_options=options or None, settings=QUERY_SETTINGS
            )
        except Exception as error:
            said = str(error).splitlines()[0]
            why = (
                "this process already opened chDB at another folder outside open_warehouse"
                if "already initialized with path" in said
                else "another process may have it open without the importau lock (a bare chDB session?)"
            )
            raise WarehouseError(f"cannot open the embedded warehouse {path}: {why}. chDB said: {said}") from None
        stack.callback(client.close)
        _create_databases(client, target, layout)
    except BaseException:
        stack.close()
        raise
    return _OpenEngine(client, stack)


def _open_server(target: WarehouseTarget, layout: TableLayout):
    try:
        client = clickhouse_connect.get_client(
            host=target.host,
            port=target.port,
            username=target.username,
            password=target.password,
            secure=target.secure,
        )
    except Exception as error:
        message = redact_text(str(error).splitlines()[0], [target.password])
        raise WarehouseError(f"cannot connect to the ClickHouse server {target}: {message}") from None
    apply_query_settings(client)
    _create_databases(client, target, layout)
    return client


@contextmanager
def open_warehouse(
    url: str | None, data_dir: str, owner: str, layout: TableLayout | None = None
) -> Iterator[Warehouse]:
    """Open the warehouse for `owner` (a phrase a person reads, e.g. 'importau sql'), close it on exit.

    `layout` None: from `CLICKHOUSE_CLUSTER` / `CLICKHOUSE_STORAGE_POLICY` in the environment, so every opener
    of an embedded warehouse starts the engine with the storage policy its tables need."""
    target = parse_warehouse_url(url, data_dir)
    try:
        layout = layout_from_env(os.environ) if layout is None else layout
    except LayoutError as error:
        raise WarehouseError(str(error)) from None
    if layout.is_cluster and target.is_embedded:
        raise WarehouseError(
            f"CLICKHOUSE_CLUSTER={layout.cluster} needs ClickHouse servers (CLICKHOUSE_URL=https://...): the "
            "embedded chDB is one process on one folder, with no Keeper and no other node"
        )
    if not target.is_embedded:
        client = _open_server(target, layout)
        warehouse = Warehouse(client, target, on_close=client.close, layout=layout)
    else:
        path = target.chdb_path
        with _ENGINES_LOCK:
            engine = _ENGINES.get(path) or _open_chdb(target, owner, layout)
            _ENGINES[path] = engine
            engine.users += 1

        def release() -> None:
            with _ENGINES_LOCK:
                engine.users -= 1
                if engine.users == 0:
                    del _ENGINES[path]
                    engine.stack.close()

        warehouse = Warehouse(engine.client, target, on_close=release, layout=layout)
    try:
        yield warehouse
    finally:
        warehouse.close()
