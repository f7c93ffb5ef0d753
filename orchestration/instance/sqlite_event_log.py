"""The local instance's event log: Dagster's SQLite event log, with its connections kept open between events.

Dagster's `SqliteEventLogStorage` builds a SQLAlchemy engine, opens the SQLite file, commits and disposes of it
for every write: an asset event writes the run's shard and the cross-run index, so two to four opens and closes
per event. The demo writes about 4,400 events and copies 3,500 into the index; a py-spy profile of
`importau demo` (issue 10) had 45 s of the run in `store_event`, 23 s of it in `_connect`.

This class changes that, and how a batch is stored (below): one engine per shard file, kept for the next write (a
few, least recently used first out, so a long-lived webserver does not keep every run's file open). Everything else
is Dagster's own: the same files under `$DAGSTER_HOME/history/runs/`, the same schema and migrations, the same
transaction per single write (each `_connect` outside a batch is one `BEGIN ... COMMIT`, durable as before; a reader
in another process sees a write once it is committed, as with the stock class), the same lock serialising this
process's writers.

Safe across `fork`: engines are keyed by process id, so a child never uses its parent's open files. A shard
deleted by `wipe` loses its engine first.

Batches: Dagster hands a storage whole batches of events only when `DAGSTER_EVENT_BATCH_SIZE` is set (for the local
instance, `prepare_local_instance` sets it: orchestration/commands/local_instance.py): the planned events it writes
while creating a run (one per asset and one per asset check: 631 for `transform_daily`, about 4 s of
one-transaction-per-event before its first step, issue 10) and a step's materializations of several partitions. The
stock class stores a batch event by event. This one stores it in ONE transaction per shard file it touches (the
run's file and the index), committed at the end, the run's file first. A batch that fails before the commits is
rolled back in both files, and Dagster then stores its events one by one. One window is left: if the run's file
commits and the index's commit then fails (a full disk), Dagster's one-by-one retry writes the batch's events into
the run's file a second time.

`orchestration/instance/local_dagster.yaml` selects it (`event_log_storage`); the deployed instance is PostgreSQL.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence

from dagster import _check as check
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import SingletonThreadPool

KEPT_SHARDS = 8  # the index and the few runs being written; older engines are disposed of
# Dagster's SQLite files are in WAL mode. The stock class closed every connection after each write, which
# checkpointed and removed the `-wal` file; a kept connection leaves it, and SQLite lets it grow to 1,000 pages
# (about 4 MB) per file before a checkpoint, and never shrinks it after. Checkpoint at 256 pages and truncate to 1 MB.
WAL_PRAGMAS = ("PRAGMA wal_autocheckpoint=256", "PRAGMA journal_size_limit=1048576")


def _small_wal(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in WAL_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


class KeptConnectionSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` whose shard connections stay open between events (module docstring)."""

    def __init__(self, base_dir: str, inst_data=None):
        # (process id, shard) -> engine, least recently used first; only touched under the storage's `_db_lock`
        self._engines: OrderedDict[tuple[int, str], Engine] = OrderedDict()
        # shard -> its connection in the batch being stored, by the thread holding `_db_lock` (store_event_batch)
        self._batch: dict[str, Connection] | None = None
        self._batch_thread: int | None = None
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # the parent's builds a SqliteEventLogStorage
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        key = (os.getpid(), shard)
        engine = self._engines.get(key)
        if engine is not None:
            self._engines.move_to_end(key)
            return engine
        engine = create_engine(
            self.conn_string_for_shard(shard),
            # one connection per thread, kept: the storage's lock lets one thread write at a time anyway
            poolclass=SingletonThreadPool,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        event.listen(engine, "connect", _small_wal)
        self._engines[key] = engine
        while len(self._engines) > KEPT_SHARDS:
            (pid, _), oldest = self._engines.popitem(last=False)
            if pid == os.getpid():  # never close a parent's file from a forked child
                oldest.dispose()
        return engine

    @contextlib.contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        if self._batch is not None and self._batch_thread == threading.get_ident():
            yield self._batch_connection(shard)  # this thread holds `_db_lock` for the whole batch
            return
        with self._db_lock:
            check.str_param(shard, "shard")
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn

    def _batch_connection(self, shard: str) -> Connection:
        """The shard's connection in the open batch, its transaction begun on first use."""
        assert self._batch is not None
        conn = self._batch.get(shard)
        if conn is None:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            conn = engine.connect()
            conn.begin()
            self._batch[shard] = conn
        return conn

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """Every event as `store_event` stores it, in one transaction per shard file, committed at the end (the
        run's file first, the index last); on an error every shard not yet committed is rolled back."""
        with self._db_lock:
            self._batch, self._batch_thread = {}, threading.get_ident()
            try:
                for event in events:
                    self.store_event(event)
                for shard in sorted(self._batch, key=lambda name: name == INDEX_SHARD_NAME):
                    self._batch[shard].commit()
            finally:
                batch, self._batch, self._batch_thread = self._batch, None, None
                for conn in batch.values():
                    with contextlib.suppress(Exception):  # the batch's own error, if any, is the one to raise
                        conn.close()  # rolls back what was not committed

    def _forget_engines(self, keep_index: bool) -> None:
        with self._db_lock:
            for key in list(self._engines):
                pid, shard = key
                if keep_index and shard == INDEX_SHARD_NAME:
                    continue
                engine = self._engines.pop(key)
                if pid == os.getpid():
                    engine.dispose()

    def wipe(self) -> None:
        self._forget_engines(keep_index=True)  # the run files are deleted; the index is emptied in place
        super().wipe()

    def dispose(self) -> None:
        self._forget_engines(keep_index=False)
        super().dispose()
