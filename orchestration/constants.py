"""Names and dates shared by the Dagster wiring: one place, never inline."""

BUSINESS_TIMEZONE = "America/Sao_Paulo"

# First date each source can serve that the platform backfills from (partitions start here, or later: below).
BCB_START_DATE = "2000-01-01"

# Where the deployment's data really starts (unset: each source's earliest date), so the UI lists the months there
# can be data for. Read by orchestration/partitions.py when the definitions load.
HISTORY_START_ENV = "IMPORTAU_HISTORY_START"  # the company's own data: ERP and Open Finance
MARKET_HISTORY_START_ENV = "IMPORTAU_MARKET_HISTORY_START"  # the BCB's market data (earlier: the FX models' history)

# The concurrency pool of every step that opens the warehouse. In the embedded default (chDB) the local
# instance limits it to 1, because one process at a time may own the chDB data directory.
WAREHOUSE_POOL = "warehouse"

# The default date range the demo command materializes (real BCB history is available for it).
DEMO_START_DATE = "2024-01-01"
DEMO_END_DATE = "2024-12-31"
# The BCB market data of the demo starts earlier: the FX forecast is judged on a walk-forward backtest, and one
# year of PTAX is too short for its intervals to beat the random walk's (measured: from 2023 the interval score
# is 1.04x the baseline's and the model is refused; from 2022 0.99x), so the demo lands three years of PTAX.
DEMO_MARKET_HISTORY_START_DATE = "2022-01-01"

OWNER = "team:data-platform"

# Open Finance Brasil: phase 2 (customer account data sharing) opened on 2021-08-13. Institutions serve only the
# last 12 months, so pulls for older days are left out (OpenFinanceResource.plan) and those days stay empty.
OPEN_FINANCE_START_DATE = "2021-08-13"

# The ERP file drops and extractions: the demo company's history starts in 2024.
ERP_START_DATE = "2020-01-01"
# Pluggy keeps what the institution served when the item was connected (12 months back, at most, for Open Finance)
PLUGGY_START_DATE = "2021-08-13"
