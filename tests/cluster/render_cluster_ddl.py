"""Render every DDL statement the platform issues in cluster mode, on chDB, where no cluster can run.

Run as a script in its own process (chDB hosts one engine per process):

    python tests/cluster/render_cluster_ddl.py loader <chdb path> <out.json>   # loader, scores, leftovers
    python tests/cluster/render_cluster_ddl.py dbt <out.json> <dbt args...>    # importau-dbt with a recorder

Every statement goes through `Recorder`: the cluster-mode text is RECORDED as the platform sent it, with
chDB's `formatQuery` of it (the parser's verdict), and a LOCALISED copy is executed so the run can go on
(`ON CLUSTER` removed, `Replicated*MergeTree(path, replica, args)` -> `*MergeTree(args)`, a `Distributed`
engine dropped so `CREATE TABLE x AS x_local` copies the local table, `clusterAllReplicas(c, t)` -> `t`).
The test (test_cluster_ddl_rendering.py) checks the recorded statements against the cluster rules.
"""

from __future__ import annotations

import atexit
import json
import re
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CLUSTER = "importau_test"
_COMMENTS = re.compile(r"^\s*(?:/\*.*?\*/\s*|--[^\n]*(?:\n|$)\s*)*", re.DOTALL)
_ON_CLUSTER = re.compile(r"\s+ON\s+CLUSTER\s+(?:\"[^\"]*\"|`[^`]*`|'[^']*'|[\w-]+)", re.IGNORECASE)
_REPLICATED = re.compile(r"\bReplicated(\w*MergeTree)\s*\(\s*'[^']*'\s*,\s*'[^']*'\s*(?:,\s*)?", re.IGNORECASE)
_CLUSTER_FUNCTION = re.compile(
    r"\b(?:clusterAllReplicas|cluster)\(\s*(?:\"[^\"]*\"|'[^']*'|`[^`]*`|[\w-]+)\s*,\s*([\w.]+)\s*\)", re.IGNORECASE
)
_SHARD_COUNT = re.compile(r"count\(distinct _shard_num\)\s*>\s*1", re.IGNORECASE)
_DISTRIBUTED = re.compile(r"\s*ENGINE\s*=\s*Distributed\s*\(", re.IGNORECASE)
RECORDED = {"CREATE", "ALTER", "DROP", "EXCHANGE", "RENAME", "TRUNCATE", "DELETE", "SYSTEM", "OPTIMIZE", "REPLACE"}


def first_word(sql: str) -> str:
    rest = _COMMENTS.sub("", sql, count=1)
    return (rest.split(None, 1) or [""])[0].upper()


def _drop_distributed_engine(sql: str) -> str:
    found = _DISTRIBUTED.search(sql)
    if not found:
        return sql
    depth, end = 1, found.end()
    while depth and end < len(sql):
        depth += {"(": 1, ")": -1}.get(sql[end], 0)
        end += 1
    return sql[: found.start()] + sql[end:]


def localize(sql: str) -> str:
    """The single-node statement chDB can run in place of a cluster-mode one."""
    sql = _ON_CLUSTER.sub("", sql)
    sql = _REPLICATED.sub(r"\1(", sql)
    sql = _CLUSTER_FUNCTION.sub(r"\1", sql)
    sql = _SHARD_COUNT.sub("0", sql)
    return _drop_distributed_engine(sql)


class Recorder:
    """A clickhouse-connect client that records each DDL statement and runs its localised form."""

    def __init__(self, client, log: list, source: str):
        object.__setattr__(self, "_client", client)
        object.__setattr__(self, "_log", log)
        object.__setattr__(self, "_source", source)

    def _record(self, sql):
        if isinstance(sql, str) and first_word(sql) in RECORDED:
            entry = {"source": self._source, "sql": sql, "formatted": None, "error": None}
            try:
                entry["formatted"] = self._client.query(
                    "SELECT formatQuery({q:String})", parameters={"q": sql}
                ).result_rows[0][0]
            except Exception as error:  # the parser refused it: the test reports the statement and why
                entry["error"] = str(error).splitlines()[0][:500]
            self._log.append(entry)
        return localize(sql) if isinstance(sql, str) else sql

    def query(self, sql, *args, **kwargs):
        return self._client.query(self._record(sql), *args, **kwargs)

    def command(self, sql, *args, **kwargs):
        return self._client.command(self._record(sql), *args, **kwargs)

    def raw_query(self, sql, *args, **kwargs):
        return self._client.raw_query(self._record(sql), *args, **kwargs)

    def query_arrow(self, sql, *args, **kwargs):
        return self._client.query_arrow(self._record(sql), *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._client, name)

    def __setattr__(self, name, value):
        setattr(self._client, name, value)


