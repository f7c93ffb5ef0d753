"""The unified card staging (stg_bank__credit_card_*) on chDB, fed by the three bank sources' real pipelines over
one demo company's card truth (3 months, seed 5): the Open Finance sandbox banks -> the pull and raw loads; the
Pluggy stand-in -> its pull and raw load; the demo's OFX card statements dropped into the bank inbox -> the file
drop and its raw load. dbt then builds the per-source and unified staging.

Each source alone gives every card movement of the truth (purchases and their IOF lines: count and BRL sum per
month); unified, each movement is one row seen by all three sources; the three cards are one card; the bills of
Open Finance and Pluggy are one bill per due date with the truth's total. With the statement files as the only bank
source (var `bank_sources`), the unified movements are still the truth's. The load runs in its own process (chDB
hosts one folder per process; dbt opens it after).
"""

import json
import os
import subprocess
import sys
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.dbt.dbt_harness import REPO, dbt_env, query, run_dbt

START, END = date(2024, 1, 1), date(2024, 3, 31)
SEED = 5
SOURCES = ("open_finance", "pluggy", "bank_statement")
RANGE_TAGS = {"dagster/asset_partition_range_start": "2024-01-01", "dagster/asset_partition_range_end": "2024-03-01"}
SELECT = ("staging.bank", "staging.open_finance", "staging.pluggy", "staging.bank_statement")


def _company():
    from sandboxes.demo_company.company import generate

    return generate(seed=SEED, scale=0.1, start=START, end=END)


def _truth_lines(company) -> dict[str, list]:
    """Month -> [count, BRL sum] of the card movements as the banks list them: each purchase and its IOF line."""
    from ingestion.common.clock import SAO_PAULO

    months: dict[str, list] = defaultdict(lambda: [0, Decimal(0)])
    for purchase in company.bank["card_transactions"].to_pylist():
        month = purchase["transaction_datetime"].astimezone(SAO_PAULO).strftime("%Y-%m")
        for amount in (purchase["brazilian_amount"], purchase["iof_amount"]):
            if amount:
                months[month][0] += 1
                months[month][1] -= amount
    return months


def load(data_dir: str) -> None:
    """In a subprocess: the three sources' pulls and file drop for January..March 2024, then their raw loads."""
    import dagster as dg

    from orchestration.commands.sandbox_bank import sandbox_banks
    from orchestration.defs import bank_statements, pluggy
    from orchestration.defs.open_finance import assets as open_finance_assets
    from orchestration.resources.bank_statements import BankStatementsResource
    from orchestration.resources.lake import LakeResource
    from orchestration.resources.open_finance import OpenFinanceResource
    from orchestration.resources.pluggy import PluggyResource
    from orchestration.resources.warehouse import ClickHouseResource
    from sandboxes.demo_company.statements import card_statement_files
    from sandboxes.demo_company.writers import write_bank_truth
    from sandboxes.pluggy import PluggyStandIn

    company = _company()
    truth_dir = Path(data_dir) / "truth"
    write_bank_truth(company, truth_dir)
    lake, warehouse = LakeResource(data_dir=data_dir), ClickHouseResource(data_dir=data_dir)
    os.environ.update(DEMO_BANK_TRUTH_DIR=str(truth_dir), IMPORTAU_TODAY=END.isoformat())

    with sandbox_banks(today=END) as (env, _):
        os.environ.update(env)
        resources = {"open_finance": OpenFinanceResource(data_dir=data_dir), "lake": lake, "warehouse": warehouse}
        assert dg.materialize(open_finance_assets, resources=resources, tags=RANGE_TAGS).success

    tables = {name: table.to_pylist() for name, table in company.bank.items()}
    with PluggyStandIn(tables, END) as stand_in:
        env = stand_in.env()
        os.environ.update(PLUGGY_CLIENT_SECRET=env["PLUGGY_CLIENT_SECRET"])
        resource = PluggyResource(
            base_url=env["PLUGGY_BASE_URL"], client_id=env["PLUGGY_CLIENT_ID"], item_ids=env["PLUGGY_ITEM_IDS"]
        )
        resources = {"pluggy": resource, "lake": lake, "warehouse": warehouse}
        assert dg.materialize(pluggy.assets, resources=resources, tags=RANGE_TAGS).success

    inbox = Path(data_dir) / "bank_statements" / "inbox"
    inbox.mkdir(parents=True)
    for name, data in card_statement_files(company).items():
        (inbox / name).write_bytes(data)
    resources = {"bank_statements": BankStatementsResource(data_dir=data_dir), "lake": lake, "warehouse": warehouse}
    assert dg.materialize(bank_statements.assets, resources=resources, partition_key="2024-03-01").success
    assert not any((inbox / "quarantine").glob("*")), "a demo card statement was quarantined"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("bank_cards_dbt")
    completed = subprocess.run(
        [sys.executable, "-c", f"from tests.dbt.test_bank_card_staging import load; load({str(data_dir)!r})"],
        env=dbt_env(data_dir),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-5000:]
    run = run_dbt(data_dir, "build", "--select", *SELECT)
    assert run.returncode == 0, run.output[-8000:]
    return data_dir


