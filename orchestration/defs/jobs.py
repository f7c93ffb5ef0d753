"""The main job: every asset for a partition range in one run (the demo command launches it)."""

import dagster as dg

main_job = dg.define_asset_job(
    "importau_main",
    selection=dg.AssetSelection.all(),
    description="Everything, source to marts, for one partition range (single run: ranged API requests).",
)

jobs = [main_job]
