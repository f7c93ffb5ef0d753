"""Default environment of the embedded setup, so a fresh clone runs with no configuration at all.

Every value here is only a default (`os.environ.setdefault`): anything set in the environment or in `.env` wins.
`.env.example` lists the same variables with comments.
"""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

DEFAULTS = {
    "APP_ENV": "local",
    "IMPORTAU_DATA_DIR": str(REPO_ROOT / "data"),
    "CLICKHOUSE_URL": "",  # empty: embedded chDB under $IMPORTAU_DATA_DIR/warehouse
    "CLICKHOUSE_CLUSTER": "",  # empty: one node; a cluster name: DDL ON CLUSTER, Replicated engines (Scale out)
    "CLICKHOUSE_STORAGE_POLICY": "",  # empty: local disk; a policy name: raw and marts tables keep parts on it
    "CLICKHOUSE_S3_DISK_URL": "",  # chDB only: s3://bucket[/prefix] of that policy's disk (S3_ENDPOINT_URL, S3_*)
    "CLICKHOUSE_BACKUP_URL": "",  # s3://bucket[/prefix] where `importau backup` writes (S3_ENDPOINT_URL, S3_*)
    "LAKE_URL": "",  # empty: folder lake under $IMPORTAU_DATA_DIR/lake
    "S3_ENDPOINT_URL": "",
    "S3_ACCESS_KEY_ID": "",
    "S3_SECRET_ACCESS_KEY": "",
    "S3_REGION": "",
    "S3_CONNECT_TIMEOUT_SECONDS": "5",  # each S3 attempt of the lake (ingestion/common/lake.py S3Bounds)
    "S3_READ_TIMEOUT_SECONDS": "10",  # each wait for an S3 answer or the next bytes of a body
    "S3_MAX_RETRIES": "2",  # retries of one S3 call: a dead endpoint fails in at most 3 x (5 + 10) + 1 = 46 s
    # Lake quality (orchestration/defs/lake_quality.py, explained in docs/architecture.md "Lake quality")
    "LAKE_QUALITY_MAX_QUARANTINE_PERCENT": "5",  # of a month's records: more warns
    "LAKE_QUALITY_MIN_ROW_RATIO": "0.5",  # rows per day vs the previous partition: fewer warns
    "LAKE_QUALITY_MAX_ROW_RATIO": "5",  # more warns
    "LAKE_QUALITY_MAX_NULL_RATE_INCREASE_PERCENT": "50",  # rate points: more warns, a column emptied blocks
    "LAKE_QUALITY_MAX_MEAN_SHIFT_SD": "",  # empty or 0: the mean shift is reported, not judged
    "BCB_SGS_BASE_URL": "https://api.bcb.gov.br/dados/serie",
    "BCB_OLINDA_BASE_URL": "https://olinda.bcb.gov.br/olinda/servico",
    "BCB_CLOSING_FILE_BASE_URL": "https://www4.bcb.gov.br/Download/fechamento",
    "BCB_PTAX_CURRENCIES": "USD,EUR,GBP,JPY,CHF,CAD",
    "BCB_CLOSING_FILE_CURRENCIES": "CNY",
    "AIRBYTE_SERVER_URL": "",  # Airbyte-managed Open Finance: empty = not used
    "AIRBYTE_OPEN_FINANCE_CONNECTION_ID": "",
    "AIRBYTE_CLIENT_ID": "",
    "AIRBYTE_CLIENT_SECRET": "",
    "AIRBYTE_API_TOKEN": "",
    "ERP_INBOX_DIR": "",  # empty: $IMPORTAU_DATA_DIR/erp/inbox
    "CUSTOMS_INBOX_DIR": "",  # empty: $IMPORTAU_DATA_DIR/customs/inbox
    "CUSTOMS_SOURCE": "files",  # files: the broker's inbox; portal: the Portal Único API (PORTAL_UNICO_*)
    "BANK_STATEMENTS_INBOX": "",  # empty: $IMPORTAU_DATA_DIR/bank_statements/inbox
    "ERP_RABBITMQ_URL": "",  # empty: the ERP events sensor skips
    "OPEN_FINANCE_INSTITUTIONS": "",  # empty: no institution (the Open Finance assets write empty days)
    "OPEN_FINANCE_STATE_DIR": "",  # empty: token store and call budget under $IMPORTAU_DATA_DIR/open_finance
    "OPEN_FINANCE_WINDOW_DAYS": "7",
    "OPEN_FINANCE_BACKFILL_CHUNK_DAYS": "0",  # 0: one pull per partition day
    "OPEN_FINANCE_TODAY": "",  # empty: today in São Paulo (the sandbox sets its own calendar day)
    "PLUGGY_BASE_URL": "https://api.pluggy.ai",
    "PLUGGY_CLIENT_ID": "",
    "PLUGGY_ITEM_IDS": "",  # empty: the Pluggy source is off (PLUGGY_CLIENT_SECRET is read when a pull starts)
    "PLUGGY_WEBHOOK_SPOOL_DIR": "",  # empty: $IMPORTAU_DATA_DIR/pluggy/webhooks
    "MLFLOW_TRACKING_URI": "",  # empty: embedded SQLite store and artifacts under $IMPORTAU_DATA_DIR/mlflow
    "MLFLOW_DISABLE_TELEMETRY": "true",  # MLflow 3 would otherwise send usage telemetry
    "ALERT_WEBHOOK_URL": "",  # empty: run failures are logged by the run_failure_alert sensor, not sent
    "DAGSTER_WEBSERVER_URL": "",  # the UI's address, for links in alerts; empty: alerts carry no link
}


def apply_env_defaults() -> None:
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
