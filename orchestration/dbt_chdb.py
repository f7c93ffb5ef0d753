"""`importau-dbt`: dbt's own command line, plus an embedded chDB driver for dbt-clickhouse.

TEMPORARY BRIDGE. dbt-clickhouse 1.10.3 only speaks HTTP and the native protocol. Upstream pull request
ClickHouse/dbt-clickhouse#693 adds `driver: chdb` with a `chdb_path` on top of clickhouse-connect's
`get_client(interface="chdb", path=...)`. This module teaches the installed adapter the same two profile
keys, so `dbt_project/profiles.yml` already uses upstream's spelling:

    type: clickhouse
    driver: chdb
    chdb_path: /abs/path/to/warehouse

Delete this module once a dbt-clickhouse release ships `driver: chdb`: point the `importau-dbt` console
script at a `main` that calls `orchestration.dbt_selection.memoise_fqn_selection()` and then `dbt.cli.main:cli`
(that memo is not part of the bridge), and keep profiles.yml as it is.

What it changes, and only inside this process:
1. `ClickHouseCredentials` drops unknown profile keys, so the plugin's credentials class gets a
   `chdb_path` field.
2. `get_db_client` (the one factory `ClickHouseConnectionManager.open` calls) builds a `ChdbClient` for
   `driver: chdb`; every other driver goes to the adapter untouched, so the `prod` target is plain dbt.
3. `ChdbClient` is the adapter's own HTTP client wrapper with one different construction: clickhouse-connect's
   chDB client. It has the same query/command surface, so every macro and materialization runs unchanged.

dbt opens one connection per thread. Each gets its own chDB client (its own engine handle, so its own `USE`
and session settings); clients on one path share the single engine a process may host. Before the first
client opens, the process takes the warehouse lock (`ingestion.common.warehouse.hold_warehouse_lock`), so a
second process fails at once with `WarehouseBusyError` naming the holder instead of fighting over the folder.

No dagster import here: `importau-dbt` is what Dagster's dbt resource runs as a subprocess.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import threading
import weakref
from typing import Any

from orchestration.dbt_selection import memoise_fqn_selection

CHDB_DRIVER = "chdb"
OWNER_ENV = "IMPORTAU_WAREHOUSE_OWNER"

_state_lock = threading.Lock()
_connect_lock = threading.Lock()
_lock_stack = contextlib.ExitStack()
_locked_path: str | None = None
_busy_error: BaseException | None = None
_open_clients: weakref.WeakSet = weakref.WeakSet()
_installed = False
_command = ""


# ---------------------------------------------------------------------------------------------- environment
def profile_env(clickhouse_url: str | None, data_dir: str) -> dict[str, str]:
    """The variables profiles.yml reads, from `CLICKHOUSE_URL` as docs/architecture.md defines it.

    Embedded (empty, `chdb://` or `chdb:///abs/path`): `IMPORTAU_CHDB_PATH` for the `local`/`ci` targets.
    A server (`http(s)://user:pass@host:port/`): the `CLICKHOUSE_*` variables of the `prod` target.
    """
    from ingestion.common.warehouse import parse_warehouse_url

    target = parse_warehouse_url(clickhouse_url, data_dir)
    if target.is_embedded:
        return {"IMPORTAU_CHDB_PATH": str(target.chdb_path)}
    return {
        "CLICKHOUSE_HOST": target.host,
        "CLICKHOUSE_PORT": str(target.port),
        "CLICKHOUSE_USER": target.username,
        "CLICKHOUSE_PASSWORD": target.password,
        # Capitalised: profiles.yml reads it through dbt's `as_bool`, which takes Python literals only ('true' fails
        # to render, and with it every dbt command on the prod target).
        "CLICKHOUSE_SECURE": "True" if target.secure else "False",
    }


def _apply_environment() -> None:
    """The Dagster code location's defaults (`IMPORTAU_DATA_DIR` etc.), so `importau-dbt` works on a fresh
    clone; variables already in the environment win."""
    from orchestration.env_defaults import apply_env_defaults

    apply_env_defaults()
    for name, value in profile_env(os.environ["CLICKHOUSE_URL"], os.environ["IMPORTAU_DATA_DIR"]).items():
        os.environ.setdefault(name, value)


# ------------------------------------------------------------------------------------------- warehouse lock
def _owner() -> str:
    """Who the lock file names: `IMPORTAU_WAREHOUSE_OWNER` (e.g. a Dagster run), else the dbt command."""
    return os.environ.get(OWNER_ENV) or f"importau-dbt {_command}".strip()


def _hold_warehouse_lock(path: str) -> None:
    """Take the warehouse lock once per process, before the first chDB client opens `path`."""
    global _locked_path, _busy_error
    from ingestion.common.warehouse import WarehouseBusyError, hold_warehouse_lock

    real = os.path.realpath(path)
    with _state_lock:
        if _locked_path is not None:
            if _locked_path != real:
                raise RuntimeError(f"chDB hosts one engine per process: {_locked_path} is open, not {real}")
            return
        try:
            _lock_stack.enter_context(hold_warehouse_lock(path, _owner()))
        except WarehouseBusyError as error:
            _busy_error = error  # dbt wraps it in a connection error; main() repeats it as the last word
            raise
        _locked_path = real


# dbt commands that may change tables: after them the readers' snapshot is published (warehouse_snapshot.py)
WRITING_COMMANDS = {"build", "run", "seed", "snapshot", "run-operation", "retry", "clone"}


def _publish_for_readers() -> str | None:
    """Publish `marts` and `ml` for readers while this process still holds the warehouse; None, or the error."""
    if _locked_path is None or _command.split(" ")[0] not in WRITING_COMMANDS:
        return None
    import clickhouse_connect

    from ingestion.common.warehouse import QUERY_SETTINGS
    from ingestion.common.warehouse_snapshot import publish_snapshot

    try:
        # with the storage policy's engine options (the tables on its S3 disk attach only then), as dbt's own
        client = clickhouse_connect.get_client(
            interface="chdb",
            path=_locked_path,
            query_limit=0,
            settings=QUERY_SETTINGS,
            **_storage_options(_locked_path),
        )
        try:
            publish_snapshot(client, _locked_path, source=_owner())
        finally:
            client.close()
    except Exception as error:  # the tables are committed; only the readers' copy is stale
        return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    return None


def _shutdown() -> str | None:
    """Publish the readers' snapshot, close chDB clients dbt left open, then release the lock (in that order).

    Returns the publishing error, if any."""
    global _locked_path
    publish_error = _publish_for_readers()
    for client in list(_open_clients):
        with contextlib.suppress(Exception):
            client.close()
    with _state_lock:
        _lock_stack.close()
        _locked_path = None
    return publish_error


def _storage_options(path: str) -> dict:
    """The engine options a storage policy needs (CLICKHOUSE_STORAGE_POLICY), the same as open_warehouse's, so
    the tables on the policy's S3 disk attach in this process too; none without a policy."""
    from ingestion.common.table_layout import layout_from_env
    from ingestion.common.warehouse import chdb_storage_options

    options = chdb_storage_options(path, layout_from_env(os.environ))
    return {"chdb_options": options} if options else {}


