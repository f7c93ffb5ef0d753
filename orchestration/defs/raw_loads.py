"""The raw-load step every source shares: replace the run's months in `raw.<source>__<entity>` from the lake.

One multi-asset per source (one step, one warehouse open, whatever the number of entities), subsettable so a
sensor or a person can load a single entity. For each selected entity it creates the table from the dataset's
Arrow schema on first use, then replaces the run's months atomically (`ingestion/common/raw_load.py`: side table,
then `REPLACE PARTITION`), and runs its `no_duplicate_keys` check (blocking) on the months it loaded. A raw table
may merge several lake datasets of one schema (`RawTable.more_lake_sources`: the ERP's file drops and its
PostgreSQL extraction both land versions of the same rows); its lake assets are then all its deps, and its
condition must not wait for every one of them (`merged_raw_load_condition`).
"""

from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg
import pyarrow as pa

from ingestion.common.raw_load import drop_stale_side_tables, ensure_raw_table, existing_columns, replace_partitions
from orchestration.automation_conditions import raw_load_condition
from orchestration.constants import OWNER, WAREHOUSE_POOL
from orchestration.defs.metadata import partition_dates, preview_markdown, run_owner, without_column
from orchestration.resources.lake import LakeResource
from orchestration.resources.warehouse import ClickHouseResource

NO_DUPLICATE_KEYS = "no_duplicate_keys"
# Every raw table a raw-load asset was built for, by table name (for tools that need all of them, such as the
# cluster DDL rendering test: tests/cluster/).
RAW_TABLES: dict[str, "RawTable"] = {}


@dataclass(frozen=True)
class RawTable:
    """One lake dataset and how its raw table is laid out."""

    entity: str
    schema: pa.Schema
    order_by: Sequence[str]
    low_cardinality: Sequence[str]
    description: str
    unique_key: Sequence[str] = ()  # columns no two rows share (may name `_partition_date`); empty = no check
    more_lake_sources: Sequence[str] = ()  # other lake datasets `<lake source>/<entity>` loaded into the same table

    @classmethod
    def of_dataset(cls, dataset, *, order_by: Sequence[str], unique_key: Sequence[str] = ()) -> "RawTable":
        """The raw table of a lake dataset that describes itself (`entity`, `schema`, `low_cardinality`,
        `description`: the BCB and Open Finance datasets), ordered by `order_by`."""
        return cls(
            entity=dataset.entity,
            schema=dataset.schema,
            order_by=order_by,
            low_cardinality=dataset.low_cardinality,
            description=dataset.description,
            unique_key=unique_key,
        )


def raw_key(source: str, entity: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", f"{source}__{entity}"])


def column_schema(client, name: str) -> dg.TableSchema:
    """The raw table's columns as Dagster's `dagster/column_schema` (what the schema-change checks compare)."""
    return dg.TableSchema(columns=[dg.TableColumn(column, type_) for column, type_ in existing_columns(client, name)])


def raw_load_assets(
    *,
    source: str,
    tables: Sequence[RawTable],
    partitions_def: dg.PartitionsDefinition,
    automation_condition: dg.AutomationCondition | None = None,
    group_name: str | None = None,
) -> dg.AssetsDefinition:
    """`<source>_raw_load`: the raw tables of one source as one subsettable multi-asset with its checks, in the
    group `group_name` (default: the source's name; a source named like a domain group takes another)."""
    by_key = {raw_key(source, table.entity): table for table in tables}
    RAW_TABLES.update({key.path[-1]: table for key, table in by_key.items()})
    specs = [
        dg.AssetSpec(
            key,
            deps=[
                dg.AssetKey(["lake", f"{lake_source}__{table.entity}"])
                for lake_source in (source, *table.more_lake_sources)
            ],
            group_name=group_name or source,
            kinds={"clickhouse"},
            owners=[OWNER],
            automation_condition=automation_condition or raw_load_condition(),
            description=f"{table.description} Loaded from the lake into raw.{key.path[-1]}.",
        )
        for key, table in by_key.items()
    ]
    check_specs = [
        dg.AssetCheckSpec(
            NO_DUPLICATE_KEYS,
            asset=key,
            blocking=True,
            description=f"No two rows of raw.{key.path[-1]} in the loaded months share "
            f"({', '.join(table.unique_key)}).",
        )
        for key, table in by_key.items()
        if table.unique_key
    ]

    @dg.multi_asset(
        name=f"{source}_raw_load",
        specs=specs,
        check_specs=check_specs,
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        can_subset=True,
    )
    def _raw_load(context: dg.AssetExecutionContext, warehouse: ClickHouseResource, lake: LakeResource):
        start, end = partition_dates(context)
        store = lake.get_lake()
        window = {"start": start, "end": end}
        with warehouse.open(owner=run_owner(context)) as wh:
            store.grant_clickhouse_access(wh.client, embedded=wh.is_embedded)
            for key, table in by_key.items():
                if key not in context.selected_asset_keys:
                    continue
                name = key.path[-1]
                ensure_raw_table(
                    wh.client,
                    name,
                    table.schema,
                    list(table.order_by),
                    list(table.low_cardinality),
                    layout=wh.layout,
                )
                for stale in drop_stale_side_tables(wh.client, name, layout=wh.layout):
                    context.log.warning(f"dropped raw.{stale}, left behind by an interrupted load")
                readers, days = [], []
                for lake_source in (source, *table.more_lake_sources):
                    found = [day for day in store.list_partitions(lake_source, table.entity) if start <= day <= end]
                    if found:
                        readers.append(store.clickhouse_reader(lake_source, table.entity))
                        days += found
                rows = replace_partitions(wh.client, name, readers, start, end, layout=wh.layout)
                preview = wh.query_arrow(
                    f"SELECT * FROM raw.{name} WHERE _partition_date BETWEEN %(start)s AND %(end)s LIMIT 5",
                    parameters=window,
                )
                yield dg.MaterializeResult(
                    asset_key=key,
                    metadata={
                        "row_count": rows,
                        "lake_objects": len(days),
                        "table": f"raw.{name}",
                        "dagster/column_schema": column_schema(wh.client, name),
                        # raw_json (Open Finance keeps each record as sent) is too wide for a preview
                        "preview": dg.MetadataValue.md(preview_markdown(without_column(preview, "raw_json"))),
                    },
                )
                check_key = dg.AssetCheckKey(key, NO_DUPLICATE_KEYS)
                if table.unique_key and check_key in context.selected_asset_check_keys:
                    yield _no_duplicate_keys(wh, key, table.unique_key, window)

    return _raw_load


def _no_duplicate_keys(wh, key: dg.AssetKey, unique_key: Sequence[str], window: dict) -> dg.AssetCheckResult:
    columns = ", ".join(unique_key)
    rows, distinct = wh.query_rows(
        f"SELECT count(), uniqExact(tuple({columns})) FROM raw.{key.path[-1]} "
        "WHERE _partition_date BETWEEN %(start)s AND %(end)s",
        parameters=window,
    )[0]
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=NO_DUPLICATE_KEYS,
        passed=rows == distinct,
        metadata={"rows": rows, "duplicates": rows - distinct},
    )
