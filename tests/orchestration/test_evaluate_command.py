"""`importau evaluate` says what is missing instead of scoring nothing, and scores a warehouse fed by a bank source
other than Open Finance: the demo company's CNAB 240 statement files (read by the real parser: their own account
and movement ids) in the tables evaluate reads, in the session chDB. The scoring itself: tests/ingestion/erp/
test_erp_demo_scoring.py on hand-made rows, tests/marts on the built demo; the ids: tests/sandboxes/
test_bank_source_ids.py."""

import json
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest

from orchestration.cli import main
from orchestration.commands.evaluate import LANDED_COST_FIELDS
from tests.ml.synthetic import (
    ANOMALY_TYPES,
    CASH_TYPES,
    DELAY_TYPES,
    load_frame,
    synthetic_cash_flow,
    synthetic_movements,
    synthetic_shipments,
)
from tests.sandboxes.demo_statements import bank_truth, cnab240_ids_from_the_files, company, statement_records

AMOUNTS = ", ".join(f"{field} Decimal(18, 2)" for field in LANDED_COST_FIELDS)
TABLES = {
    "marts.fct_payment_reconciliation": "row_type String, bank_transaction_id Nullable(String), "
    "erp_document_type Nullable(String), erp_document_id Nullable(String), match_rule Nullable(String), "
    "match_status String",
    "staging.stg_erp__import_declarations": f"declaration_id String, exchange_rate Decimal(18, 6), {AMOUNTS}, "
    "is_deleted Bool",
    "marts.fct_import_landed_cost": f"declaration_id String, siscomex_rate Decimal(18, 6), {AMOUNTS}, "
    "declaration_has_erp_difference Bool, has_missing_rate Bool",
    "marts.fct_cash_position_daily": "line_type String, account_id Nullable(String), date Date, amount Decimal(18, 4)",
    "staging.stg_bank__transactions": "bank_source LowCardinality(String), transaction_id String",
}
FEATURES = {
    "ml.ml_supplier_delay__features": DELAY_TYPES,
    "ml.ml_cash_flow__features": CASH_TYPES,
    "ml.ml_transaction_anomaly__features": ANOMALY_TYPES,
}
DECEMBER = [date(2024, 12, 1) + timedelta(days=n) for n in range(31)]


