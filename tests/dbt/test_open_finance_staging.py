"""stg_open_finance__* on chDB, fed by the real pipeline: the sandbox bank → the Dagster pull and raw loads → dbt.

The changed-transaction-ID scenario: on D the bank shows a boleto as `LANCAMENTO_FUTURO` with id `TXPEND0007`; from
D+1 it shows it posted as `TX0007`. Pulls on D and D+1 both re-read D, so raw holds both IDs; staging (rule A) must
keep ONE row. The load runs in its own process (chDB hosts one folder per process; dbt opens it after).
"""

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.dbt.dbt_harness import REPO, dbt_env, query, run_dbt

D = date(2024, 12, 30)


def load_two_pulls(data_dir: str) -> None:
    """In a subprocess: pull D with the bank on D, then D+1 with the bank on D+1; lake + raw in `data_dir`."""
    import dagster as dg

    from orchestration.defs.open_finance import assets
    from orchestration.resources.lake import LakeResource
    from orchestration.resources.open_finance import OpenFinanceResource
    from orchestration.resources.warehouse import ClickHouseResource
    from sandboxes.open_finance_bank.bank import SandboxBank

    with SandboxBank(today=D) as bank:
        consent_id, code = bank.create_authorised_consent()
        env = bank.env(consent_id, code)
        os.environ.update({k: v for k, v in env.items() if k != "OPEN_FINANCE_INSTITUTIONS"})
        for day in (D, D + timedelta(days=1)):
            bank.set_today(day)
            resources = {
                "open_finance": OpenFinanceResource(
                    institutions=env["OPEN_FINANCE_INSTITUTIONS"],
                    state_dir=str(Path(data_dir) / "state"),
                    today=day.isoformat(),
                    backfill_chunk_days=31,  # the month's run is ONE pull, on its last day up to today
                ),
                "lake": LakeResource(data_dir=data_dir),
                "warehouse": ClickHouseResource(data_dir=data_dir),
            }
            # the month's partition: the first run pulls D, the second keeps D's pull and pulls D+1 (today)
            assert dg.materialize(assets, resources=resources, partition_key=day.replace(day=1).isoformat()).success


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("open_finance_dbt")
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from tests.dbt.test_open_finance_staging import load_two_pulls as f; f({str(data_dir)!r})",
        ],
        env=dbt_env(data_dir),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-5000:]
    run = run_dbt(data_dir, "build", "--select", "staging.open_finance")
    assert run.returncode == 0, run.output[-6000:]
    return data_dir


def test_raw_holds_both_ids_and_staging_keeps_only_the_posted_twin(built):
    result = query(
        built,
        raw="SELECT transaction_id, status, _partition_date AS pull FROM raw.open_finance__transactions "
        "WHERE transaction_id IN ('TXPEND0007', 'TX0007') ORDER BY pull",
        staged="SELECT transaction_id, status, amount, booking_date FROM staging.stg_open_finance__transactions "
        "WHERE transaction_name = (SELECT any(transaction_name) FROM raw.open_finance__transactions "
        "WHERE transaction_id = 'TXPEND0007')",
    )
    assert [(row["transaction_id"], row["status"]) for row in result["raw"]] == [
        ("TXPEND0007", "LANCAMENTO_FUTURO"),
        ("TX0007", "TRANSACAO_EFETIVADA"),
    ]
    assert [(row["transaction_id"], row["status"]) for row in result["staged"]] == [("TX0007", "TRANSACAO_EFETIVADA")]


def test_every_transaction_seen_twice_counts_once(built):
    result = query(
        built,
        raw="SELECT count() AS n, uniqExact(transaction_id) AS ids FROM raw.open_finance__transactions",
        staged="SELECT count() AS n FROM staging.stg_open_finance__transactions",
    )
    # two pulls re-read the same window: raw has almost every row twice; staging has one per real transaction
    assert result["raw"][0]["n"] > result["staged"][0]["n"] == result["raw"][0]["ids"] - 1


def test_fx_operations_keep_their_exact_types(built):
    result = query(
        built,
        types="SELECT name, type FROM system.columns WHERE database = 'staging' "
        "AND table = 'stg_open_finance__fx_operations' AND name IN ('fx_rate', 'foreign_value', 'operation_datetime')",
        fx="SELECT count() AS n, uniqExact(operation_id) AS ids FROM staging.stg_open_finance__fx_operations",
    )
    assert {row["name"]: row["type"] for row in result["types"]} == {
        "fx_rate": "Decimal(38, 15)",
        "foreign_value": "Decimal(18, 4)",
        "operation_datetime": "DateTime64(3, 'UTC')",
    }
    assert result["fx"][0]["n"] == result["fx"][0]["ids"] > 0
