"""The reconciliation asset check: metadata from the evaluator when the demo ground truth exists, a passing note
(without opening the warehouse) when it does not, and the mart's movement ids of a bank source other than Open
Finance (CNAB 240 statement files) mapped back to the truth's. The check on the real demo mart is in tests/marts."""

import json

import dagster as dg

from orchestration.defs.mart_checks import (
    ground_truth_path,
    reconciliation_check_result,
    reconciliation_matches_demo_ground_truth,
)
from orchestration.resources.warehouse import ClickHouseResource
from tests.sandboxes.demo_statements import cnab240_ids_from_the_files, company


def _truth_file(tmp_path, matches):
    path = ground_truth_path(str(tmp_path))
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"matches": matches, "anomalies": [], "erp_errors": []}))
    return path


def test_without_ground_truth_the_check_passes_with_a_note_and_never_opens_the_warehouse(tmp_path):
    # the data dir has no warehouse at all: opening it would create one, so an empty folder proves it was not opened
    result = reconciliation_matches_demo_ground_truth(
        dg.build_asset_check_context(), warehouse=ClickHouseResource(data_dir=str(tmp_path))
    )
    assert result.passed
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert "no ground truth" in result.metadata["note"].value
    assert list(tmp_path.iterdir()) == []


def test_below_the_targets_the_check_fails_as_a_warning_with_the_numbers(tmp_path):
    truth = [
        {
            "bank_transaction_id": f"tx{i}",
            "erp_document_type": "RECEIVABLE",
            "erp_document_id": f"AR-{i}",
            "match_type": "EXACT",
        }
        for i in range(100)
    ]
    path = _truth_file(tmp_path, truth)
    # 96 of 100 found (recall 0.96 < 0.97), one wrong link (precision 96/97 = 0.9897 < 0.99)
    rows = [
        {
            "bank_transaction_id": f"tx{i}",
            "erp_document_type": "RECEIVABLE",
            "erp_document_id": f"AR-{i}",
            "match_rule": "EXACT_AMOUNT_COUNTERPARTY",
            "match_status": "MATCHED",
        }
        for i in range(96)
    ] + [
        {
            "bank_transaction_id": "tx99",
            "erp_document_type": "RECEIVABLE",
            "erp_document_id": "AR-0",
            "match_rule": "EXACT_AMOUNT_COUNTERPARTY",
            "match_status": "MATCHED",
        }
    ]
    result = reconciliation_check_result(rows, path)
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.WARN
    metadata = {key: value.value for key, value in result.metadata.items()}
    assert metadata["precision"] == round(96 / 97, 4)
    assert metadata["recall"] == 0.96
    assert metadata["recall__EXACT"] == 0.96
    assert metadata["links__EXACT_AMOUNT_COUNTERPARTY"] == 97
    assert metadata["false_positives_sample"] == "tx99/RECEIVABLE/AR-0"
    assert metadata["false_negatives_sample"].split(", ")[0] == "tx96/RECEIVABLE/AR-96"
    assert (metadata["precision_target"], metadata["recall_target"]) == (0.99, 0.97)


def test_links_of_a_demo_fed_by_cnab240_statements_are_scored_under_the_truths_ids(tmp_path):
    from sandboxes.demo_company.writers import write_bank_truth, write_ground_truth

    path = ground_truth_path(str(tmp_path))
    write_ground_truth(company(), path)
    cnab_of = {truth: cnab for cnab, truth in cnab240_ids_from_the_files().items()}
    matches = company().ground_truth["matches"].to_pylist()
    rows = [
        {
            "bank_transaction_id": cnab_of[m["bank_transaction_id"]],  # the statement's id, as the mart carries it
            "erp_document_type": m["erp_document_type"],
            "erp_document_id": m["erp_document_id"],
            "match_rule": "EXACT_AMOUNT_COUNTERPARTY",
            "match_status": "MATCHED",
        }
        for m in matches
    ]
    unmapped = reconciliation_check_result(rows, path)  # no bank truth beside the ground truth: ids as they are
    assert not unmapped.passed and unmapped.metadata["precision"].value == 0.0
    write_bank_truth(company(), path.parent / "bank")
    result = reconciliation_check_result(rows, path)
    assert result.passed, result.metadata
    metadata = {key: value.value for key, value in result.metadata.items()}
    assert (metadata["precision"], metadata["recall"]) == (1.0, 1.0)
    assert metadata["correct_links"] == len(
        {(m["bank_transaction_id"], m["erp_document_type"], m["erp_document_id"]) for m in matches}
    )
