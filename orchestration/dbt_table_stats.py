"""Row counts and a preview on every dbt model's (and seed's) materialization, as the raw and score assets have.

dagster-dbt puts the columns and the run's duration on a model's materialization, not what the table holds. Its
own `fetch_row_counts()` queries through the dbt adapter in the Dagster process, which the chDB bridge does not
give it. So the dbt step asks the warehouse itself, once per model dbt built: `dagster/row_count` (the number the
UI shows on the asset page and in the catalog) and the first rows as a Markdown preview.

- Tables and incremental models: `count()` and `LIMIT 5` read stored parts, cheap at any size.
- Views: reading one runs its whole chain of views (issue 10 measured 220 s for the data tests that did this),
  so a view is read ONCE, the count beside the first rows (`count() OVER ()`; a separate `count()` ran the chain a
  second time: 1.6-1.7 s of the 3.6 s the 13 views of a daily took). That holds the view's whole result in memory
  until it answers, so it runs under a time and a memory bound (`VIEW_STATS_SECONDS`, `VIEW_STATS_MEMORY`); a view
  that cannot answer within them gets `row_count_skipped` saying why, and the run goes on.
- Distributed tables (a cluster): `count()` (each shard counts its parts) and `LIMIT 5`, under the time bound.
- A model the daily build left out (its table unchanged, orchestration/dbt_build_state.py) is not queried: it
  carries the numbers of its last materialization.
- On the embedded warehouse the dbt subprocess holds the chDB folder until it exits, so the step keeps dbt's
  events until then and adds the numbers after (the materializations appear when dbt ends, seconds later). On a
  server the numbers are added as each event arrives.
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import dagster as dg

from orchestration.defs.metadata import preview_markdown

PREVIEW_ROWS = 5
VIEW_STATS_SECONDS = 10
COUNT_COLUMN = "__importau_row_count"  # beside a view's own columns in its one stats query
# `count() OVER ()` holds the view's whole result (every column) until it answers: a view larger than this is
# skipped with its reason rather than grow the step's process.
VIEW_STATS_MEMORY = 1 << 30
STORED = {"table", "incremental", "seed", "materialized_view", "dictionary"}
REBUILT_KEY = "importau/rebuilt"  # False on a model the daily build left out (orchestration/dbt_build_state.py)
CARRIED = ("dagster/row_count", "preview", "row_count_skipped")  # what a left-out model keeps from its last build


@dataclass(frozen=True)
class Relation:
    database: str
    name: str
    materialized: str

    @property
    def qualified(self) -> str:
        return f"`{self.database}`.`{self.name}`"


def model_relations(manifest: Mapping) -> dict[str, Relation]:
    """unique_id -> the ClickHouse relation of every model and seed in the (parsed) manifest (its `schema` is its
    database)."""
    nodes = manifest["nodes"]
    return {
        unique_id: Relation(node["schema"], node.get("alias") or node["name"], node["config"]["materialized"])
        for unique_id, node in nodes.items()
        if node["resource_type"] in ("model", "seed")
    }


def table_stats(warehouse, relation: Relation, view_seconds: float = VIEW_STATS_SECONDS) -> dict:
    """`dagster/row_count` and a preview of one relation; a view read once, bounded by `view_seconds` and
    `VIEW_STATS_MEMORY`."""
    try:
        if relation.materialized == "view":
            preview = warehouse.query_arrow(
                f"SELECT *, count() OVER () AS {COUNT_COLUMN} FROM {relation.qualified} LIMIT {PREVIEW_ROWS}",
                settings={"max_execution_time": view_seconds, "max_memory_usage": VIEW_STATS_MEMORY},
            )
            counts = preview.column(COUNT_COLUMN).to_pylist()
            count, preview = (counts[0] if counts else 0), preview.drop_columns([COUNT_COLUMN])
        else:  # stored: count() from the parts' row counts; a distributed table: each shard counts its own
            settings = {} if relation.materialized in STORED else {"max_execution_time": view_seconds}
            count = warehouse.query_rows(f"SELECT count() FROM {relation.qualified}", settings=settings)[0][0]
            preview = warehouse.query_arrow(
                f"SELECT * FROM {relation.qualified} LIMIT {PREVIEW_ROWS}", settings=settings
            )
    except Exception as error:  # a slow or broken view must not fail the step that built it
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
        return {"row_count_skipped": f"{relation.materialized} {relation.qualified}: {first_line}"}
    return {
        "dagster/row_count": int(count),
        "preview": dg.MetadataValue.md(preview_markdown(preview, rows=PREVIEW_ROWS)),
    }


def _with_stats(event, relations: Mapping[str, Relation], warehouse):
    if not isinstance(event, dg.Output | dg.AssetMaterialization):
        return event
    if getattr(event.metadata.get(REBUILT_KEY), "value", None) is False:
        return event  # left out by the daily build: it carries its last build's numbers (orchestration/defs/dbt.py)
    unique_id = event.metadata.get("unique_id")
    relation = relations.get(getattr(unique_id, "value", unique_id))
    if relation is None:
        return event
    return event.with_metadata({**event.metadata, **table_stats(warehouse, relation)})


def with_table_stats(events: Iterable, relations: Mapping[str, Relation], open_warehouse, embedded: bool) -> Iterator:
    """dbt's events, each model's materialization with its row count and preview.

    `open_warehouse()` is a context manager giving the warehouse. Embedded: the events are kept until dbt has
    exited (it holds the folder), then enriched; if dbt failed, its events are still yielded before its error is
    raised again, so the models it did build are recorded. A server: enriched as they arrive.
    """
    failure = None
    if embedded:
        kept = []
        try:
            for event in events:
                kept.append(event)
        except Exception as error:  # dbt failed (a test, a model): what it built is still reported, then the error
            failure = error
        events = kept
    with open_warehouse() as warehouse:
        for event in events:
            yield _with_stats(event, relations, warehouse)
    if failure is not None:
        raise failure
