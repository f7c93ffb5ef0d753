"""The raw-load asset every source shares: replace the run's days in `raw.<source>__<entity>` from the lake.

One `INSERT ... SELECT` over the lake's Parquet objects for the partition range, after deleting those days
(`ingestion/common/raw_load.py`). The table is created from the dataset's Arrow schema on first use.
"""

from collections.abc import Sequence

import dagster as dg
import pyarrow as pa

from ingestion.common.raw_load import ensure_raw_table, replace_partitions
from orchestration.automation_conditions import raw_load_condition
from orchestration.constants import OWNER, WAREHOUSE_POOL
from orchestration.defs.metadata import partition_dates, preview_markdown, run_owner, without_column
from orchestration.resources.lake import LakeResource
from orchestration.resources.warehouse import ClickHouseResource


def raw_load_asset(
    *,
    source: str,
    entity: str,
    schema: pa.Schema,
    order_by: Sequence[str],
    low_cardinality: Sequence[str],
    partitions_def: dg.PartitionsDefinition,
    description: str,
) -> dg.AssetsDefinition:
    name = f"{source}__{entity}"

    @dg.asset(
        name=name,
        key_prefix="raw",
        deps=[dg.AssetKey(["lake", name])],
        group_name=source,
        kinds={"clickhouse"},
        owners=[OWNER],
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        automation_condition=raw_load_condition(),
        description=f"{description} Loaded from the lake into raw.{name}.",
    )
    def _raw(context: dg.AssetExecutionContext, warehouse: ClickHouseResource, lake: LakeResource):
        start, end = partition_dates(context)
        store = lake.get_lake()
        with warehouse.open(owner=run_owner(context)) as wh:
            store.grant_clickhouse_access(wh.client)
            ensure_raw_table(wh.client, name, schema, list(order_by), list(low_cardinality))
            inserted = replace_partitions(wh.client, name, store.clickhouse_reader(source, entity), start, end)
            preview = wh.query_arrow(
                f"SELECT * FROM raw.{name} WHERE _partition_date BETWEEN %(start)s AND %(end)s LIMIT 5",
                parameters={"start": start, "end": end},
            )
        return dg.MaterializeResult(
            metadata={
                "row_count": inserted,
                "table": f"raw.{name}",
                # raw_json (Open Finance keeps each record as sent) is too wide for a preview
                "preview": dg.MetadataValue.md(preview_markdown(without_column(preview, "raw_json"))),
            }
        )

    return _raw
