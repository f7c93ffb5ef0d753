"""Where the platform's tables live: one node or a ClickHouse cluster, the local disk or a storage policy on S3.

Two switches, both empty by default (then every statement is exactly the single-node DDL it always was):

- `CLICKHOUSE_CLUSTER=<name>` (a cluster of the server's `remote_servers`, with Keeper): statements that create,
  drop, rename or change the structure of a table or database run `ON CLUSTER <name>`, and MergeTree engines
  become Replicated. Unsharded tables use ONE replication group across the whole cluster
  (`/clickhouse/tables/{uuid}/all`): every node holds every raw, staging and small mart table, so dbt (on
  whichever node it connects to) reads complete inputs and BI reads the same rows from any node. The local
  tables of the sharded marts (`Distributed`, dbt_project/README.md "Cluster mode and tables on S3") use one
  group per shard (`/clickhouse/tables/{uuid}/{shard}`). `{uuid}` keeps the path with the table through dbt's
  EXCHANGE TABLES and RENAME; `ON CLUSTER` gives the table the same UUID on every node.
  Statements that change the DATA of a replicated table (INSERT, `REPLACE`/`DROP PARTITION`, lightweight
  DELETE, TRUNCATE) run on the node the platform is connected to, without `ON CLUSTER`: the replication log
  carries them to every replica, which is also what dbt-clickhouse does for its incremental models. With
  `ON CLUSTER`, Keeper's DDL worker would run a partition swap on ONE replica per shard, picked by lock, which
  need not yet hold the side table's freshly inserted rows, and once per shard on a cluster-wide group.
- `CLICKHOUSE_STORAGE_POLICY=<policy>`: raw tables, dbt seeds and marts get `SETTINGS storage_policy =
  '<policy>'`, a policy whose disk is on S3/MinIO (docs/clickhouse/importau_s3_storage.xml defines it on a
  server; the embedded chDB gets it from `chdb_storage_config`, keys read from the environment by name).

Pure: no Dagster, no environment reads except `layout_from_env` (given a mapping).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

REPLICA_PATH_ALL = "/clickhouse/tables/{uuid}/all"  # unsharded: one replication group across the cluster
REPLICA_PATH_SHARD = "/clickhouse/tables/{uuid}/{shard}"  # the local table of a Distributed mart: one per shard
REPLICA_NAME = "{replica}"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_ENGINE = re.compile(r"^\s*(\w*MergeTree)\s*(?:\((.*)\))?\s*$", re.DOTALL)


class LayoutError(ValueError):
    """A cluster or storage policy setting that cannot work; the message names the variable."""


def _checked(name: str, value: str) -> str:
    if value and not _NAME.match(value):
        raise LayoutError(f"{name}={value!r}: expected a plain name (letters, digits, _ and -)")
    return value


@dataclass(frozen=True)
class TableLayout:
    """How DDL places tables. `TableLayout()` is the single-node, local-disk default."""

    cluster: str = ""
    storage_policy: str = ""

    def __post_init__(self):
        _checked("CLICKHOUSE_CLUSTER", self.cluster)
        _checked("CLICKHOUSE_STORAGE_POLICY", self.storage_policy)

    @property
    def is_cluster(self) -> bool:
        return bool(self.cluster)

    def on_cluster(self) -> str:
        """` ON CLUSTER `<name>`` in cluster mode, else nothing (goes right after the table or database name)."""
        return f" ON CLUSTER `{self.cluster}`" if self.cluster else ""

    def engine(self, engine: str = "MergeTree", sharded: bool = False) -> str:
        """`engine` as is on one node; its Replicated form on a cluster (the replica path first, then its args)."""
        if not self.cluster:
            return engine
        found = _ENGINE.match(engine)
        if not found:
            raise LayoutError(f"cluster mode replicates MergeTree engines only, not {engine!r}")
        name, args = found.group(1), (found.group(2) or "").strip()
        if name.startswith("Replicated"):
            return engine
        path = REPLICA_PATH_SHARD if sharded else REPLICA_PATH_ALL
        replica_args = f"'{path}', '{REPLICA_NAME}'" + (f", {args}" if args else "")
        return f"Replicated{name}({replica_args})"

    def settings(self, extra: str = "") -> str:
        """The table's `SETTINGS` line (the storage policy, plus `extra`), or nothing."""
        items = [f"storage_policy = '{self.storage_policy}'"] if self.storage_policy else []
        items += [extra] if extra else []
        return f"\nSETTINGS {', '.join(items)}" if items else ""


def layout_from_env(env: Mapping[str, str]) -> TableLayout:
    return TableLayout(
        cluster=(env.get("CLICKHOUSE_CLUSTER") or "").strip(),
        storage_policy=(env.get("CLICKHOUSE_STORAGE_POLICY") or "").strip(),
    )


# ------------------------------------------------------------------------------------ the embedded engine's disk
KEY_ID_VARIABLE = "S3_ACCESS_KEY_ID"
SECRET_VARIABLE = "S3_SECRET_ACCESS_KEY"


def s3_disk_endpoint(disk_url: str, endpoint_url: str) -> str:
    """`CLICKHOUSE_S3_DISK_URL=s3://bucket[/prefix]` on `S3_ENDPOINT_URL` -> the disk's `http(s)://host/bucket/prefix/`."""
    parts = urlsplit(disk_url)
    if parts.scheme != "s3" or not parts.netloc:
        raise LayoutError(f"CLICKHOUSE_S3_DISK_URL={disk_url!r}: expected s3://bucket[/prefix]")
    if not endpoint_url:
        raise LayoutError("CLICKHOUSE_S3_DISK_URL is set but S3_ENDPOINT_URL is empty")
    base = endpoint_url if "://" in endpoint_url else f"http://{endpoint_url}"
    prefix = parts.path.strip("/")
    return f"{base.rstrip('/')}/{parts.netloc}/{prefix + '/' if prefix else ''}"


def chdb_storage_config(policy: str, endpoint: str, metadata_path: str, region: str = "") -> str:
    """A chDB config file defining `policy`: one S3 disk at `endpoint`, keys read by ClickHouse from the
    environment variables S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY when the engine starts (`from_env`).

    The file names the variables, never their values, and the table metadata only names the policy: measured on
    chDB 26.9, `SETTINGS disk = disk(type = s3, ..., secret_access_key = '...')` writes the key in clear text
    into the table's `.sql` under the warehouse folder (and refuses query parameters there), so the platform
    never uses an inline disk. S3 calls are bounded like the lake's reads (ingestion/common/raw_load.py).
    """
    _checked("CLICKHOUSE_STORAGE_POLICY", policy)
    region_line = f"<region>{escape(region)}</region>" if region else ""
    return f"""<clickhouse>
  <storage_configuration>
    <disks>
      <{policy}>
        <type>s3</type>
        <endpoint>{escape(endpoint)}</endpoint>
        <access_key_id from_env="{KEY_ID_VARIABLE}"/>
        <secret_access_key from_env="{SECRET_VARIABLE}"/>
        {region_line}
        <metadata_path>{escape(metadata_path.rstrip("/"))}/</metadata_path>
        <s3_max_single_read_retries>3</s3_max_single_read_retries>
        <retry_attempts>3</retry_attempts>
        <connect_timeout_ms>2000</connect_timeout_ms>
        <request_timeout_ms>30000</request_timeout_ms>
      </{policy}>
    </disks>
    <policies>
      <{policy}>
        <volumes><main><disk>{policy}</disk></main></volumes>
      </{policy}>
    </policies>
  </storage_configuration>
</clickhouse>
"""
