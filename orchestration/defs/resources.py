"""Every resource bound once, every value from the environment (defaults in orchestration/env_defaults.py)."""

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.dbt_manifest import dbt_executable
from orchestration.defs.dbt import dbt_project
from orchestration.resources.airbyte import AirbyteResource
from orchestration.resources.alerts import AlertWebhookResource
from orchestration.resources.bank_statements import BankStatementsResource
from orchestration.resources.bcb import BcbApiResource
from orchestration.resources.customs import CustomsResource
from orchestration.resources.erp import ErpResource
from orchestration.resources.lake import LakeResource
from orchestration.resources.mlflow import MLflowResource
from orchestration.resources.open_finance import OpenFinanceResource
from orchestration.resources.pluggy import PluggyResource
from orchestration.resources.warehouse import ClickHouseResource

resources = {
    "warehouse": ClickHouseResource(
        url=dg.EnvVar("CLICKHOUSE_URL"),
        data_dir=dg.EnvVar("IMPORTAU_DATA_DIR"),
        cluster=dg.EnvVar("CLICKHOUSE_CLUSTER"),
        storage_policy=dg.EnvVar("CLICKHOUSE_STORAGE_POLICY"),
    ),
    "lake": LakeResource(
        url=dg.EnvVar("LAKE_URL"),
        data_dir=dg.EnvVar("IMPORTAU_DATA_DIR"),
        s3_endpoint_url=dg.EnvVar("S3_ENDPOINT_URL"),
        s3_access_key_id=dg.EnvVar("S3_ACCESS_KEY_ID"),
        s3_secret_access_key=dg.EnvVar("S3_SECRET_ACCESS_KEY"),
        s3_region=dg.EnvVar("S3_REGION"),
        s3_connect_timeout_seconds=dg.EnvVar.int("S3_CONNECT_TIMEOUT_SECONDS"),
        s3_read_timeout_seconds=dg.EnvVar.int("S3_READ_TIMEOUT_SECONDS"),
        s3_max_retries=dg.EnvVar.int("S3_MAX_RETRIES"),
    ),
    "bcb": BcbApiResource(
        sgs_base_url=dg.EnvVar("BCB_SGS_BASE_URL"),
        olinda_base_url=dg.EnvVar("BCB_OLINDA_BASE_URL"),
        closing_file_base_url=dg.EnvVar("BCB_CLOSING_FILE_BASE_URL"),
        ptax_currencies=dg.EnvVar("BCB_PTAX_CURRENCIES"),
        closing_file_currencies=dg.EnvVar("BCB_CLOSING_FILE_CURRENCIES"),
    ),
    # Certificate/key paths and first grants are read from the environment at pull time, never config fields.
    "open_finance": OpenFinanceResource(
        institutions=dg.EnvVar("OPEN_FINANCE_INSTITUTIONS"),
        data_dir=dg.EnvVar("IMPORTAU_DATA_DIR"),
        state_dir=dg.EnvVar("OPEN_FINANCE_STATE_DIR"),
        window_days=dg.EnvVar.int("OPEN_FINANCE_WINDOW_DAYS"),
        backfill_chunk_days=dg.EnvVar.int("OPEN_FINANCE_BACKFILL_CHUNK_DAYS"),
        today=dg.EnvVar("OPEN_FINANCE_TODAY"),
    ),
    # PLUGGY_CLIENT_SECRET is read from the environment when a pull starts, never a config field.
    "pluggy": PluggyResource(
        base_url=dg.EnvVar("PLUGGY_BASE_URL"),
        client_id=dg.EnvVar("PLUGGY_CLIENT_ID"),
        item_ids=dg.EnvVar("PLUGGY_ITEM_IDS"),
        webhook_spool_dir=dg.EnvVar("PLUGGY_WEBHOOK_SPOOL_DIR"),
        data_dir=dg.EnvVar("IMPORTAU_DATA_DIR"),
    ),
    "customs": CustomsResource(
        inbox_dir=dg.EnvVar("CUSTOMS_INBOX_DIR"),
        data_dir=dg.EnvVar("IMPORTAU_DATA_DIR"),
        source=dg.EnvVar("CUSTOMS_SOURCE"),
    ),
    "bank_statements": BankStatementsResource(
        inbox_dir=dg.EnvVar("BANK_STATEMENTS_INBOX"), data_dir=dg.EnvVar("IMPORTAU_DATA_DIR")
    ),
    "erp": ErpResource(
        inbox_dir=dg.EnvVar("ERP_INBOX_DIR"),
        data_dir=dg.EnvVar("IMPORTAU_DATA_DIR"),
        rabbitmq_url=dg.EnvVar("ERP_RABBITMQ_URL"),
    ),
    "airbyte": AirbyteResource(
        server_url=dg.EnvVar("AIRBYTE_SERVER_URL"),
        connection_id=dg.EnvVar("AIRBYTE_OPEN_FINANCE_CONNECTION_ID"),
        client_id=dg.EnvVar("AIRBYTE_CLIENT_ID"),
        client_secret=dg.EnvVar("AIRBYTE_CLIENT_SECRET"),
        api_token=dg.EnvVar("AIRBYTE_API_TOKEN"),
    ),
    "mlflow": MLflowResource(tracking_uri=dg.EnvVar("MLFLOW_TRACKING_URI"), data_dir=dg.EnvVar("IMPORTAU_DATA_DIR")),
    # The URL may carry a token: bound from the environment, so the UI shows the variable's name, not its value.
    "alerts": AlertWebhookResource(
        url=dg.EnvVar("ALERT_WEBHOOK_URL"), webserver_url=dg.EnvVar("DAGSTER_WEBSERVER_URL")
    ),
    "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
}
