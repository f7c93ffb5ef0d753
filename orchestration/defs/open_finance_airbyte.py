"""Airbyte-managed mode: when the bank connectors run in Airbyte, trigger the connection, wait, then land its output.

The connection writes to `<lake>/airbyte/open_finance/<stream>/` (folder lake); this asset maps each stream to
our entity with the same parser as the direct client and writes `<lake>/open_finance_airbyte/<entity>/dt=<day>/`.
It is its own group, outside the demo's main path: it runs only where an Airbyte connection is configured. Its
`lake_quality` check (defs/lake_quality.py) judges every dataset it wrote, for the landing day's month.
"""

import dagster as dg

from ingestion.common.clock import sao_paulo_today
from ingestion.open_finance.airbyte import (
    DEFAULT_STREAMS,
    AirbyteError,
    AirbyteOutputMissing,
    entity_table,
    read_airbyte_output,
)
from orchestration.constants import OWNER
from orchestration.defs import lake_quality
from orchestration.resources.airbyte import AirbyteResource
from orchestration.resources.lake import LakeResource

SOURCE = "open_finance_airbyte"


AIRBYTE_SYNC = dg.AssetKey(["lake", "open_finance__airbyte_sync"])


@dg.asset(
    key=AIRBYTE_SYNC,
    group_name="airbyte",
    kinds={"airbyte", "parquet"},
    owners=[OWNER],
    check_specs=lake_quality.check_specs([AIRBYTE_SYNC]),
)
def open_finance__airbyte_sync(
    context: dg.AssetExecutionContext, airbyte: AirbyteResource, lake: LakeResource
) -> dg.MaterializeResult:
    """Open Finance through the company's Airbyte connection: one sync, then its output as our entity datasets."""
    if not airbyte.configured():
        raise dg.Failure(
            description="Airbyte mode is not configured: set AIRBYTE_SERVER_URL and AIRBYTE_OPEN_FINANCE_CONNECTION_ID "
            "(and AIRBYTE_CLIENT_ID/AIRBYTE_CLIENT_SECRET or AIRBYTE_API_TOKEN)."
        )
    try:
        job = airbyte.sync().run_sync()
    except AirbyteError as error:
        raise dg.Failure(description=str(error)) from error
    context.log.info(f"Airbyte job {job.job_id} on connection {job.connection_id}: {job.status}")
    store = lake.get_lake()
    day = sao_paulo_today()
    rows, quarantined = {}, 0
    for entity in DEFAULT_STREAMS:
        try:
            landed = read_airbyte_output(store, entity)
        except AirbyteOutputMissing:
            continue
        parsed = entity_table(entity, airbyte.institution, landed)
        store.write_partition(SOURCE, entity, day, parsed.table)
        store.write_quarantine(SOURCE, entity, day, parsed.quarantine)
        rows[entity], quarantined = parsed.table.num_rows, quarantined + len(parsed.quarantine)
    # the month of the landing day, against the latest earlier month with data
    quality, check = lake_quality.assess_datasets(store, SOURCE, list(rows), AIRBYTE_SYNC, day.replace(day=1), day)
    return dg.MaterializeResult(
        metadata={
            **job.metadata(),
            "rows_by_entity": dg.MetadataValue.json(rows),
            "quarantined": quarantined,
            **quality,
        },
        check_results=[check],
    )


assets = [open_finance__airbyte_sync]
