"""The bank checks on the unified bank staging (orchestration/defs/bank_quality.py) in the session chDB, fed by
bank sources other than Open Finance: the demo company's CNAB 240 statement files read by the real parser, and
snapshots of three sources on one account. The check is invoked as Dagster runs it, against small
`staging.stg_bank__balances` / `stg_bank__transactions` tables holding the columns it reads (the real models on
real statements: tests/dbt/test_bank_statement_staging.py)."""

from datetime import date

import dagster as dg
import pytest

from orchestration.defs.bank_quality import STG_BALANCES, balance_continuity
from orchestration.resources.warehouse import ClickHouseResource

BALANCES_DDL = (
    "CREATE TABLE staging.stg_bank__balances (bank_source LowCardinality(String), institution String, "
    "account_id String, bank_account_key String, update_datetime DateTime64(3, 'UTC'), "
    "available_amount Decimal(18, 4)) ENGINE = MergeTree ORDER BY tuple()"
)
TRANSACTIONS_DDL = (
    "CREATE TABLE staging.stg_bank__transactions (bank_source LowCardinality(String), institution String, "
    "account_id String, bank_account_key String, transaction_id String, status String, "
    "transaction_datetime DateTime64(3, 'UTC'), signed_amount Decimal(18, 4)) ENGINE = MergeTree ORDER BY tuple()"
)
DECEMBER = (date(2024, 12, 1), date(2024, 12, 31))


@pytest.fixture
def bank_staging(warehouse):
    """Empty staging.stg_bank__balances and __transactions, dropped after the test."""
    warehouse.command("CREATE DATABASE IF NOT EXISTS staging")
    for table in ("stg_bank__balances", "stg_bank__transactions"):
        warehouse.command(f"DROP TABLE IF EXISTS staging.{table}")
    warehouse.command(BALANCES_DDL)
    warehouse.command(TRANSACTIONS_DDL)
    yield warehouse
    for table in ("stg_bank__balances", "stg_bank__transactions"):
        warehouse.command(f"DROP TABLE IF EXISTS staging.{table}")


def run_check(chdb_url, tmp_path) -> dg.AssetCheckResult:
    return balance_continuity(
        dg.build_asset_check_context(), warehouse=ClickHouseResource(url=chdb_url, data_dir=str(tmp_path))
    )


def metadata(result: dg.AssetCheckResult) -> dict:
    return {key: value.value for key, value in result.metadata.items()}


def key_of(record: dict) -> str:
    """The bank account key (macros/bank_account_key.sql) of a parsed statement record: the parser already drops
    the zero padding of branch and number."""
    return f"{record['compe_code']}:{record['branch_code']}:{record['number']}-{record['check_digit']}"


def cnab240_december() -> tuple[list[tuple], list[tuple]]:
    """The demo company's December CNAB 240 statements (seed 42, scale 0.2), read by the real parser, as rows of
    the two tables: a balance at the end of every day (the batch trailer), every movement at noon."""
    from ingestion.bank_statements import cnab240
    from sandboxes.demo_company import generate
    from sandboxes.demo_company.statements import statement_files

    files = statement_files(generate(seed=42, scale=0.2), formats=("cnab240",), between=DECEMBER)
    balances, transactions = [], []
    for name, data in sorted(files.items()):
        records = cnab240.parse(data, name, "sha").records
        for row in records["balances"]:
            balances.append(
                ("bank_statement", row["institution"], row["account_id"], key_of(row), row["update_datetime"],
                 row["available_amount"])
            )  # fmt: skip
        for row in records["transactions"]:
            transactions.append(
                ("bank_statement", row["institution"], row["account_id"], key_of(row), row["transaction_id"],
                 "TRANSACAO_EFETIVADA", row["transaction_datetime"], row["signed_amount"])
            )  # fmt: skip
    return balances, transactions


def test_the_check_is_on_the_unified_bank_balances_not_on_open_finances(definitions):
    keys = definitions.resolve_asset_graph().asset_check_keys
    continuity = [key for key in keys if key.name == "balance_continuity"]
    assert [key.asset_key for key in continuity] == [STG_BALANCES]
    assert STG_BALANCES.path[-1] == "stg_bank__balances"


