"""sandboxes/demo_company/bank_source_ids.py: the ids each bank source gives the demo company's accounts and
movements map back to the bank truth's, checked against what each source really delivers: the demo's OFX and
CNAB 240 statement files read by the real parsers (tests/sandboxes/demo_statements.py), and the Pluggy stand-in's
records (whose `providerId` is the truth's id)."""

from datetime import date

from sandboxes.demo_company.bank_source_ids import truth_ids, with_truth_ids
from tests.sandboxes.demo_statements import bank_truth, cnab240_ids_from_the_files, statement_records


def test_statement_ids_map_to_the_truths_movements_and_accounts():
    ids = truth_ids(bank_truth())
    truth = {row["transaction_id"]: row for row in bank_truth()["bank_transactions"]}
    expected = cnab240_ids_from_the_files()
    assert len(expected) == len(truth)  # every movement of the year, once
    assert {cnab: ids.transaction(cnab) for cnab in expected} == expected
    assert all(cnab.startswith("CNAB-") for cnab in expected)
    fitids = [row["fitid"] for row in statement_records()["ofx"]["transactions"]]
    assert {ids.transaction(fitid) for fitid in fitids} == set(truth)  # an OFX FITID is the truth's id itself
    accounts = {row["account_id"]: row["compe_code"] for fmt in ("ofx", "cnab240")
                for row in statement_records()[fmt]["accounts"]}  # fmt: skip
    compe_of = {row["account_id"]: row["compe_code"] for row in bank_truth()["bank_accounts"]}
    assert {account: compe_of[ids.account(account)] for account in accounts} == accounts
    assert len(accounts) == len(compe_of) == 2


def test_pluggy_ids_map_to_the_truths_movements_and_accounts():
    from sandboxes.pluggy.data import world_from_truth

    ids = truth_ids(bank_truth())
    world = world_from_truth(bank_truth(), today=date(2024, 12, 31))
    truth_accounts = {row["account_id"] for row in bank_truth()["bank_accounts"]}
    bank_accounts = [
        account for accounts in world.accounts.values() for account in accounts if account["type"] == "BANK"
    ]
    assert {ids.account(account["id"]) for account in bank_accounts} == truth_accounts
    records = [record for account in bank_accounts for record in world.transactions[account["id"]]]
    assert len(records) == len(bank_truth()["bank_transactions"])
    assert all(ids.transaction(record["id"]) == record["providerId"] for record in records)
    assert all(record["id"] != record["providerId"] for record in records)  # Pluggy's own ids, not the truth's


def test_an_id_no_source_gave_stays_as_it_is():
    ids = truth_ids(bank_truth())
    rows = [{"bank_transaction_id": "not-a-movement", "erp_document_id": "AR-1"}]
    assert with_truth_ids(rows, "bank_transaction_id", ids.transactions) == rows
    provisional = [row["provisional_transaction_id"] for row in bank_truth()["bank_transactions"]
                   if row.get("provisional_transaction_id")]  # fmt: skip
    assert provisional  # the realistic company has a movement delivered twice across Open Finance pulls
    assert [ids.transaction(p) for p in provisional] == provisional  # left as they are: scored as duplicates