# ---------------------------------------------------------------------------------------------- adapter seams
def install() -> None:
    """Patch the installed dbt-clickhouse (idempotent). Safe to call before dbt loads the profile."""
    global _installed
    if _installed:
        return
    import dbt.adapters.clickhouse as ch_plugin
    from dbt.adapters.clickhouse import connections
    from dbt.adapters.clickhouse.credentials import ClickHouseCredentials
    from dbt.adapters.clickhouse.dbclient import ChClientWrapper
    from dbt.adapters.clickhouse.httpclient import ChHttpClient
    from dbt.adapters.exceptions import FailedToConnectError

    @dataclasses.dataclass
    class ChdbCredentials(ClickHouseCredentials):
        """ClickHouseCredentials plus the data directory of the embedded engine (`driver: chdb`)."""

        # Not one of `_connection_keys()`: dbt hashes those into the manifest's profile hash, so a warehouse
        # folder other than the one the manifest was parsed with (every tmp data dir of the benchmarks and
        # tests, every deployment) threw partial parsing away and re-parsed the project in every dbt step
        # (about 4 s each, issue 10). The folder does not change what the project parses to.
        chdb_path: str | None = None

    class ChdbClient(ChHttpClient):
        """The adapter's HTTP wrapper on clickhouse-connect's chDB client: same surface, in-process engine."""

        def _create_client(self, credentials: Any):
            import clickhouse_connect

            path = getattr(credentials, "chdb_path", None)
            if not path:
                raise FailedToConnectError("driver: chdb needs chdb_path (the warehouse folder)")
            _hold_warehouse_lock(path)
            options = _storage_options(path)
            with _connect_lock:  # dbt threads connect at once; start the shared engine one client at a time
                client = clickhouse_connect.get_client(
                    interface="chdb", path=path, settings=self._conn_settings, query_limit=0, **options
                )
            _open_clients.add(client)
            return client

        def database_dropped(self, database: str):
            # A chDB handle keeps its USE state when `client.database = None` (the HTTP wrapper's reset), so
            # move it to a database that always exists instead.
            ChClientWrapper.database_dropped(self, database)
            if self.database == database:
                self._client.database = "default"

    original_get_db_client = connections.get_db_client

    def get_db_client(credentials):
        if (credentials.driver or "").lower() == CHDB_DRIVER:
            return ChdbClient(credentials)
        return original_get_db_client(credentials)

    ch_plugin.Plugin.credentials = ChdbCredentials
    connections.get_db_client = get_db_client
    _installed = True


# ------------------------------------------------------------------------------------------------------ entry
def print_version() -> int:
    """`importau-dbt --version` from the installed package metadata, in dbt's layout.

    dagster-dbt runs `<dbt executable> --version` before every dbt command of a step. dbt's own answer imports its
    CLI and asks PyPI for the latest releases (two HTTP calls): about 4 s per step, and network calls from
    production. The installed versions are all dagster-dbt reads (the first `x.y.z`).
    """
    from importlib.metadata import version

    print(f"Core:\n  - installed: {version('dbt-core')}\n\nPlugins:\n  - clickhouse: {version('dbt-clickhouse')}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run dbt's CLI with all arguments passed through; exit code as dbt's (0 ok, 1 failures, 2 errors)."""
    global _command
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:
        return print_version()
    _command = " ".join(arg for arg in args[:2] if not arg.startswith("-"))
    _apply_environment()
    install()
    memoise_fqn_selection()  # not part of the bridge: keep it when the bridge goes (orchestration/dbt_selection.py)
    from dbt.cli.main import cli

    code: Any = 0
    try:
        cli.main(args=args, prog_name="dbt")
    except SystemExit as exit_:
        code = exit_.code
    finally:
        publish_error = _shutdown()
    if publish_error is not None:
        print(
            f"importau-dbt: the readers' snapshot was not published (readers see the previous one): {publish_error}",
            file=sys.stderr,
        )
        if code in (0, None):
            code = 1
    if _busy_error is not None:
        name = type(_busy_error).__name__
        print(f"importau-dbt: {name}: dbt could not open the warehouse: {_busy_error}", file=sys.stderr)
        return 2
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
