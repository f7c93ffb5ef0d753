"""Bank statement staging views (dbt_project/models/staging/bank_statement) on chDB.

`bank_statement_raw_fixtures.py` loads the demo company's statements (seed 42, scale 0.2) in both formats, OFX and
CNAB 240, through the parsers and the contract, each file with its own arrival: Banco do Brasil's CNAB 240 files
arrive after its OFX files, Itaú's OFX after its CNAB 240. `importau-dbt build --select` the bank statement and
Open Finance staging folders then runs the views, their data tests and the unit tests of the mapping. The views
must give every movement of the bank truth exactly once (the later file covering a day replaces the earlier one:
count and sum per account and month equal the truth's) and begin with the columns and ClickHouse types of the Open
Finance staging models, which the unified bank staging unions with them. Through the unified bank staging
(`staging/bank`, every source selected; only the statements have rows) the `balance_continuity` check's query
(orchestration/defs/bank_quality.py) finds every daily balance explained by the movements: both formats' balances
and movements, the later file winning, keep the identity.
"""

import json
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal

import pytest

from orchestration.defs.bank_quality import BALANCE_CONTINUITY_SQL, COMPARED_SQL
from tests.dbt.dbt_harness import HERE, DbtRun, dbt_env, query, run_dbt

ENTITIES = ("accounts", "balances", "transactions", "credit_card_accounts", "credit_card_transactions")


@dataclass
class Build:
    dbt: DbtRun
    fixture: dict
    result: dict


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Build:
    data_dir = tmp_path_factory.mktemp("dbt_bank_statement")
    loaded = subprocess.run(
        [sys.executable, str(HERE / "bank_statement_raw_fixtures.py"), str(data_dir)],
        env=dbt_env(data_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    dbt = run_dbt(
        data_dir,
        "build",
        "--select",
        "path:models/staging/bank_statement",
        "path:models/staging/open_finance",
        "path:models/staging/pluggy",
        "path:models/staging/bank",
    )
    assert dbt.returncode == 0, dbt.output[-8000:]
    names = ", ".join(f"'stg_{source}__{e}'" for source in ("bank_statement", "open_finance") for e in ENTITIES)
    result = query(
        data_dir,
        columns=f"SELECT table, name, type FROM system.columns WHERE database = 'staging' AND table IN ({names})"
        " ORDER BY table, position",
        months="SELECT account_id, statement_format, formatDateTime(booking_date, '%Y-%m') AS month, count() AS n,"
        " sum(signed_amount) AS total FROM staging.stg_bank_statement__transactions GROUP BY ALL",
        balances="SELECT account_id, balance_date, statement_format FROM staging.stg_bank_statement__balances",
        accounts="SELECT * FROM staging.stg_bank_statement__accounts ORDER BY account_id",
        typed="SELECT statement_format, transaction_type, count() AS n, countIf(partie_cnpj_cpf IS NOT NULL) AS"
        " with_tax_id FROM staging.stg_bank_statement__transactions GROUP BY ALL",
        continuity_compared=COMPARED_SQL,
        continuity_breaks=BALANCE_CONTINUITY_SQL,
    )
    return Build(dbt, json.loads(loaded.stdout), result)


def test_the_views_their_data_tests_and_the_mapping_unit_tests_pass(build):
    results = {r["unique_id"]: r["status"] for r in build.dbt.run_results["results"]}
    unit = [uid for uid in results if uid.startswith("unit_test.") and "bank_statement" in uid]
    assert len(unit) == 2 and all(results[uid] == "pass" for uid in unit)
    assert all(status in ("pass", "success") for status in results.values()), results


def test_the_columns_begin_with_the_open_finance_staging_columns_and_types(build):
    tables: dict[str, list[tuple[str, str]]] = {}
    for row in build.result["columns"]:
        tables.setdefault(row["table"], []).append((row["name"], row["type"]))
    for entity in ENTITIES:
        open_finance = tables[f"stg_open_finance__{entity}"]
        statements = tables[f"stg_bank_statement__{entity}"]
        assert statements[: len(open_finance)] == open_finance, entity
        assert ("statement_format", "LowCardinality(String)") in statements[len(open_finance) :]


def test_every_movement_of_the_truth_once_per_account_and_month(build):
    truth = build.fixture["truth"]
    seen = {}
    for row in build.result["months"]:
        key = f"{row['account_id']}|{row['month']}"
        assert key not in seen, f"{key} read from two formats"
        seen[key] = {"count": row["n"], "sum": Decimal(row["total"]), "format": row["statement_format"]}
    assert set(seen) == set(truth)
    for key, expected in truth.items():
        assert (seen[key]["count"], seen[key]["sum"]) == (expected["count"], Decimal(expected["sum"])), key
    # the later file covering a day wins: Banco do Brasil's CNAB 240 arrived last, Itaú's OFX
    assert {v["format"] for k, v in seen.items() if k.startswith("001-")} == {"CNAB240"}
    assert {v["format"] for k, v in seen.items() if k.startswith("341-")} == {"OFX"}


def test_one_balance_per_account_and_day_the_later_file_winning(build):
    days: dict[str, set] = {}
    for row in build.result["balances"]:
        assert row["balance_date"] not in days.setdefault(row["account_id"], set())
        days[row["account_id"]].add(row["balance_date"])
        if row["account_id"].startswith("341-") and row["balance_date"].endswith(("-01-31", "-06-30", "-12-31")):
            assert row["statement_format"] == "OFX"  # Itaú's month-end balance comes from its later OFX
    assert {account: len(found) for account, found in days.items()} == {
        "001-9355-13772361-7": 366,
        "341-2424-69250536-7": 366,
    }


def test_accounts_carry_the_holder_from_cnab_even_when_the_latest_file_is_ofx(build):
    accounts = {row["account_id"]: row for row in build.result["accounts"]}
    assert accounts["341-2424-69250536-7"]["statement_format"] == "OFX"
    assert accounts["341-2424-69250536-7"]["company_cnpj"] == "20274604000133"
    assert accounts["341-2424-69250536-7"]["institution"] == "bank_341"
    assert accounts["001-9355-13772361-7"]["brand_name"] == "Banco do Brasil"
    assert accounts["341-2424-69250536-7"]["statement_file"].endswith(".ofx")


def test_types_and_counterparties_come_through_both_formats(build):
    typed = {(r["statement_format"], r["transaction_type"]): r for r in build.result["typed"]}
    for fmt in ("OFX", "CNAB240"):
        assert typed[(fmt, "PIX")]["with_tax_id"] > 0
        assert typed[(fmt, "BOLETO")]["with_tax_id"] > 0
    kinds = {kind for _, kind in typed}
    assert {"TED", "CONVENIO_ARRECADACAO", "TARIFA_SERVICOS_AVULSOS", "PACOTE_TARIFA_SERVICOS", "OUTROS"} <= kinds


def test_the_balance_continuity_check_holds_on_the_statements_through_the_unified_bank_staging(build):
    compared = {row["source"]: row["intervals"] for row in build.result["continuity_compared"]}
    assert compared == {"bank_statement": 2 * 365}  # a balance every day of 2024 per account, each after another
    assert build.result["continuity_breaks"] == []