def _months(rows: list[dict]) -> dict[str, list]:
    return {row["month"]: [row["n"], Decimal(row["total"])] for row in rows}


MONTHS = (
    "SELECT formatDateTime(toDate(transaction_datetime, 'America/Sao_Paulo'), '%Y-%m') AS month, count() AS n, "
    "toString(sum(signed_brazilian_amount)) AS total FROM staging.{table} {where} GROUP BY month ORDER BY month"
)


def test_each_source_alone_gives_every_card_movement_of_the_truth(built):
    expected = _truth_lines(_company())
    result = query(
        built,
        **{
            source: MONTHS.format(
                table="stg_bank__credit_card_transactions_unioned", where=f"WHERE bank_source = '{source}'"
            )
            for source in SOURCES
        },
    )
    for source in SOURCES:
        assert _months(result[source]) == expected, source


def test_unified_each_card_movement_is_one_row_seen_by_every_source(built):
    expected = _truth_lines(_company())
    result = query(
        built,
        months=MONTHS.format(table="stg_bank__credit_card_transactions", where=""),
        seen="SELECT bank_source, arraySort(arrayMap(id -> splitByChar(':', id)[1], other_source_transaction_ids)) "
        "AS others, count() AS n FROM staging.stg_bank__credit_card_transactions GROUP BY ALL",
        cards="SELECT bank_source, card_account_key, source_card_account_ids "
        "FROM staging.stg_bank__credit_card_accounts",
    )
    assert _months(result["months"]) == expected
    # Open Finance first in precedence; a billed row would win over an open one, and no source bills earlier
    assert [(r["bank_source"], r["others"]) for r in result["seen"]] == [("open_finance", ["bank_statement", "pluggy"])]
    (card,) = result["cards"]
    (truth_card,) = _company().bank["card_accounts"].to_pylist()
    assert card["card_account_key"] == f"341:card:{truth_card['identification_number']}"
    assert sorted(i.split(":")[0] for i in card["source_card_account_ids"]) == sorted(SOURCES)


def test_bills_of_open_finance_and_pluggy_are_one_bill_with_the_truths_total(built):
    bills = [b for b in _company().bank["card_bills"].to_pylist() if b["closing_date"] <= END]
    result = query(
        built,
        bills="SELECT toString(due_date) AS due, toString(bill_total_amount) AS total, bank_source, "
        "also_in_sources FROM staging.stg_bank__credit_card_bills ORDER BY due_date",
    )
    got = {row["due"]: row for row in result["bills"]}
    # Open Finance lists every closed bill due up to 45 days after its pull; Pluggy the closed bills due in the run
    assert set(got) == {b["due_date"].isoformat() for b in bills}
    for bill in bills:
        row = got[bill["due_date"].isoformat()]
        assert (Decimal(row["total"]), row["bank_source"]) == (bill["total_amount"], "open_finance")
        in_range = START <= bill["due_date"] <= END
        assert [s.split(":")[0] for s in row["also_in_sources"]] == (["pluggy"] if in_range else [])


def test_the_statement_files_alone_feed_the_unified_card_movements(built):
    """With bank_sources = [bank_statement] (a company with statement files only): the truth, from the files; no
    bill source is selected, so no bills (the model still builds). Last in the module: it rebuilds the views."""
    run = run_dbt(
        built,
        "build",
        "--select",
        "stg_bank__credit_card_accounts_unioned+",
        "--vars",
        json.dumps({"bank_sources": ["bank_statement"]}),
    )
    assert run.returncode == 0, run.output[-6000:]
    result = query(
        built,
        months=MONTHS.format(table="stg_bank__credit_card_transactions", where=""),
        sources="SELECT DISTINCT bank_source FROM staging.stg_bank__credit_card_transactions",
        bills="SELECT count() AS n FROM staging.stg_bank__credit_card_bills",
    )
    assert _months(result["months"]) == _truth_lines(_company())
    assert result["sources"] == [{"bank_source": "bank_statement"}]
    assert result["bills"] == [{"n": 0}]
