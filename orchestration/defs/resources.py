"""Every resource bound once, every value from the environment when used (defaults in the settings registry)."""

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource

from orchestration.defs.dbt import dbt_project
from orchestration.resources.airbyte import AirbyteResource
from orchestration.resources.alerts import AlertWebhookResource
from orchestration.resources.bcb import BcbApiResource
from orchestration.resources.customs import CustomsResource
from orchestration.resources.erp import ErpResource
from orchestration.resources.lake import LakeResource
from orchestration.resources.mlflow import MLflowResource
from orchestration.resources.open_finance import OpenFinanceResource
from orchestration.resources.warehouse import ClickHouseResource


def _dbt_executable() -> str:
    """dbt through the chDB bridge (orchestration/dbt_chdb.py), installed next to this interpreter."""
    beside = Path(sys.executable).with_name("importau-dbt")
    return str(beside) if beside.exists() else (shutil.which("importau-dbt") or "importau-dbt")


# No value is bound here: each resource reads its variables (its `ENV`) through the settings registry
# (ingestion/common/settings_registry.py: the environment, else the registry's default) when a step uses it, so
# importing the definitions reads and changes no environment, and no secret enters a run's resource config.
resources = {
    "warehouse": ClickHouseResource(),
    "lake": LakeResource(),
    "bcb": BcbApiResource(),
    # Certificate/key paths and first grants are read from the environment at pull time, never config fields.
    "open_finance": OpenFinanceResource(),
    "customs": CustomsResource(),
    "erp": ErpResource(),
    "airbyte": AirbyteResource(),
    "mlflow": MLflowResource(),
    "alerts": AlertWebhookResource(),
    "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=_dbt_executable()),
}
