"""The main job: every asset for a partition range in one run (the demo command launches it)."""

import dagster as dg

from orchestration.partitions import bcb_daily_partitions

main_job = dg.define_asset_job(
    "importau_main",
    selection=dg.AssetSelection.all(),
    partitions_def=bcb_daily_partitions,
    description="Everything, source to marts, for one partition range (single run: ranged API requests).",
)

jobs = [main_job]