def test_continuity_holds_on_cnab240_statements_and_a_missed_movement_breaks_it_naming_the_source(
    bank_staging, chdb_url, tmp_path
):
    balances, transactions = cnab240_december()
    bank_staging.client.insert("stg_bank__balances", balances, database="staging")
    bank_staging.client.insert("stg_bank__transactions", transactions, database="staging")
    accounts = {row[3] for row in balances}
    assert len(accounts) == 2 and len(balances) == 2 * 31  # two accounts, a final balance every day of December

    held = run_check(chdb_url, tmp_path)
    assert held.passed, metadata(held)
    assert held.severity == dg.AssetCheckSeverity.WARN
    found = metadata(held)
    assert found["bank_sources"] == "bank_statement"
    assert found["intervals_compared"] == 2 * 30  # each day's balance against the day before's
    assert found["intervals_compared_by_source"] == {"bank_statement": 60}
    assert (found["breaks"], found["sources_of_breaks"]) == (0, "none")

    # the statement missed one movement of 16 December: the balances no longer follow from the movements there
    missed = next(row for row in transactions if row[6].date() == date(2024, 12, 16))
    bank_staging.command(f"DELETE FROM staging.stg_bank__transactions WHERE transaction_id = '{missed[4]}'")
    broken = run_check(chdb_url, tmp_path)
    assert not broken.passed
    found = metadata(broken)
    assert found["breaks"] == 1
    assert found["sources_of_breaks"] == "bank_statement"
    assert found["breaks_by_source"] == {"bank_statement": 1}
    assert found["first_breaks"].startswith(f"{missed[3]} 2024-12-16 02:59:59.999000..2024-12-17 02:59:59.999000")
    assert "[bank_statement]" in found["first_breaks"]


def test_snapshots_of_different_sources_are_one_account_by_its_key_and_a_break_names_them(
    bank_staging, chdb_url, tmp_path
):
    key = "341:2424:69250536-7"
    bank_staging.command(
        "INSERT INTO staging.stg_bank__balances VALUES "
        # one account seen by three sources, each with its own account id: one account by its key
        f"('pluggy', 'bank_341', 'uuid-1', '{key}', '2024-12-01 23:00:00', 100), "
        f"('bank_statement', 'bank_341', '341-2424-69250536-7', '{key}', '2024-12-02 23:00:00', 130), "
        f"('open_finance', 'bank_341', 'ACC-341', '{key}', '2024-12-03 23:00:00', 999), "
        # another account, no movement: holds
        "('bank_statement', 'bank_001', '001-9355-13772361-7', '001:9355:13772361-7', '2024-12-01 23:00:00', 5), "
        "('bank_statement', 'bank_001', '001-9355-13772361-7', '001:9355:13772361-7', '2024-12-02 23:00:00', 5)"
    )
    bank_staging.command(
        "INSERT INTO staging.stg_bank__transactions VALUES "
        f"('bank_statement', 'bank_341', 'ACC-341', '{key}', 't1', 'TRANSACAO_EFETIVADA', '2024-12-02 12:00:00', 50), "
        f"('bank_statement', 'bank_341', 'ACC-341', '{key}', 't2', 'TRANSACAO_EFETIVADA', '2024-12-02 13:00:00', -20), "
        f"('pluggy', 'bank_341', 'ACC-341', '{key}', 't3', 'LANCAMENTO_FUTURO', '2024-12-02 14:00:00', -70), "
        f"('bank_statement', 'bank_341', 'ACC-341', '{key}', 't4', 'TRANSACAO_EFETIVADA', '2024-12-03 10:00:00', 1)"
    )
    result = run_check(chdb_url, tmp_path)
    # 100 + 50 - 20 = 130 holds (the pending entry does not move the balance); 130 + 1 != 999 breaks
    assert not result.passed
    found = metadata(result)
    assert found["bank_sources"] == "bank_statement, open_finance, pluggy"
    assert found["intervals_compared"] == 3
    assert found["breaks"] == 1
    assert found["breaks_by_source"] == {"bank_statement": 1, "open_finance": 1}
    assert found["first_breaks"] == (
        f"{key} 2024-12-02 23:00:00..2024-12-03 23:00:00 [bank_statement, open_finance]: 130.0000 + 1.0000 != 999.0000"
    )
