"""Every environment variable the platform reads, in one place: name, default, meaning, secret or not, where it
applies. Pure (no Dagster, nothing read at import): `value(name)` reads the environment when called.

Adding a variable is one entry in `SETTINGS` (below); then `.env.example` lists it (a secret with an empty value),
and `python -m ingestion.common.settings_registry --docs` prints the table of `docs/architecture.md`
("Configuration"). `tests/test_settings_registry.py` fails when code reads a variable that is not here, when
`.env.example` and the registry differ, or when the docs table is not the printed one.

- `internal`: set by the platform itself for a tool or child process it starts (dbt's profile, MLflow's server),
  or by the machine (`SSL_CERT_FILE`, `GIT_SHA`): listed here, not in `.env.example`.
- `applied`: `importau` and the dbt bridge put the default into their process environment
  (`orchestration/env_defaults.py`), as child processes expect it set.
- A name with `<NAME>` is a family: `<NAME>` is an institution's name in capitals.
"""

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    default: str  # the value used when unset ("" = empty)
    meaning: str
    where: str  # what reads it (a package, a resource, a command)
    secret: bool = False
    internal: bool = False
    applied: bool = False
    shown_default: str | None = None  # how the docs state the default when it is computed (e.g. `<repo>/data`)

    @property
    def pattern(self) -> re.Pattern | None:
        return re.compile(self.name.replace("<NAME>", "[A-Z0-9_]+")) if "<NAME>" in self.name else None


def _s(name: str, default: str, where: str, meaning: str, **flags) -> Setting:
    return Setting(name, default, meaning, where, **flags)


