"""Open Finance through the real demo command: the mTLS sandbox bank (serving the demo company's bank truth) →
lake → raw → dbt staging on chDB, read back with `importau sql` as a user would. Helpers from test_bcb_slice.py.
"""

import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from tests.end_to_end.test_bcb_slice import BIN, _env, assert_quiet_with_a_full_log, sql

pytestmark = pytest.mark.integration

START, END = "2024-12-16", "2024-12-31"  # the sandbox bank's "today" is 2024-12-31 (the demo's last day)
MONTH_START = "2024-12-01"  # partitions are months: the run covers all of December


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("e2e_open_finance")
    completed = subprocess.run(
        [str(BIN / "importau"), "demo", "--start", START, "--end", END, "--market-history-start", START, "--no-ml"],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stdout[-5000:] + completed.stderr[-5000:]
    assert "OPEN_FINANCE_SANDBOX_URL=https://127.0.0.1:" in completed.stdout  # the demo says where the bank is
    assert_quiet_with_a_full_log(completed)
    return data_dir


def test_the_demo_pulled_the_sandbox_institutions(demo):
    pulls = sql(demo, "SELECT institution, pull_date, window_start, window_end FROM raw.open_finance__pulls")
    assert pulls, "no pull landed"
    # one ranged run = one pull per institution covering the whole month (monthly chunks in the demo)
    assert {(row["pull_date"], row["window_start"]) for row in pulls} == {(END, MONTH_START)}


def test_accounts_transactions_and_fx_operations_are_queryable(demo):
    accounts = sql(demo, "SELECT institution, account_id, compe_code FROM staging.stg_open_finance__accounts")
    assert accounts and all(row["account_id"] for row in accounts)
    transactions = sql(
        demo,
        "SELECT institution, count() AS n, uniqExact(transaction_id) AS ids, min(booking_date) AS first, "
        "max(booking_date) AS last FROM staging.stg_open_finance__transactions GROUP BY institution",
    )
    assert transactions
    for row in transactions:
        assert int(row["n"]) == int(row["ids"]) > 0
        assert MONTH_START <= row["first"] <= row["last"] <= END
    assert {row["institution"] for row in transactions} <= {row["institution"] for row in accounts}
    fx = sql(
        demo,
        "SELECT operation_id, foreign_currency, fx_rate, foreign_value, local_currency_value "
        "FROM staging.stg_open_finance__fx_operations",
    )
    assert fx
    for row in fx:
        assert Decimal(row["fx_rate"]) > 0 and Decimal(row["foreign_value"]) > 0
    events = sql(demo, "SELECT count() AS n FROM staging.stg_open_finance__fx_operation_events")
    assert int(events[0]["n"]) >= len(fx)
