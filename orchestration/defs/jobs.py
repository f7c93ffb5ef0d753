"""The main jobs: every asset, source by source, then the transformations (the demo command runs them in order).

Each source has its own monthly partitions (its own first servable month), and one Dagster run can only carry one
partitions definition, so the main path is one single-run backfill per source for the date range, then one
unpartitioned run of dbt (seeds, staging, intermediate, marts) and what follows it.
"""

import dagster as dg

from orchestration.dbt_build_state import BUILD_TAG, CHANGED
from orchestration.defs.bcb import FRESHNESS_CHECKS
from orchestration.defs.ml import SPECS as ML_MODELS
from orchestration.run_resources import k8s_run_tags

# (job name, asset group) of each partitioned source, in the order the demo runs them.
SOURCE_JOBS = [
    ("ingest_bcb", "bcb"),
    ("ingest_open_finance", "open_finance"),
    ("ingest_erp", "erp"),
    ("ingest_customs", "customs_files"),
    ("ingest_bank_statements", "bank_statements"),
]

source_jobs = [
    dg.define_asset_job(
        name,
        # The wall-clock freshness checks are the freshness sensor's (defs/bcb.py), not a backfill's.
        selection=dg.AssetSelection.groups(group) - FRESHNESS_CHECKS,
        description=f"Every {group} lake and raw-load asset for a partition range, in one run (ranged requests).",
        tags=k8s_run_tags("ingestion"),  # the pod's size on Kubernetes (orchestration/run_resources.py)
    )
    for name, group in SOURCE_JOBS
]

# Assets that only run where their system is configured (Airbyte-managed Open Finance, the ERP's PostgreSQL,
# Pluggy: `ingest_pluggy` in defs/pluggy.py),
# never in the main path.
OPTIONAL_GROUPS = ["airbyte", "erp_postgres", "pluggy"]

transform_job = dg.define_asset_job(
    "transform",
    selection=dg.AssetSelection.all()
    - dg.AssetSelection.groups(*(group for _, group in SOURCE_JOBS), *OPTIONAL_GROUPS),
    description="dbt seeds, staging, intermediate and marts (and what follows them), unpartitioned.",
    tags=k8s_run_tags("transform"),
)

# The same without training and scoring (assets of kind `mlflow`): for short date ranges, whose history is too
# short for the models' walk-forward backtests (training then fails with a clear "not enough history" error).
# The recommendations still build, from whatever scores the `ml` tables already hold.
transform_without_ml_job = dg.define_asset_job(
    "transform_without_ml",
    selection=dg.AssetSelection.all()
    - dg.AssetSelection.groups(*(group for _, group in SOURCE_JOBS), *OPTIONAL_GROUPS)
    - dg.AssetSelection.kind("mlflow"),
    description="dbt seeds, staging, intermediate and marts, without ML training and scoring, unpartitioned.",
    tags=k8s_run_tags("transform"),
)

# What a normal day runs after its sources, as the automation sensors do: dbt, the scoring of every model with
# its current champion, and the recommendations. Training and its promotion check stay on the weekly cron
# (`training_condition`); the daily benchmark and `importau soak` use this job. Its dbt steps leave out the models,
# seeds and data tests that succeeded on the same inputs (the run tag, orchestration/dbt_build_state.py): a quiet
# source costs no rebuild and no test.
TRAINING = dg.AssetSelection.assets(*(spec.model_key for spec in ML_MODELS))
transform_daily_job = dg.define_asset_job(
    "transform_daily",
    selection=dg.AssetSelection.all()
    - dg.AssetSelection.groups(*(group for _, group in SOURCE_JOBS), *OPTIONAL_GROUPS)
    - TRAINING,
    description=(
        "The daily transformation: dbt, ML scoring and recommendations; training stays on its weekly cron. The "
        "models, seeds and data tests that succeeded on the same raw rows and project are left out "
        "(orchestration/dbt_build_state.py)."
    ),
    tags={**k8s_run_tags("transform"), BUILD_TAG: CHANGED},
)

jobs = [*source_jobs, transform_job, transform_without_ml_job, transform_daily_job]
