"""stg_pluggy__* on chDB, fed by the real pipeline: the Pluggy stand-in serving a demo company's bank truth -> the
Dagster pull and raw load -> dbt. Checks the truth comes through staging, the column contract with the Open Finance
staging models (same names and ClickHouse types, then Pluggy's extra columns), and the staging mapping on planted
raw rows (BANK only, subtype mapping, latest month wins, a transaction moved to another month counts once).
The load runs in its own process (chDB hosts one folder per process; dbt opens it after)."""

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


def _truth():
    from sandboxes.demo_company.company import generate

    company = generate(seed=SEED, scale=0.1, start=START, end=END)
    return {name: table.to_pylist() for name, table in company.bank.items()}


PLANTED_ACCOUNTS = """
INSERT INTO raw.pluggy__accounts
(institution, item_id, account_id, connector_name, type, subtype, name, number, compe_code, branch_code,
 account_number, check_digit, owner_tax_number, currency, raw_json, _partition_date, _loaded_at, _source_file)
VALUES
('planted', 'I1', 'A1', 'Banco P', 'BANK', 'CHECKING_ACCOUNT', 'CC', '1234-5', '999', '0001', '1234', '5',
 '20274604000133', 'BRL', '{}', '2024-01-01', '2024-02-01 06:00:00', '/lake/jan'),
('planted', 'I1', 'A1', 'Banco P', 'BANK', 'CHECKING_ACCOUNT', 'CC', '1234-5', '999', '0002', '1234', '5',
 '20274604000133', 'BRL', '{}', '2024-02-01', '2024-03-01 06:00:00', '/lake/feb'),
('planted', 'I1', 'C1', 'Banco P', 'CREDIT', 'CREDIT_CARD', 'Card', '8897', '999', NULL, '8897', '',
 NULL, 'BRL', '{}', '2024-02-01', '2024-03-01 06:00:00', '/lake/feb'),
('planted', 'I2', 'A2', NULL, 'BANK', 'SAVINGS_ACCOUNT', 'Poup', '777', NULL, NULL, '777', '',
 NULL, 'BRL', '{}', '2024-02-01', '2024-03-01 06:00:00', '/lake/feb')
"""
PLANTED_TRANSACTIONS = """
INSERT INTO raw.pluggy__transactions
(institution, item_id, account_id, transaction_id, provider_id, pluggy_status, status, credit_debit_type,
 operation_type, payment_method, transaction_type, transaction_name, amount, signed_amount, currency, balance_after,
 transaction_datetime, booking_date, partie_cnpj_cpf, partie_person_type, partie_compe_code, partie_branch_code,
 partie_number, partie_check_digit, partie_name, raw_json, _partition_date, _loaded_at, _source_file)
VALUES
('planted', 'I1', 'A1', 'T1', 'P1', 'PENDING', 'TRANSACAO_PROCESSANDO', 'DEBITO', 'BOLETO', 'BOLETO', 'BOLETO',
 'PAG BOLETO', 100, -100, 'BRL', NULL, '2024-01-31 15:00:00', '2024-01-31', '83481151000136', 'PESSOA_JURIDICA',
 '237', '3136', '979420283', '5', NULL, '{}', '2024-01-01', '2024-02-01 06:00:00', '/lake/jan'),
('planted', 'I1', 'A1', 'T1', 'P1', 'POSTED', 'TRANSACAO_EFETIVADA', 'DEBITO', 'BOLETO', 'BOLETO', 'BOLETO',
 'PAG BOLETO', 100, -100, 'BRL', 900, '2024-02-01 15:00:00', '2024-02-01', '83481151000136', 'PESSOA_JURIDICA',
 '237', '3136', '979420283', '5', NULL, '{}', '2024-02-01', '2024-03-01 06:00:00', '/lake/feb')
"""


def load(data_dir: str) -> None:
    """In a subprocess: the stand-in, the Pluggy assets for 2024-01..03, empty Open Finance raw tables (their
    staging views give the column contract), then the planted rows."""
    import os

    import dagster as dg

    from ingestion.common.warehouse import open_warehouse
    from orchestration.defs import pluggy as pluggy_defs
    from orchestration.resources.lake import LakeResource
    from orchestration.resources.pluggy import PluggyResource
    from orchestration.resources.warehouse import ClickHouseResource
    from sandboxes.pluggy import PluggyStandIn
    from tests.dbt.raw_fixtures import _empty_open_finance_tables

    with PluggyStandIn(_truth(), END, transactions_page_size=200) as stand_in:
        env = stand_in.env()
        os.environ.update(PLUGGY_CLIENT_SECRET=env["PLUGGY_CLIENT_SECRET"], IMPORTAU_TODAY=END.isoformat())
        resources = {
            "pluggy": PluggyResource(
                base_url=env["PLUGGY_BASE_URL"], client_id=env["PLUGGY_CLIENT_ID"], item_ids=env["PLUGGY_ITEM_IDS"]
            ),
            "lake": LakeResource(data_dir=data_dir),
            "warehouse": ClickHouseResource(data_dir=data_dir),
        }
        tags = {"dagster/asset_partition_range_start": "2024-01-01", "dagster/asset_partition_range_end": "2024-03-01"}
        assert dg.materialize(pluggy_defs.assets, resources=resources, tags=tags).success
    with open_warehouse("", data_dir, owner="pytest") as wh:
        _empty_open_finance_tables(wh.client)
        wh.command(PLANTED_ACCOUNTS)
        wh.command(PLANTED_TRANSACTIONS)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("pluggy_dbt")
    completed = subprocess.run(
        [sys.executable, "-c", f"from tests.dbt.test_pluggy_staging import load; load({str(data_dir)!r})"],
        env=dbt_env(data_dir),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-5000:]
    run = run_dbt(data_dir, "build", "--select", "staging.pluggy", "staging.open_finance")
    assert run.returncode == 0, run.output[-6000:]
    return data_dir


