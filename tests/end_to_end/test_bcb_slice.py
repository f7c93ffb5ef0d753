"""The whole BCB slice through the real demo command: replay server → lake → raw → dbt marts, on chDB.

Runs `importau demo` in a subprocess on a temporary data folder (its own lake, chDB warehouse and Dagster
instance), then reads the results back with `importau sql`, exactly as a user would.
"""

import csv
import hashlib
import io
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
MAX_PRINTED_LINES = 300  # issue 10: progress on the terminal, Dagster's DEBUG events in the log file
START, END = "2024-11-11", "2024-11-22"  # two weekends, Proclamação (Fri 15th), Consciência Negra (Wed 20th)


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BCB_", "DAGSTER_", "CLICKHOUSE_", "LAKE_"))}
    env.update(IMPORTAU_DATA_DIR=str(data_dir), APP_ENV="ci", DAGSTER_HOME=str(data_dir / "dagster_home"))
    return env


def run_demo(data_dir: Path) -> None:
    completed = subprocess.run(
        [str(BIN / "importau"), "demo", "--start", START, "--end", END, "--market-history-start", START, "--no-ml"],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stdout[-5000:] + completed.stderr[-5000:]
    assert_quiet_with_a_full_log(completed)


def assert_quiet_with_a_full_log(completed: subprocess.CompletedProcess) -> Path:
    """A few hundred lines at most on the terminal, naming (at the start and at the end) the log file that holds
    every Dagster event, DEBUG included."""
    printed = completed.stdout.splitlines() + completed.stderr.splitlines()
    assert len(printed) <= MAX_PRINTED_LINES, f"{len(printed)} lines printed:\n" + "\n".join(printed[:400])
    assert " - DEBUG - " not in completed.stdout + completed.stderr
    named = re.findall(r"\S+/logs/demo-[0-9-]+\.log", completed.stdout)
    assert len(named) >= 2 and len(set(named)) == 1, completed.stdout[-3000:]
    log = Path(named[0])
    text = log.read_text()
    assert " - DEBUG - " in text and "STEP_SUCCESS" in text and "RUN_SUCCESS" in text
    return log


def sql(data_dir: Path, query: str) -> list[dict[str, str]]:
    completed = subprocess.run(
        [str(BIN / "importau"), "sql", "--csv", query], env=_env(data_dir), capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr
    return list(csv.DictReader(io.StringIO(completed.stdout)))


def lake_digest(data_dir: Path) -> dict[str, str]:
    lake = data_dir / "lake"
    return {
        str(path.relative_to(lake)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(lake.rglob("*.parquet"))
    }


def warehouse_snapshot(data_dir: Path) -> dict[str, list]:
    tables = [
        "raw.bcb__sgs_observations",
        "raw.bcb__ptax_quotes",
        "raw.bcb__closing_rates",
        "raw.bcb__focus_expectations",
        "marts.fct_fx_rates_daily",
        "marts.fct_macro_indicators_daily",
    ]
    snapshot = {}
    for table in tables:
        rows = sql(
            data_dir,
            f"SELECT * EXCEPT (_loaded_at) FROM {table}" if table.startswith("raw.") else f"SELECT * FROM {table}",
        )
        snapshot[table] = sorted(tuple(sorted(row.items())) for row in rows)
    return snapshot


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("e2e")
    run_demo(data_dir)
    return data_dir


def test_every_configured_currency_has_rates(demo_data):
    rows = sql(demo_data, "SELECT currency, count() AS days FROM marts.fct_fx_rates_daily GROUP BY currency")
    days = {row["currency"]: int(row["days"]) for row in rows}
    assert set(days) == {"USD", "EUR", "GBP", "JPY", "CHF", "CAD", "CNY"}
    # partitions are months: the run covers November 2024, 21 weekdays, two of them holidays (Proclamação on
    # Friday the 15th, Consciência Negra on Wednesday the 20th): 19 business days
    assert set(days.values()) == {19}


@pytest.mark.parametrize(
    ("currency", "day", "previous_business_day", "published_sell"),
    [
        # Monday after the Friday holiday of 15 Nov: the rate comes from Thursday 14 Nov.
        ("USD", "2024-11-18", "2024-11-14", "5.7885"),
        ("EUR", "2024-11-18", "2024-11-14", "6.1213"),
        # Thursday after the Wednesday holiday of 20 Nov: Tuesday 19 Nov.
        ("USD", "2024-11-21", "2024-11-19", "5.7743"),
        ("EUR", "2024-11-21", "2024-11-19", "6.1138"),
        # An ordinary Tuesday: Monday's rate.
        ("USD", "2024-11-19", "2024-11-18", "5.7603"),
    ],
)
def test_customs_rate_is_the_published_ptax_sell_of_the_previous_business_day(
    demo_data, currency, day, previous_business_day, published_sell
):
    rows = sql(
        demo_data,
        f"SELECT customs_rate, customs_rate_date FROM marts.fct_fx_rates_daily "
        f"WHERE currency = '{currency}' AND date = '{day}'",
    )
    assert len(rows) == 1
    assert Decimal(rows[0]["customs_rate"]) == Decimal(published_sell)
    assert rows[0]["customs_rate_date"] == previous_business_day


def test_a_rerun_leaves_identical_rows_in_lake_and_warehouse(demo_data):
    """The first run started from nothing; the re-run replaces every month in place and must give the same bytes in
    the lake and the same rows in the warehouse. (A third run repeated the same transition and cost 143 s.)"""
    first = (lake_digest(demo_data), warehouse_snapshot(demo_data))
    assert first[0], "the lake is empty"
    run_demo(demo_data)
    assert (lake_digest(demo_data), warehouse_snapshot(demo_data)) == first
