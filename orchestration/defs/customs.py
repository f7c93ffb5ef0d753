"""The official customs declarations: the broker's file drops (DI XML, DUIMP JSON) into the lake, and their raw load.

`customs_file_drop` is one multi-asset over `lake/customs__<entity>` (declarations, declaration_items, taxes_paid):
each run processes every file waiting in the customs inbox, oldest first (`ingestion/customs/filedrop.py`: parse,
check every record against the customs contract, stamp the landed ones with the file's arrival, quarantine the bad
ones with their reasons, move the file to processed/ or quarantine/, never load the same bytes twice) and appends
what landed to the lake object of the load day, as the ERP file drop does (erp.py). `customs_raw_load` is the
source's one raw-load step (raw_loads.py). With `CUSTOMS_SOURCE=portal` the same asset asks the Portal Único API
instead (`ingestion/customs/portal_unico.py`, mutual TLS) for every DUIMP the ERP holds (its file-drop dataset
`erp/import_declarations`), and lands each answer through the same reading, contract, quarantine and registry as a
file: one contract, the same lake datasets and raw tables. Both sit in the group `customs_files`: the group
`customs` is the domain (landed cost, reconciliation), which reads these through staging.
"""

from datetime import timedelta

import dagster as dg

from ingestion.customs import contracts, filedrop, portal_unico
from ingestion.erp.state import FileRegistry
from orchestration.defs import file_drops
from orchestration.defs.metadata import partition_dates, sao_paulo_today
from orchestration.defs.raw_loads import raw_load_assets
from orchestration.partitions import erp_partitions
from orchestration.resources.customs import CustomsResource
from orchestration.resources.lake import LakeResource

SOURCE = contracts.SOURCE
ERP_SOURCE = "erp"
GROUP = "customs_files"


def _erp_duimps(store) -> list[str]:
    """The DUIMPs the ERP holds (its file-drop dataset `erp/import_declarations`): what to ask the portal for."""
    found = set()
    for day in store.list_partitions(ERP_SOURCE, "import_declarations"):
        table = store.read_partition(ERP_SOURCE, "import_declarations", day)
        for declaration_id, kind in zip(
            table["declaration_id"].to_pylist(), table["declaration_type"].to_pylist(), strict=True
        ):
            if kind == "DUIMP":
                found.add(declaration_id)
    return sorted(found)


@dg.multi_asset(
    name="customs_file_drop",
    specs=file_drops.lake_specs(
        contracts,
        GROUP,
        lambda entity: (
            f"Official customs {entity.replace('_', ' ')} from the broker's DI XML / DUIMP JSON files, "
            "or from the Portal Único API (CUSTOMS_SOURCE=portal)."
        ),
    ),
    partitions_def=erp_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def customs_file_drop(context: dg.AssetExecutionContext, customs: CustomsResource, lake: LakeResource):
    _, end = partition_dates(context)
    day = min(end, sao_paulo_today())  # the load day: today, or the range's last day in a backfill
    store = lake.get_lake()
    registry = FileRegistry(customs.state_dir())
    landing = file_drops.ParsedLanding(store, contracts, day)

    if customs.use_portal():
        wanted = _erp_duimps(store)
        stopped = None
        with portal_unico.PortalClient(portal_unico.PortalConfig.from_env()) as client:
            try:
                fetched = portal_unico.land(client, wanted, registry, landing.land)
            except portal_unico.PortalStopped as error:  # what landed before the error is reported, then it fails
                fetched, stopped = error.landed, error
        for missing in (outcome for outcome in fetched if outcome.result is None):
            context.log.warning(f"{missing.declaration_id}: {missing.error}")
        results = [outcome.result for outcome in fetched if outcome.result is not None]
        if stopped is not None:
            yield from landing.materializations(context, results, source=customs.setting("source"))
            raise stopped
    else:
        results = filedrop.process_many(filedrop.scan(customs.inbox()), registry, landing.land)
    yield from landing.materializations(context, results, source=customs.setting("source"))


raw_load = raw_load_assets(
    source=SOURCE,
    group_name=GROUP,
    tables=file_drops.raw_tables(
        contracts,
        lambda entity: (
            f"Official customs {entity.replace('_', ' ')}, every landed version with its arrival "
            "(staging keeps the latest version)."
        ),
    ),
    partitions_def=erp_partitions,
)


@file_drops.inbox_sensor("customs_file_drop_sensor", customs_file_drop)
def customs_file_drop_sensor(context: dg.SensorEvaluationContext, customs: CustomsResource):
    """New files in the customs inbox -> one run for the current month (run key: the files' hashes and times)."""
    if customs.use_portal():
        return dg.SkipReason("CUSTOMS_SOURCE=portal: the declarations come from the Portal Único, not the inbox")
    return file_drops.inbox_run_request(filedrop.scan(customs.inbox(), min_age=timedelta(seconds=30)), customs.inbox())


assets = [customs_file_drop, raw_load]
sensors = [customs_file_drop_sensor]