SETTINGS: tuple[Setting, ...] = (
    # -- the platform ----------------------------------------------------------------------------------------------
    _s(
        "APP_ENV",
        "local",
        "dbt target, automation sensors",
        "`local`, `ci` or `prod`: picks the dbt target and whether automation sensors start running",
        applied=True,
    ),
    _s(
        "IMPORTAU_DATA_DIR",
        "",
        "everything local",
        "where the embedded default keeps lake, warehouse, Dagster and MLflow state",
        applied=True,
        shown_default="`<repo>/data`",
    ),
    _s(
        "IMPORTAU_HISTORY_START",
        "",
        "partitions (ERP, Open Finance)",
        "the first month of the company's own data: "
        "partitions start there (`importau demo` sets it and records it in `$DAGSTER_HOME/history_range.json`)",
        shown_default="each source's earliest date (ERP 2020-01, Open Finance 2021-08)",
    ),
    _s(
        "IMPORTAU_MARKET_HISTORY_START",
        "",
        "partitions (BCB)",
        "the first month of the BCB market data",
        shown_default="BCB 2000-01",
    ),
    _s(
        "IMPORTAU_TODAY",
        "",
        "ingestion/common/clock.py",
        "the business clock's today (YYYY-MM-DD): for replays and `importau soak` only, unset in production",
        shown_default="today in São Paulo",
    ),
    _s(
        "DAGSTER_HOME",
        "",
        "Dagster, importau commands",
        "the Dagster instance folder",
        shown_default="`$IMPORTAU_DATA_DIR/dagster_home` for `importau` commands",
    ),
    _s(
        "DAGSTER_EVENT_BATCH_SIZE",
        "",
        "Dagster (local instance)",
        "events Dagster hands the event log at once (a run's planned events); the local SQLite event log stores a "
        "batch in one transaction per file (orchestration/instance/sqlite_event_log.py); 0 = one by one",
        shown_default="2000 where `importau` prepares the local instance (demo, dev); Dagster's own 0 elsewhere",
    ),
    _s("DAGSTER_PG_HOST", "", "dagster.yaml (deployed instance)", "the deployed instance's PostgreSQL host"),
    _s("DAGSTER_PG_USER", "", "dagster.yaml (deployed instance)", "its user"),
    _s("DAGSTER_PG_PASSWORD", "", "dagster.yaml (deployed instance)", "its password", secret=True),
    _s("DAGSTER_PG_DB", "", "dagster.yaml (deployed instance)", "its database"),
    _s(
        "DAGSTER_WEBSERVER_URL",
        "",
        "AlertWebhookResource",
        "the UI's address, for links in alerts; empty: alerts carry no link",
        applied=True,
    ),
    _s(
        "ALERT_WEBHOOK_URL",
        "",
        "AlertWebhookResource",
        "where a JSON POST goes for each failed run (may carry a "
        "token, never logged in full); empty: failures are only logged",
        secret=True,
        applied=True,
    ),
    # -- warehouse -------------------------------------------------------------------------------------------------
    _s(
        "CLICKHOUSE_URL",
        "",
        "ClickHouseResource, importau commands, cockpit",
        "`chdb:///abs/path` (embedded) or `http(s)://user:pass@host:port/` (server)",
        secret=True,
        applied=True,
        shown_default="empty = chDB at `$IMPORTAU_DATA_DIR/warehouse`",
    ),
    _s(
        "CLICKHOUSE_CLUSTER",
        "",
        "ClickHouseResource, table_layout.py, dbt",
        "a cluster name: DDL `ON CLUSTER`, "
        'Replicated engines, two Distributed marts (README "Scale out"); refused on chDB',
        applied=True,
        shown_default="empty = one node",
    ),
    _s(
        "CLICKHOUSE_STORAGE_POLICY",
        "",
        "ClickHouseResource, table_layout.py, dbt",
        "storage policy of the raw and marts tables (parts on S3)",
        applied=True,
        shown_default="empty = local disk",
    ),
    _s(
        "CLICKHOUSE_S3_DISK_URL",
        "",
        "warehouse.py (chDB)",
        "chDB only: `s3://bucket[/prefix]` of the policy's disk, on `S3_ENDPOINT_URL` with the `S3_*` keys",
        applied=True,
    ),
    _s(
        "CLICKHOUSE_BACKUP_URL",
        "",
        "importau backup / restore",
        "`s3://bucket[/prefix]` of `importau backup` / `restore`, on `S3_ENDPOINT_URL`",
        applied=True,
    ),
    _s(
        "IMPORTAU_BI_ALLOWED_HOSTS",
        "",
        "dbt_project/roles/apply_roles.py",
        "addresses or CIDR networks the BI user may log in from (comma or space separated); empty: no HOST clause",
    ),
    _s(
        "CLICKHOUSE_ADMIN_URL",
        "",
        "dbt_project/roles/apply_roles.py",
        "a server user allowed to create roles and users, for `apply_roles.py` only",
        secret=True,
    ),
    _s(
        "IMPORTAU_BI_PASSWORD",
        "",
        "dbt_project/roles/apply_roles.py",
        "password of the server's BI user (`importau_bi_reader`); only its salted hash reaches SQL",
        secret=True,
    ),
    _s(
        "IMPORTAU_DBT_PASSWORD",
        "",
        "dbt_project/roles/apply_roles.py",
        "password of the server's dbt user",
        secret=True,
    ),
    _s(
        "IMPORTAU_INGESTION_PASSWORD",
        "",
        "dbt_project/roles/apply_roles.py",
        "password of the server's ingestion user",
        secret=True,
    ),
    _s(
        "IMPORTAU_COCKPIT_CLICKHOUSE_URL",
        "",
        "cockpit",
        "the cockpit's server user (one with the `importau_bi` role)",
        secret=True,
        shown_default="empty = `CLICKHOUSE_URL`",
    ),
    _s("IMPORTAU_COCKPIT_USER", "", "cockpit", "the name the cockpit pre-fills as who confirms or rejects a match"),
    # -- lake ------------------------------------------------------------------------------------------------------
    _s(
        "LAKE_URL",
        "",
        "LakeResource",
        "a folder path, or `s3://bucket[/prefix]`",
        applied=True,
        shown_default="empty = folder `$IMPORTAU_DATA_DIR/lake`",
    ),
    _s(
        "S3_ENDPOINT_URL",
        "",
        "LakeResource, warehouse (S3 disk), backup",
        "S3/MinIO endpoint when `LAKE_URL` (or the storage policy, the backup) is `s3://`",
        applied=True,
    ),
    _s(
        "S3_ACCESS_KEY_ID", "", "LakeResource, warehouse (S3 disk), backup", "its access key", secret=True, applied=True
    ),
    _s(
        "S3_SECRET_ACCESS_KEY",
        "",
        "LakeResource, warehouse (S3 disk), backup",
        "its secret key",
        secret=True,
        applied=True,
    ),
    _s("S3_REGION", "", "LakeResource, warehouse (S3 disk)", "its region", applied=True),
    _s(
        "S3_CONNECT_TIMEOUT_SECONDS",
        "5",
        "LakeResource",
        "bound of each S3 connect: a dead or hung endpoint fails "
        "within (retries + 1) x (connect + read) + 1 s of backoff = 46 s",
        applied=True,
    ),
    _s("S3_READ_TIMEOUT_SECONDS", "10", "LakeResource", "bound of each wait for S3 bytes", applied=True),
    _s("S3_MAX_RETRIES", "2", "LakeResource", "retries of one S3 call after its first try", applied=True),
    _s(
        "LAKE_QUALITY_MAX_QUARANTINE_PERCENT",
        "5",
        "lake_quality checks",
        'of a month\'s records quarantined: more warns ("Lake quality" below)',
        applied=True,
    ),
    _s(
        "LAKE_QUALITY_MIN_ROW_RATIO",
        "0.5",
        "lake_quality checks",
        "rows per day vs the previous partition: fewer warns",
        applied=True,
    ),
    _s(
        "LAKE_QUALITY_MAX_ROW_RATIO",
        "5",
        "lake_quality checks",
        "rows per day vs the previous partition: more warns",
        applied=True,
    ),
    _s(
        "LAKE_QUALITY_MAX_NULL_RATE_INCREASE_PERCENT",
        "50",
        "lake_quality checks",
        "null-rate increase in points: more warns, a column emptied blocks",
        applied=True,
    ),
    _s(
        "LAKE_QUALITY_MAX_MEAN_SHIFT_SD",
        "",
        "lake_quality checks",
        "mean shift of numeric columns in standard deviations; empty or 0: reported, not judged",
        applied=True,
    ),
    # -- BCB -------------------------------------------------------------------------------------------------------
    _s("BCB_SGS_BASE_URL", "https://api.bcb.gov.br/dados/serie", "BcbApiResource", "SGS", applied=True),
    _s(
        "BCB_OLINDA_BASE_URL",
        "https://olinda.bcb.gov.br/olinda/servico",
        "BcbApiResource",
        "Olinda OData (PTAX, Expectativas)",
        applied=True,
    ),
    _s(
        "BCB_CLOSING_FILE_BASE_URL",
        "https://www4.bcb.gov.br/Download/fechamento",
        "BcbApiResource",
        "daily closing file (CNY and all other currencies)",
        applied=True,
    ),
    _s("BCB_PTAX_CURRENCIES", "USD,EUR,GBP,JPY,CHF,CAD", "BcbApiResource", "PTAX currencies pulled", applied=True),
    _s("BCB_CLOSING_FILE_CURRENCIES", "CNY", "BcbApiResource", "currencies taken from the closing file", applied=True),
    # -- ERP and customs -------------------------------------------------------------------------------------------
    _s(
        "ERP_INBOX_DIR",
        "",
        "ErpResource, importau demo",
        "where the ERP drops its exports",
        applied=True,
        shown_default="`$IMPORTAU_DATA_DIR/erp/inbox`",
    ),
    _s(
        "ERP_RABBITMQ_URL",
        "",
        "ErpResource (events sensor)",
        "the ERP's RabbitMQ; empty: the events sensor skips",
        secret=True,
        applied=True,
    ),
    _s(
        "ERP_POSTGRES_DSN",
        "",
        "ErpResource (PostgreSQL extraction), importau demo",
        "the ERP's PostgreSQL; empty: its schedule skips (read when needed, never logged)",
        secret=True,
    ),
    _s(
        "CUSTOMS_INBOX_DIR",
        "",
        "CustomsResource, importau demo",
        "where the customs broker drops declarations",
        applied=True,
        shown_default="`$IMPORTAU_DATA_DIR/customs/inbox`",
    ),
    _s(
        "CUSTOMS_SOURCE",
        "files",
        "CustomsResource",
        "`files` (the broker's inbox) or `portal` (the Portal Único API, `PORTAL_UNICO_*`)",
        applied=True,
    ),
    _s(
        "PORTAL_UNICO_URL",
        "",
        "ingestion/customs/portal_unico.py",
        "the Portal Único API (e.g. https://val.portalunico.siscomex.gov.br) when `CUSTOMS_SOURCE=portal`",
    ),
    _s(
        "PORTAL_UNICO_CLIENT_CERT",
        "",
        "ingestion/customs/portal_unico.py",
        "the company's ICP-Brasil certificate (PEM path), read at run time",
    ),
    _s("PORTAL_UNICO_CLIENT_KEY", "", "ingestion/customs/portal_unico.py", "its key (PEM path, chmod 600)"),
    _s(
        "PORTAL_UNICO_CA_BUNDLE",
        "",
        "ingestion/customs/portal_unico.py",
        "CA bundle for the portal",
        shown_default="the system's CAs",
    ),
    _s(
        "PORTAL_UNICO_ROLE_TYPE",
        "",
        "ingestion/customs/portal_unico.py",
        "the role the company authenticates as",
        shown_default="`IMPEXP`",
    ),
    _s(
        "PORTAL_UNICO_DUIMP_PATH",
        "",
        "ingestion/customs/portal_unico.py",
        "the DUIMP endpoint path",
        shown_default="`/duimp/api/ext/sefaz/duimp/{numero}`",
    ),
    _s(
        "BANK_STATEMENTS_INBOX",
        "",
        "BankStatementsResource",
        "where the banks' OFX and CNAB 240 statement files are dropped",
        applied=True,
        shown_default="`$IMPORTAU_DATA_DIR/bank_statements/inbox`",
    ),
    _s(
        "PLUGGY_BASE_URL",
        "https://api.pluggy.ai",
        "PluggyResource",
        "the Pluggy aggregator's API (ingestion/pluggy/README.md)",
        applied=True,
    ),
    _s("PLUGGY_CLIENT_ID", "", "PluggyResource", "its client id", applied=True),
    _s("PLUGGY_CLIENT_SECRET", "", "PluggyResource", "its client secret, read when a pull starts", secret=True),
    _s(
        "PLUGGY_ITEM_IDS",
        "",
        "PluggyResource",
        "the items to pull (`<institution>:<COMPE>=<item id>`, comma-separated); empty: the source is off",
        applied=True,
    ),
    _s(
        "PLUGGY_WEBHOOK_SPOOL_DIR",
        "",
        "PluggyResource, ingestion/pluggy/webhook.py",
        "where the webhook receiver spools events for `pluggy_webhook_sensor`",
        applied=True,
        shown_default="`$IMPORTAU_DATA_DIR/pluggy/webhooks`",
    ),
    _s(
        "PLUGGY_WEBHOOK_SECRET",
        "",
        "ingestion/pluggy/webhook.py",
        "the header value the webhook receiver requires (`X-Importau-Webhook-Secret`)",
        secret=True,
    ),
    # -- Open Finance ----------------------------------------------------------------------------------------------
    _s(
        "OPEN_FINANCE_INSTITUTIONS",
        "",
        "OpenFinanceResource",
        "a YAML/JSON file path or inline JSON listing the institutions; empty: none (the assets write empty days)",
        applied=True,
    ),
    _s(
        "OPEN_FINANCE_STATE_DIR",
        "",
        "OpenFinanceResource",
        "token store and call budget",
        applied=True,
        shown_default="`$IMPORTAU_DATA_DIR/open_finance`",
    ),
    _s(
        "OPEN_FINANCE_TOKEN_FILE",
        "",
        "OpenFinanceResource",
        "the token store file",
        shown_default="`<state dir>/tokens.json`",
    ),
    _s(
        "OPEN_FINANCE_BUDGET_FILE",
        "",
        "OpenFinanceResource",
        "the call budget file",
        shown_default="`<state dir>/call_budget.json`",
    ),
    _s(
        "OPEN_FINANCE_WINDOW_DAYS",
        "7",
        "OpenFinanceResource",
        "trailing window each daily pull re-reads (days)",
        applied=True,
    ),
    _s(
        "OPEN_FINANCE_BACKFILL_CHUNK_DAYS",
        "0",
        "OpenFinanceResource",
        "0: one pull per partition day; N > 1: a ranged run pulls once per N days",
        applied=True,
    ),
    _s(
        "OPEN_FINANCE_TODAY",
        "",
        "OpenFinanceResource",
        "the institution's current day (YYYY-MM-DD), for sandboxes only",
        applied=True,
        shown_default="today in São Paulo",
    ),
    _s(
        "OPEN_FINANCE_SANDBOX_TODAY",
        "",
        "importau sandbox-bank / demo",
        "the demo sandbox bank's calendar day",
        shown_default="`IMPORTAU_TODAY`, else 2024-12-31",
    ),
    _s(
        "OPEN_FINANCE_CERT_PATH",
        "",
        "ingestion/open_finance/config.py",
        "the client (transport) certificate, shared by every institution without its own",
    ),
    _s("OPEN_FINANCE_KEY_PATH", "", "ingestion/open_finance/config.py", "its private key", secret=True),
    _s("OPEN_FINANCE_CA_PATH", "", "ingestion/open_finance/config.py", "the CA bundle trusted for the institutions"),
    _s(
        "OPEN_FINANCE_SIGNING_KEY_PATH",
        "",
        "ingestion/open_finance/config.py",
        "the `private_key_jwt` signing key",
        secret=True,
        shown_default="`OPEN_FINANCE_KEY_PATH`",
    ),
    _s("OPEN_FINANCE_<NAME>_CERT_PATH", "", "ingestion/open_finance/config.py", "one institution's certificate"),
    _s("OPEN_FINANCE_<NAME>_KEY_PATH", "", "ingestion/open_finance/config.py", "its key", secret=True),
    _s("OPEN_FINANCE_<NAME>_CA_PATH", "", "ingestion/open_finance/config.py", "its CA bundle"),
    _s("OPEN_FINANCE_<NAME>_SIGNING_KEY_PATH", "", "ingestion/open_finance/config.py", "its signing key", secret=True),
    _s(
        "OPEN_FINANCE_<NAME>_AUTHORIZATION_CODE",
        "",
        "ingestion/open_finance/config.py",
        "the one-time code of its consent's redirect (first grant)",
        secret=True,
    ),
    _s(
        "OPEN_FINANCE_<NAME>_REFRESH_TOKEN",
        "",
        "ingestion/open_finance/config.py",
        "or a refresh token (first grant)",
        secret=True,
    ),
    _s(
        "OPEN_FINANCE_DIRECTORY_PARTICIPANTS",
        "",
        "importau open-finance connect",
        "the Directory participants document (a path or URL)",
        shown_default="the production Directory",
    ),
    _s(
        "OPEN_FINANCE_LOGGED_USER_CPF",
        "",
        "importau open-finance connect",
        "CPF of the person who approves the consent at the bank",
    ),
    _s("OPEN_FINANCE_BUSINESS_CNPJ", "", "importau open-finance connect", "the company's CNPJ for the consent"),
    _s(
        "OPEN_FINANCE_REDIRECT_URI",
        "",
        "importau open-finance connect",
        "the loopback redirect URI registered for the client",
        shown_default="`http://127.0.0.1:8765/callback`",
    ),
    _s(
        "OPEN_FINANCE_CALLBACK_TIMEOUT_SECONDS",
        "",
        "importau open-finance connect",
        "bound on the wait for the bank's redirect",
        shown_default="300",
    ),
    _s(
        "OPEN_FINANCE_CALLBACK_CERT_PATH",
        "",
        "importau open-finance connect",
        "certificate (PEM path) for an https redirect URI",
    ),
    _s("OPEN_FINANCE_CALLBACK_KEY_PATH", "", "importau open-finance connect", "its key (PEM path)"),
    # -- Airbyte ---------------------------------------------------------------------------------------------------
    _s(
        "AIRBYTE_SERVER_URL",
        "",
        "AirbyteResource",
        "Airbyte-managed Open Finance: the Airbyte API; empty: not used",
        applied=True,
    ),
    _s("AIRBYTE_OPEN_FINANCE_CONNECTION_ID", "", "AirbyteResource", "the connection to trigger", applied=True),
    _s("AIRBYTE_CLIENT_ID", "", "AirbyteResource", "application client id", applied=True),
    _s("AIRBYTE_CLIENT_SECRET", "", "AirbyteResource", "application client secret", secret=True, applied=True),
    _s("AIRBYTE_API_TOKEN", "", "AirbyteResource", "or a static bearer token", secret=True, applied=True),
    _s("AIRBYTE_USERNAME", "", "ingestion/open_finance/airbyte.py", "or basic-auth user (self-managed)"),
    _s("AIRBYTE_PASSWORD", "", "ingestion/open_finance/airbyte.py", "its password", secret=True),
    _s(
        "AIRBYTE_TOKEN_URL",
        "",
        "ingestion/open_finance/airbyte.py",
        "token endpoint",
        shown_default="`<server>/applications/token`",
    ),
    _s("AIRBYTE_SYNC_TIMEOUT_SECONDS", "3600", "ingestion/open_finance/airbyte.py", "how long a sync may take"),
    _s("AIRBYTE_POLL_INTERVAL_SECONDS", "15", "ingestion/open_finance/airbyte.py", "between job status reads"),
    # -- ML --------------------------------------------------------------------------------------------------------
    _s(
        "MLFLOW_TRACKING_URI",
        "",
        "MLflowResource",
        "an MLflow server (it proxies artifacts); may carry credentials",
        secret=True,
        applied=True,
        shown_default="empty = SQLite store and artifacts under `$IMPORTAU_DATA_DIR/mlflow`",
    ),
    _s("MLFLOW_DISABLE_TELEMETRY", "true", "MLflow", "MLflow 3 sends usage telemetry unless told not to", applied=True),
    # -- the demo --------------------------------------------------------------------------------------------------
    _s("IMPORTAU_DEMO_SEED", "", "importau demo / dev", "the demo company's seed", shown_default="42"),
    _s(
        "IMPORTAU_DEMO_MESSINESS",
        "",
        "importau demo / dev",
        "`clean`, `realistic` or `hostile`",
        shown_default="`realistic`",
    ),
    _s(
        "DEMO_BANK_TRUTH_DIR",
        "",
        "importau sandbox-bank / demo",
        "the demo company's bank truth the sandbox banks serve",
        shown_default="`$IMPORTAU_DATA_DIR/demo/bank`",
    ),
    _s("IMPORTAU_SOAK_POSTGRES_DSN", "", "importau soak", "a PostgreSQL for the soak's Dagster instances", secret=True),
    _s(
        "IMPORTAU_DEMO_BANK_STATEMENTS",
        "",
        "importau demo / dev",
        "`ofx`, `cnab240` or `ofx,cnab240`: the demo also drops the demo company's statements into the bank inbox",
        shown_default="none",
    ),
    _s(
        "IMPORTAU_DEMO_BANK_STATEMENTS_BETWEEN",
        "",
        "importau demo / dev",
        "`<first>..<last>` (ISO dates): the demo drops the statements of these months only; `importau demo` sets it "
        "to its range",
        shown_default="every month",
    ),
    _s(
        "IMPORTAU_BANK_SOURCES",
        "",
        "dbt (macros/bank_sources.sql), importau demo --bank-source",
        "which bank sources feed `staging.stg_bank__*` (comma separated among dbt's var `bank_sources`: "
        "`open_finance`, `pluggy`, `bank_statement`), the card models too (`stg_bank__credit_card_*`); FX operations "
        "always come from Open Finance",
        shown_default="all of them",
    ),
    # -- internal: set by the platform or the machine, not by a user ------------------------------------------------
    _s(
        "IMPORTAU_WAREHOUSE_OWNER",
        "",
        "orchestration/dbt_chdb.py",
        "who holds the chDB lock (set for dbt)",
        internal=True,
    ),
    _s("IMPORTAU_CHDB_PATH", "", "dbt profile", "the chDB folder, set for dbt from `CLICKHOUSE_URL`", internal=True),
    _s("CLICKHOUSE_HOST", "", "dbt profile", "set for dbt from `CLICKHOUSE_URL`", internal=True),
    _s("CLICKHOUSE_PORT", "", "dbt profile", "set for dbt from `CLICKHOUSE_URL`", internal=True),
    _s("CLICKHOUSE_USER", "", "dbt profile", "set for dbt from `CLICKHOUSE_URL`", internal=True),
    _s("CLICKHOUSE_PASSWORD", "", "dbt profile", "set for dbt from `CLICKHOUSE_URL`", secret=True, internal=True),
    _s("CLICKHOUSE_SECURE", "", "dbt profile", "set for dbt from `CLICKHOUSE_URL`", internal=True),
    _s("DBT_LOG_PATH", "", "dbt", "set for `dbt parse`", internal=True),
    _s("DBT_TARGET_PATH", "", "dbt", "set for `dbt parse`", internal=True),
    _s("DBT_USE_COLORS", "", "dbt", "set for `dbt parse`", internal=True),
    _s("MLFLOW_LOG_UV_FILES", "", "MLflow", "set off for MLflow", internal=True),
    _s("MLFLOW_UV_AUTO_DETECT", "", "MLflow", "set off for MLflow", internal=True),
    _s("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "", "importau mlflow-ui", "set off for MLflow's server", internal=True),
    _s(
        "GIT_SHA",
        "",
        "ml_assets/common/tracking.py",
        "the deployed commit (set by the image build), tags MLflow runs",
        internal=True,
    ),
    _s(
        "SSL_CERT_FILE",
        "",
        "ingestion/common/lake.py",
        "the machine's CA bundle (standard variable)",
        internal=True,
        shown_default="certifi's",
    ),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


def lookup(name: str) -> Setting:
    """The registered setting of `name` (a family's entry for e.g. `OPEN_FINANCE_BANCO_X_CERT_PATH`)."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    for setting in SETTINGS:
        if setting.pattern is not None and setting.pattern.fullmatch(name):
            return setting
    raise KeyError(f"{name} is not a registered setting: add it to SETTINGS in ingestion/common/settings_registry.py")


def value(name: str, environ: Mapping[str, str] | None = None) -> str:
    """The variable's value in `environ` (default: the process environment, read now), else its default."""
    setting = lookup(name)
    found = (os.environ if environ is None else environ).get(name)
    return setting.default if found is None else found


def applied_defaults() -> dict[str, str]:
    """What `orchestration/env_defaults.py` puts into a command's environment when unset."""
    return {setting.name: setting.default for setting in SETTINGS if setting.applied}


def user_settings() -> list[Setting]:
    """Everything a user may set (what `.env.example` lists)."""
    return [setting for setting in SETTINGS if not setting.internal]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def docs_table() -> str:
    """The configuration table of `docs/architecture.md`."""
    lines = ["| variable | default | secret | read by | meaning |", "|---|---|---|---|---|"]
    for setting in user_settings():
        default = setting.shown_default or (f"`{setting.default}`" if setting.default else "empty")
        secret = "secret" if setting.secret else ""
        lines.append(
            f"| `{setting.name}` | {_cell(default)} | {secret} | {_cell(setting.where)} | {_cell(setting.meaning)} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] != ["--docs"]:
        sys.exit("usage: python -m ingestion.common.settings_registry --docs")
    sys.stdout.write(docs_table())