def test_without_a_demo_there_is_nothing_to_score(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("IMPORTAU_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CLICKHOUSE_URL", raising=False)
    assert main(["evaluate", "--json"]) == 2
    assert "no ground truth" in capsys.readouterr().err


def statement_balances() -> list[tuple]:
    """The December `account_balance` lines of the cash position, as a CNAB 240-fed warehouse names the accounts
    (the statement's `<COMPE>-<branch>-<number>-<DV>`), each the truth's balance: opening + postings to the day."""
    accounts = {row["compe_code"]: row["account_id"] for row in statement_records()["cnab240"]["accounts"]}
    postings = defaultdict(list)
    for row in bank_truth()["bank_transactions"]:
        signed = row["amount"] if row["credit_debit_type"] == "CREDITO" else -row["amount"]
        postings[row["account_id"]].append((row["booking_date"], signed))
    lines = []
    for account in bank_truth()["bank_accounts"]:
        for day in DECEMBER:
            moved = sum((amount for booked, amount in postings[account["account_id"]] if booked <= day), Decimal(0))
            lines.append(("account_balance", accounts[account["compe_code"]], day, account["opening_balance"] + moved))
    return lines


@pytest.fixture
def cnab240_fed(warehouse, tmp_path, monkeypatch):
    """The session warehouse holding what evaluate reads of a demo fed by CNAB 240 statement files (every truth
    link matched, every balance right; no ML feature tables: `load_features`), and the demo's truth files under
    `tmp_path/demo`."""
    from sandboxes.demo_company.writers import write_bank_truth, write_ground_truth

    write_bank_truth(company(), tmp_path / "demo" / "bank")
    write_ground_truth(company(), tmp_path / "demo" / "ground_truth.json")
    monkeypatch.setenv("IMPORTAU_DATA_DIR", str(tmp_path))
    cnab_of = {truth: cnab for cnab, truth in cnab240_ids_from_the_files().items()}
    for database in ("marts", "staging", "ml"):
        warehouse.command(f"CREATE DATABASE IF NOT EXISTS {database}")
    for table, columns in TABLES.items():
        warehouse.command(f"DROP TABLE IF EXISTS {table}")
        warehouse.command(f"CREATE TABLE {table} ({columns}) ENGINE = MergeTree ORDER BY tuple()")
    matches = [
        ("MATCH", cnab_of[m["bank_transaction_id"]], m["erp_document_type"], m["erp_document_id"], "EXACT", "MATCHED")
        for m in company().ground_truth["matches"].to_pylist()
    ]
    warehouse.client.insert("marts.fct_payment_reconciliation", matches)
    movements = [("bank_statement", row["transaction_id"]) for row in statement_records()["cnab240"]["transactions"]]
    warehouse.client.insert("staging.stg_bank__transactions", movements)
    warehouse.client.insert("marts.fct_cash_position_daily", statement_balances())
    yield warehouse
    for table in [*TABLES, *FEATURES]:
        warehouse.command(f"DROP TABLE IF EXISTS {table}")


def load_features(warehouse) -> None:
    """The ML feature tables (synthetic frames), the anomaly model's rows under the CNAB 240 movement ids."""
    movements = [row["transaction_id"] for row in statement_records()["cnab240"]["transactions"]]
    anomaly_features, _ = synthetic_movements(n=len(movements))
    anomaly_features["bank_transaction_id"] = movements
    frames = [synthetic_shipments(signal=True), synthetic_cash_flow(), anomaly_features]
    for (table, types), frame in zip(FEATURES.items(), frames, strict=True):
        load_frame(warehouse, table, frame, types)


def evaluate(chdb_url, capsys, *flags: str) -> tuple[int, str]:
    code = main(["evaluate", *flags, "--url", chdb_url])
    return code, capsys.readouterr().out


def test_a_demo_fed_by_cnab240_statements_is_scored_under_the_truths_ids(cnab240_fed, chdb_url, capsys):
    load_features(cnab240_fed)
    code, out = evaluate(chdb_url, capsys, "--json")
    result = json.loads(out)
    truth = bank_truth()["bank_transactions"]
    assert result["bank_sources"] == {"bank_statement": len(truth)}
    recon = result["reconciliation"]
    assert recon["true_links"] > 0 and recon["correct_links"] == recon["true_links"]
    assert (recon["precision"], recon["recall"], recon["meets_targets"]) == (1.0, 1.0, True)
    treasury = result["treasury"]
    assert treasury["account_balances"] == {"account_days": 2 * 31, "off": 0, "first_off": [], "exact": True}
    assert treasury["deduplication"]["movements_in_staging"] == len(truth)
    assert treasury["deduplication"]["exact"] and treasury["exact"]
    anomaly = result["model_metrics"]["models"]["transaction_anomaly"]
    known = {a["bank_transaction_id"] for a in company().ground_truth["anomalies"].to_pylist()}
    assert anomaly["n_known_anomalies"] == len(known - {None}) > 0  # the truth's anomalies found under CNAB ids
    assert code == 0


def test_a_wrong_balance_and_a_movement_twice_are_found_under_the_truths_ids(cnab240_fed, chdb_url, capsys):
    statement_account = statement_balances()[0][1]
    truth_account = next(a["account_id"] for a in bank_truth()["bank_accounts"] if a["compe_code"] == "001")
    cnab240_fed.command(
        "ALTER TABLE marts.fct_cash_position_daily UPDATE amount = amount + 0.01 "
        f"WHERE account_id = '{statement_account}' AND date = '2024-12-16' SETTINGS mutations_sync = 1"
    )
    # one movement read from both formats: its OFX FITID beside its CNAB 240 id (staging must keep one)
    cnab, fitid = next(iter(cnab240_ids_from_the_files().items()))
    cnab240_fed.client.insert("staging.stg_bank__transactions", [("bank_statement", fitid)])
    code, out = evaluate(chdb_url, capsys, "--json")
    result = json.loads(out)
    assert result["model_metrics"]["status"] == "not evaluated"  # no feature tables here: reported, not fatal
    treasury = result["treasury"]
    assert treasury["account_balances"]["off"] == 1
    assert treasury["account_balances"]["first_off"][0][:2] == [truth_account, "2024-12-16"]
    assert treasury["deduplication"]["repeated_ids_in_staging"] == 1 and not treasury["deduplication"]["exact"]
    assert code == 1
    _, summary = evaluate(chdb_url, capsys)
    assert f"bank data from: bank_statement ({len(bank_truth()['bank_transactions']) + 1} movements)" in summary
    assert cnab.startswith("CNAB-")
