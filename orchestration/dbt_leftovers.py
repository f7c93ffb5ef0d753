"""Tables an interrupted dbt build left behind, dropped at the start of the next dbt step.

dbt-clickhouse builds a table model `m` as `m__dbt_backup` (then swaps it in with `EXCHANGE TABLES`), or as
`m__dbt_tmp` where it cannot exchange, and an incremental one through `m__dbt_new_data[_<invocation>]`
(`m__dbt_distributed_new_data`, `m__dbt_view_tmp` on a cluster). A build killed between the CREATE and the swap
leaves that table in the model's database until the model is built again (BI's grants name each mart, so it
cannot read it: dbt_project/roles/).

Only the leftovers of the models a step is about to build are dropped: another step (the incremental models,
another run) may be building its own models at this very moment, and its `__dbt_backup` is not a leftover.
`drop_dbt_leftovers` is plain SQL on a clickhouse-connect client; `drop_leftovers_before_dbt` runs it for a Dagster
step on the warehouse the step opened, and logs what it dropped. The step closes the warehouse again BEFORE dbt
starts: the dbt subprocess takes the embedded warehouse's lock itself, and chDB lets one process open the folder at
a time.
"""

import re
from collections.abc import Iterable

import dagster as dg

from ingestion.common.warehouse import Warehouse

# What dbt-clickhouse 1.10 appends to a model's name (make_backup_relation, make_intermediate_relation,
# make_temp_relation incl. a microbatch's `__dbt_tmp_<batch>`, the incremental materialization's new-data tables).
LEFTOVER_SUFFIXES = (
    "__dbt_backup",
    "__dbt_tmp",
    "__dbt_new_data",
    "__dbt_distributed_new_data",
    "__dbt_view_tmp",
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _leftover_of(name: str, model: str) -> bool:
    """`name` is `<model><suffix>` or `<model><suffix>_<id>` for a dbt-clickhouse suffix."""
    if not name.startswith(model):
        return False
    rest = name[len(model) :]
    return any(rest == suffix or rest.startswith(suffix + "_") for suffix in LEFTOVER_SUFFIXES)


def find_dbt_leftovers(client, models: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(database, table) of every leftover of these (database, model) relations, sorted; the models themselves
    are never in it, even if one model's name happens to be another's plus a suffix."""
    wanted = {(database, model) for database, model in models}
    databases = sorted({database for database, _ in wanted})
    if not databases:
        return []
    rows = client.query(
        "SELECT database, name FROM system.tables WHERE database IN {databases:Array(String)} "
        "AND match(name, '__dbt_')",
        parameters={"databases": databases},
    ).result_rows
    return sorted(
        (database, name)
        for database, name in rows
        if (database, name) not in wanted and any(_leftover_of(name, model) for db, model in wanted if db == database)
    )


def drop_dbt_leftovers(client, models: Iterable[tuple[str, str]], on_cluster: str = "") -> list[str]:
    """Drop the leftovers of these (database, model) relations; return them as `database.table`.

    `on_cluster` is the layout's ` ON CLUSTER ...` clause in cluster mode (dbt created them on every node)."""
    dropped = []
    for database, name in find_dbt_leftovers(client, models):
        if not (_IDENTIFIER.match(database) and _IDENTIFIER.match(name)):
            raise ValueError(f"not a plain identifier: {database}.{name}")
        client.command(f"DROP TABLE IF EXISTS `{database}`.`{name}`{on_cluster} SYNC")
        dropped.append(f"{database}.{name}")
    return dropped


def drop_leftovers_before_dbt(context: dg.AssetExecutionContext, wh: Warehouse) -> list[str]:
    """At the start of a dbt step, on the warehouse the step opened (and closes before dbt starts): drop the
    leftovers of the models it builds, log each.

    Asset keys of dbt models and seeds are `[database, table]` (orchestration/defs/dbt.py's translator).
    """
    models = [tuple(key.path) for key in context.selected_asset_keys if len(key.path) == 2]
    dropped = drop_dbt_leftovers(wh.client, models, on_cluster=wh.layout.on_cluster())
    for name in dropped:
        context.log.warning(f"dropped {name}, left behind by an interrupted dbt build")
    if not dropped:
        context.log.debug(f"no dbt leftovers among the {len(models)} relations of this step")
    return dropped
