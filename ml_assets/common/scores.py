"""The `ml.<model>__scores` tables: one row per scored entity, each naming the model version. No Dagster.

Every scores table ends with the same four columns: `model_name`, `model_version`, `model_kind` (`model`, or
`baseline` while the backtest's baseline serves because no model beats it: ml_assets/common/baseline.py) and
`scored_at`. A table created before `model_kind` existed gets it (default `model`, which every earlier row was)
the first time it is written. A scoring
run replaces what it rescored: the rows whose `replace_by` columns hold values of the new batch (e.g. the same
`as_of_date`), or the whole table when `replace_by` is empty (a table that keeps only the latest scores). The
delete is a synchronous lightweight DELETE, then one INSERT; `client` is a clickhouse-connect client (chDB or a
server), so this works on both. `layout` (ingestion/common/table_layout.py) puts the CREATEs `ON CLUSTER` with a
ReplicatedMergeTree on a cluster; the DELETE, TRUNCATE and INSERT run on the connected node and replicate.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ingestion.common.table_layout import TableLayout
from ml_assets.common.registry import KIND_BASELINE, KIND_MODEL

SCORE_COLUMNS = (
    ("model_name", "LowCardinality(String)"),
    ("model_version", "LowCardinality(String)"),
    ("model_kind", "LowCardinality(String)"),
    ("scored_at", "DateTime64(3, 'UTC')"),
)
KIND_COLUMN = "model_kind"
KINDS = (KIND_MODEL, KIND_BASELINE)
DATABASE = "ml"
DELETE_SETTINGS = {"lightweight_deletes_sync": 2}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ScoresSchemaError(RuntimeError):
    """The scores table exists with other columns than its definition."""


def _identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return name


@dataclass(frozen=True)
class ScoresTable:
    """`ml.<model_name>__scores`: the model's own columns (ClickHouse types spelled as system.columns prints them)."""

    model_name: str
    columns: tuple[tuple[str, str], ...]
    order_by: tuple[str, ...]
    replace_by: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{_identifier(self.model_name)}__scores"

    @property
    def qualified(self) -> str:
        return f"{DATABASE}.{self.name}"

    @property
    def all_columns(self) -> list[tuple[str, str]]:
        return [*self.columns, *SCORE_COLUMNS]

    def ddl(self, layout: TableLayout | None = None) -> str:
        names = dict(self.all_columns)
        for column in (*self.order_by, *self.replace_by):
            if column not in names:
                raise ValueError(f"{column!r} is not a column of {self.qualified}")
        body = ",\n    ".join(f"`{_identifier(name)}` {type_}" for name, type_ in self.all_columns)
        order = ", ".join(f"`{name}`" for name in self.order_by)
        layout = layout or TableLayout()
        return (
            f"CREATE TABLE IF NOT EXISTS {self.qualified}{layout.on_cluster()} (\n    {body}\n) "
            f"ENGINE = {layout.engine('MergeTree')}\nORDER BY ({order})"
        )


def _columns(client, table: ScoresTable) -> list[tuple[str, str]]:
    return [
        (name, type_)
        for name, type_ in client.query(
            "SELECT name, type FROM system.columns WHERE database = {d:String} AND table = {t:String} "
            "ORDER BY position",
            parameters={"d": DATABASE, "t": table.name},
        ).result_rows
    ]


def ensure_table(client, table: ScoresTable, layout: TableLayout | None = None) -> None:
    """Create the table if missing; if it exists, it must have exactly these columns in this order.

    The one migration done here: a table written before `model_kind` existed gets the column, right after
    `model_version`, with the default `model` (before baselines could serve, only trained models scored)."""
    layout = layout or TableLayout()
    client.command(f"CREATE DATABASE IF NOT EXISTS {DATABASE}{layout.on_cluster()}")
    client.command(table.ddl(layout))
    found = _columns(client, table)
    if found == [column for column in table.all_columns if column[0] != KIND_COLUMN]:
        client.command(
            f"ALTER TABLE {table.qualified}{layout.on_cluster()} ADD COLUMN IF NOT EXISTS `{KIND_COLUMN}` "
            f"{dict(SCORE_COLUMNS)[KIND_COLUMN]} DEFAULT '{KIND_MODEL}' AFTER `model_version`"
        )
        found = _columns(client, table)
    if found != table.all_columns:
        raise ScoresSchemaError(
            f"{table.qualified} has columns {found}, expected {table.all_columns}: drop it (scores are "
            "recomputed by the next scoring run) or migrate it"
        )


def write_scores(
    client,
    table: ScoresTable,
    rows: Sequence[Mapping],
    model_version: str,
    scored_at: datetime | None = None,
    layout: TableLayout | None = None,
    model_kind: str = KIND_MODEL,
) -> int:
    """Replace the batch's slice of the table with `rows` (dicts keyed by the model's columns); returns the count.

    `model_kind`: what the version that scored is, `model` or `baseline` (its MLflow `importau.kind` tag)."""
    if model_kind not in KINDS:
        raise ValueError(f"model_kind must be one of {KINDS}, not {model_kind!r}")
    ensure_table(client, table, layout)
    scored_at = scored_at or datetime.now(UTC)
    own = [name for name, _ in table.columns]
    records = []
    for row in rows:
        missing = [name for name in own if name not in row]
        if missing:
            raise ValueError(f"a row for {table.qualified} lacks {missing}")
        records.append([row[name] for name in own] + [table.model_name, str(model_version), model_kind, scored_at])
    if table.replace_by:
        keys = sorted({tuple(row[name] for name in table.replace_by) for row in rows})
        for values in keys:
            condition = " AND ".join(
                f"`{name}` = {{v{i}:{_param_type(table, name)}}}" for i, name in enumerate(table.replace_by)
            )
            client.command(
                f"DELETE FROM {table.qualified} WHERE {condition}",
                parameters={f"v{i}": value for i, value in enumerate(values)},
                settings=DELETE_SETTINGS,
            )
    else:
        client.command(f"TRUNCATE TABLE {table.qualified}")
    if records:
        client.insert(table.qualified, records, column_names=[*own, *(name for name, _ in SCORE_COLUMNS)])
    return len(records)


def _param_type(table: ScoresTable, column: str) -> str:
    type_ = dict(table.all_columns)[column]
    return type_.removeprefix("LowCardinality(").removesuffix(")") if type_.startswith("LowCardinality(") else type_