# ----------------------------------------------------------------------------------------------- the loader
def _value(field):
    """One valid value of an Arrow field (the loader only needs a row in the month)."""
    import pyarrow as pa

    t = field.type
    if pa.types.is_boolean(t):
        return True
    if pa.types.is_integer(t):
        return 1
    if pa.types.is_floating(t):
        return 1.0
    if pa.types.is_decimal(t):
        return Decimal("1")
    if pa.types.is_date(t):
        return date(2031, 1, 15)
    if pa.types.is_timestamp(t):
        return datetime(2031, 1, 15, 12, tzinfo=UTC)
    return "x"


def render_loader(chdb_path: str, out: Path) -> None:
    import clickhouse_connect
    import pyarrow as pa

    import orchestration.definitions  # noqa: F401  (registers every raw-load asset's tables)
    from ingestion.common.lake import LocalLake
    from ingestion.common.raw_load import drop_stale_side_tables, ensure_raw_table, replace_partitions
    from ingestion.common.table_layout import TableLayout
    from ingestion.common.warehouse import WarehouseTarget, _create_databases
    from ml_assets.cash_flow.train import SCORES_TABLE as CASH_FLOW
    from ml_assets.common.scores import write_scores
    from ml_assets.fx_forecast.train import SCORES_TABLE as FX_FORECAST
    from ml_assets.supplier_delay.train import SCORES_TABLE as SUPPLIER_DELAY
    from ml_assets.transaction_anomaly.train import SCORES_TABLE as TRANSACTION_ANOMALY
    from orchestration.dbt_leftovers import drop_dbt_leftovers
    from orchestration.defs.raw_loads import RAW_TABLES

    layout = TableLayout(cluster=CLUSTER)
    log: list = []
    client = Recorder(clickhouse_connect.get_client(interface="chdb", path=chdb_path), log, "warehouse")
    _create_databases(client, WarehouseTarget(chdb_path=chdb_path), layout)
    lake = LocalLake(Path(chdb_path).parent / "lake")
    january = (date(2031, 1, 1), date(2031, 1, 31))  # a month the fixtures' data does not reach
    for name, table in sorted(RAW_TABLES.items()):
        object.__setattr__(client, "_source", f"raw_load {name}")
        ensure_raw_table(client, name, table.schema, list(table.order_by), list(table.low_cardinality), layout=layout)
        drop_stale_side_tables(client, name, older_than_hours=0, layout=layout)
        row = {field.name: _value(field) for field in table.schema}
        lake.write_partition("render", name, date(2031, 1, 15), pa.Table.from_pylist([row], schema=table.schema))
        loaded = replace_partitions(client, name, lake.clickhouse_reader("render", name), *january, layout=layout)
        assert loaded == 1, (name, loaded)
        emptied = replace_partitions(client, name, None, *january, layout=layout)  # the month left the lake
        assert emptied == 0, (name, emptied)
    for table in (CASH_FLOW, FX_FORECAST, SUPPLIER_DELAY, TRANSACTION_ANOMALY):
        object.__setattr__(client, "_source", f"scores {table.qualified}")
        write_scores(client, table, [], "1", layout=layout)
    object.__setattr__(client, "_source", "dbt leftovers")
    client.command("CREATE TABLE marts.render_probe__dbt_backup ON CLUSTER importau_test (a Int8) ENGINE = Memory")
    log.pop()  # the probe itself is not a platform statement
    drop_dbt_leftovers(client, [("marts", "render_probe")], on_cluster=layout.on_cluster())
    client.close()
    out.write_text(json.dumps(log, indent=1))


# ---------------------------------------------------------------------------------------------------- dbt
def render_dbt(out: Path, dbt_args: list[str]) -> int:
    import clickhouse_connect

    from orchestration import dbt_chdb

    log: list = []
    original = clickhouse_connect.get_client

    def get_client(*args, **kwargs):
        return Recorder(original(*args, **kwargs), log, "dbt")

    clickhouse_connect.get_client = get_client
    atexit.register(lambda: out.write_text(json.dumps(log, indent=1)))
    return dbt_chdb.main(dbt_args)


if __name__ == "__main__":
    if sys.argv[1] == "loader":
        render_loader(sys.argv[2], Path(sys.argv[3]))
    else:
        sys.exit(render_dbt(Path(sys.argv[2]), sys.argv[3:]))
