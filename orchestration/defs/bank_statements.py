"""The banks' statement files (OFX, CNAB 240) dropped into the bank inbox: into the lake, and their raw load.

`bank_statement_file_drop` is one multi-asset over `lake/bank_statement__<entity>` (accounts, balances,
transactions): each run processes every file waiting in the bank statements inbox, oldest first
(`ingestion/bank_statements/filedrop.py`: parse, check the trailers and every record against the contract, stamp
the landed ones with the file's arrival, quarantine the bad ones with their line and reason, move the file to
processed/ or quarantine/, never load the same bytes twice) and appends what landed to the lake object of the load
day, as the ERP and customs file drops do. `bank_statement_raw_load` is the source's one raw-load step
(raw_loads.py). Both sit in the group `bank_statements`.
"""

from datetime import timedelta

import dagster as dg

from ingestion.bank_statements import contracts, filedrop
from ingestion.erp.state import FileRegistry
from orchestration.defs import file_drops
from orchestration.defs.metadata import partition_dates, sao_paulo_today
from orchestration.defs.raw_loads import raw_load_assets
from orchestration.partitions import erp_partitions
from orchestration.resources.bank_statements import BankStatementsResource
from orchestration.resources.lake import LakeResource

SOURCE = contracts.SOURCE
GROUP = "bank_statements"


@dg.multi_asset(
    name="bank_statement_file_drop",
    specs=file_drops.lake_specs(
        contracts,
        GROUP,
        lambda entity: f"Bank {entity} from the banks' statement files (OFX, CNAB 240) in the bank inbox.",
    ),
    partitions_def=erp_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def bank_statement_file_drop(
    context: dg.AssetExecutionContext, bank_statements: BankStatementsResource, lake: LakeResource
):
    _, end = partition_dates(context)
    day = min(end, sao_paulo_today())  # the load day: today, or the range's last day in a backfill
    registry = FileRegistry(bank_statements.state_dir())
    landing = file_drops.ParsedLanding(lake.get_lake(), contracts, day)
    results = filedrop.process_many(filedrop.scan(bank_statements.inbox()), registry, landing.land)
    yield from landing.materializations(context, results)


raw_load = raw_load_assets(
    source=SOURCE,
    group_name=GROUP,
    tables=file_drops.raw_tables(
        contracts,
        lambda entity: (
            f"Bank {entity} read from the statement files, every landed record with its file and "
            "arrival (staging keeps one row per key)."
        ),
        key_prefix=("statement_format",),
        more_low_cardinality=("institution", "currency"),
    ),
    partitions_def=erp_partitions,
)


@file_drops.inbox_sensor("bank_statement_file_drop_sensor", bank_statement_file_drop)
def bank_statement_file_drop_sensor(context: dg.SensorEvaluationContext, bank_statements: BankStatementsResource):
    """New files in the bank statements inbox -> one run for the current month (run key: the files' hashes and
    times)."""
    waiting = filedrop.scan(bank_statements.inbox(), min_age=timedelta(seconds=30))
    return file_drops.inbox_run_request(waiting, bank_statements.inbox())


assets = [bank_statement_file_drop, raw_load]
sensors = [bank_statement_file_drop_sensor]