def test_the_truth_comes_through_staging(built):
    truth = _truth()
    expected = defaultdict(lambda: [0, Decimal(0)])
    for t in truth["bank_transactions"]:
        key = (t["booking_date"].replace(day=1).isoformat(), t["credit_debit_type"])
        expected[key][0] += 1
        expected[key][1] += t["amount"] if t["credit_debit_type"] == "CREDITO" else -t["amount"]
    result = query(
        built,
        staged="SELECT toString(toStartOfMonth(booking_date)) AS month, credit_debit_type, count() AS n, "
        "toString(sum(signed_amount)) AS total FROM staging.stg_pluggy__transactions "
        "WHERE institution != 'planted' GROUP BY month, credit_debit_type ORDER BY ALL",
        cards="SELECT count() AS n FROM staging.stg_pluggy__credit_card_transactions",
        balances="SELECT count() AS n FROM staging.stg_pluggy__balances",
    )
    got = {(r["month"], r["credit_debit_type"]): [r["n"], Decimal(r["total"])] for r in result["staged"]}
    assert got == {key: value for key, value in expected.items()}
    iof = sum(1 for p in truth["card_transactions"] if p["iof_amount"])
    assert result["cards"][0]["n"] == len(truth["card_transactions"]) + iof
    assert result["balances"][0]["n"] == len(truth["bank_accounts"])


@pytest.mark.parametrize(
    "entity",
    ["accounts", "balances", "transactions", "credit_card_transactions", "credit_card_accounts", "credit_card_bills"],
)
def test_the_columns_are_the_open_finance_ones_then_pluggys(built, entity):
    sql = "SELECT name, type FROM system.columns WHERE database = 'staging' AND table = '{}' ORDER BY position"
    result = query(built, of=sql.format(f"stg_open_finance__{entity}"), pluggy=sql.format(f"stg_pluggy__{entity}"))
    of = [(r["name"], r["type"]) for r in result["of"]]
    pluggy = [(r["name"], r["type"]) for r in result["pluggy"]]
    assert of and pluggy[: len(of)] == of
    extra = {name for name, _ in pluggy[len(of) :]}
    assert "item_id" in extra


def test_the_staging_mapping_on_planted_rows(built):
    result = query(
        built,
        accounts="SELECT account_id, brand_name, company_cnpj, account_type, compe_code, branch_code, number, "
        "check_digit, item_id, toString(pull_date) AS pull_date FROM staging.stg_pluggy__accounts "
        "WHERE institution = 'planted' ORDER BY account_id",
        transactions="SELECT transaction_id, status, toString(signed_amount) AS signed, toString(booking_date) AS day, "
        "toString(balance_after) AS balance_after, provider_id FROM staging.stg_pluggy__transactions "
        "WHERE institution = 'planted'",
    )
    assert result["accounts"] == [
        {
            "account_id": "A1",
            "brand_name": "Banco P",
            "company_cnpj": "20274604000133",
            "account_type": "CONTA_DEPOSITO_A_VISTA",
            "compe_code": "999",
            "branch_code": "0002",  # February's view wins
            "number": "1234",
            "check_digit": "5",
            "item_id": "I1",
            "pull_date": "2024-02-01",
        },
        {
            "account_id": "A2",
            "brand_name": "planted",  # no connector name: the institution
            "company_cnpj": "",
            "account_type": "CONTA_POUPANCA",
            "compe_code": "",
            "branch_code": None,
            "number": "777",
            "check_digit": "",
            "item_id": "I2",
            "pull_date": "2024-02-01",
        },
    ]  # C1, a card, is no account here
    assert result["transactions"] == [
        {
            "transaction_id": "T1",
            "status": "TRANSACAO_EFETIVADA",
            "signed": "-100",
            "day": "2024-02-01",
            "balance_after": "900",
            "provider_id": "P1",
        }
    ]


def test_without_the_source_the_views_build_empty(tmp_path):
    """Pluggy is optional: where it never ran (no raw.pluggy__* table) its staging views still build, empty, with
    the same columns (macros/optional_source.sql), so the rest of the project builds as before."""
    run = run_dbt(tmp_path, "build", "--select", "staging.pluggy")
    assert run.returncode == 0, run.output[-6000:]
    assert "raw.pluggy__transactions does not exist (the source never ran): reading it as empty" in run.output
    result = query(
        tmp_path,
        n="SELECT count() AS n FROM staging.stg_pluggy__transactions",
        types="SELECT type FROM system.columns WHERE database = 'staging' AND table = 'stg_pluggy__transactions' "
        "AND name = 'signed_amount'",
    )
    assert result["n"] == [{"n": 0}] and result["types"] == [{"type": "Decimal(18, 4)"}]
