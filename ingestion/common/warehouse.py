"""The warehouse: ClickHouse embedded in the process (chDB) or a ClickHouse server over HTTP(S).

`CLICKHOUSE_URL` picks it: empty or `chdb://` = chDB at `<data_dir>/warehouse`; `chdb:///abs/path` = chDB
there; `http(s)://user:pass@host:port/` = a server. chDB lets ONE process open a folder at a time (a second
one fails with an opaque BAD_ARGUMENTS), so before opening it we take an exclusive `flock` on `<folder>.lock`
and write who we are into it; a second process then fails at once with `WarehouseBusyError` naming the holder.
Within one process, opening the same folder again shares the open engine (chDB runs one folder per process).
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

DATABASES = ("raw", "staging", "intermediate", "marts", "ml")


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

    def __init__(self, client, target: WarehouseTarget, on_close=None):
        self.client = client
        self.target = target
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


def _create_databases(client, target: WarehouseTarget) -> None:
    for name in DATABASES:
        try:
            client.command(f"CREATE DATABASE IF NOT EXISTS {name}")
        except Exception as error:
            found = client.query("SELECT count() FROM system.databases WHERE name = {n:String}", {"n": name})
            if not found.result_rows[0][0]:
                message = str(error).splitlines()[0]
                raise WarehouseError(
                    f"database {name} is missing in {target} and cannot be created: {message}"
                ) from None


def _open_chdb(target: WarehouseTarget, owner: str):
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
        try:
            client = clickhouse_connect.get_client(interface="chdb", path=path)
        except Exception as error:
            said = str(error).splitlines()[0]
            why = (
                "this process already opened chDB at another folder outside open_warehouse"
                if "already initialized with path" in said
                else "another process may have it open without the importau lock (a bare chDB session?)"
            )
            raise WarehouseError(f"cannot open the embedded warehouse {path}: {why}. chDB said: {said}") from None
        stack.callback(client.close)
        _create_databases(client, target)
    except BaseException:
        stack.close()
        raise
    return _OpenEngine(client, stack)


def _open_server(target: WarehouseTarget):
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
    _create_databases(client, target)
    return client


@contextmanager
def open_warehouse(url: str | None, data_dir: str, owner: str) -> Iterator[Warehouse]:
    """Open the warehouse for `owner` (a phrase a person reads, e.g. 'importau sql'), close it on exit."""
    target = parse_warehouse_url(url, data_dir)
    if not target.is_embedded:
        client = _open_server(target)
        warehouse = Warehouse(client, target, on_close=client.close)
    else:
        path = target.chdb_path
        with _ENGINES_LOCK:
            engine = _ENGINES.get(path) or _open_chdb(target, owner)
            _ENGINES[path] = engine
            engine.users += 1

        def release() -> None:
            with _ENGINES_LOCK:
                engine.users -= 1
                if engine.users == 0:
                    del _ENGINES[path]
                    engine.stack.close()

        warehouse = Warehouse(engine.client, target, on_close=release)
    try:
        yield warehouse
    finally:
        warehouse.close()
