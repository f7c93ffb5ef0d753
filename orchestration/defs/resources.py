"""Every resource bound once, every value from the environment when used (defaults in the settings registry)."""

from orchestration.dbt_manifest import dbt_executable
from orchestration.defs.dbt import dbt_project
from orchestration.resources.airbyte import AirbyteResource
from orchestration.resources.alerts import AlertWebhookResource
from orchestration.resources.bank_statements import BankStatementsResource
from orchestration.resources.bcb import BcbApiResource
from orchestration.resources.customs import CustomsResource
from orchestration.resources.dbt_cli import DbtCli
from orchestration.resources.erp import ErpResource
from orchestration.resources.lake import LakeResource
from orchestration.resources.mlflow import MLflowResource
from orchestration.resources.open_finance import OpenFinanceResource
from orchestration.resources.pluggy import PluggyResource
from orchestration.resources.warehouse import ClickHouseResource

# No value is bound here: each resource reads its variables (its `ENV`) through the settings registry
# (ingestion/common/settings_registry.py: the environment, else the registry's default) when a step uses it, so
# importing the definitions reads no resource setting and changes no environment, and no secret enters a run's
# resource config.
resources = {
    "warehouse": ClickHouseResource(),
    "lake": LakeResource(),
    "bcb": BcbApiResource(),
    # Certificate/key paths and first grants are read from the environment at pull time, never config fields.
    "open_finance": OpenFinanceResource(),
    # PLUGGY_CLIENT_SECRET is read when a pull starts, never a config field.
    "pluggy": PluggyResource(),
    "customs": CustomsResource(),
    "bank_statements": BankStatementsResource(),
    "erp": ErpResource(),
    "airbyte": AirbyteResource(),
    "mlflow": MLflowResource(),
    "alerts": AlertWebhookResource(),
    "dbt": DbtCli(project_dir=dbt_project, dbt_executable=dbt_executable()),
}
