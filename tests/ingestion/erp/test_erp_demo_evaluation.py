"""The reconciliation evaluator on tiny hand-made inputs: every number below is counted by hand."""

import json

import pytest

from sandboxes.demo_company.evaluation import evaluate, load_truth_matches


def _mart(bank, doc_type, doc_id, rule, status="MATCHED"):
    return {
        "bank_transaction_id": bank,
        "erp_document_type": doc_type,
        "erp_document_id": doc_id,
        "match_rule": rule,
        "match_status": status,
    }


def _truth(bank, doc_type, doc_id, match_type):
    return {
        "bank_transaction_id": bank,
        "erp_document_type": doc_type,
        "erp_document_id": doc_id,
        "match_type": match_type,
    }


TRUTH = [
    _truth("tx1", "PAYABLE", "AP-1", "FX_OPERATION"),  # principal
    _truth("tx2", "PAYABLE", "AP-1", "FX_OPERATION"),  # IOF of the same contract
    _truth("tx3", "RECEIVABLE", "AR-1", "EXACT"),
    _truth("tx4", "RECEIVABLE", "AR-2", "FEE_DEDUCTED"),
    _truth("tx5", "RECEIVABLE", "AR-3", "ONE_TO_MANY"),
    _truth("tx5", "RECEIVABLE", "AR-4", "ONE_TO_MANY"),
    _truth("tx6", "PAYABLE", "AP-1", "DUPLICATE"),
]
MART = [
    _mart("tx1", "PAYABLE", "AP-1", "FX_CONTRACT_REFERENCE"),
    _mart("tx2", "PAYABLE", "AP-1", "FX_CONTRACT_REFERENCE"),
    _mart("tx3", "RECEIVABLE", "AR-9", "EXACT_AMOUNT_COUNTERPARTY"),  # wrong document
    _mart("tx4", "RECEIVABLE", "AR-2", "AMOUNT_WITHIN_TOLERANCE"),
    _mart("tx5", "RECEIVABLE", "AR-3", "ONE_TO_MANY"),  # only one of the two invoices found
    _mart("tx6", "PAYABLE", "AP-1", "DUPLICATE_FX_PAYMENT", "NEEDS_INVESTIGATION"),
    _mart("tx7", None, None, None, "UNMATCHED"),  # unmatched bank movement: predicts nothing
    _mart(None, "RECEIVABLE", "AR-5", None, "UNMATCHED"),  # unmatched ERP document: predicts nothing
]


def test_overall_precision_and_recall_count_distinct_links():
    result = evaluate(MART, TRUTH)
    # predicted 6 links, 5 of them true (tx3/AR-9 is wrong); 7 true links, 5 found (tx3/AR-1, tx5/AR-4 missed)
    assert (result.predicted, result.true, result.correct) == (6, 7, 5)
    assert result.precision == pytest.approx(5 / 6)
    assert result.recall == pytest.approx(5 / 7)
    assert result.false_positives == [("tx3", "RECEIVABLE", "AR-9")]
    assert result.false_negatives == [("tx3", "RECEIVABLE", "AR-1"), ("tx5", "RECEIVABLE", "AR-4")]
    assert not result.meets_targets


def test_precision_per_rule_and_recall_per_ground_truth_type():
    result = evaluate(MART, TRUTH)
    assert {rule: (s.predicted, s.correct) for rule, s in result.by_rule.items()} == {
        "FX_CONTRACT_REFERENCE": (2, 2),
        "EXACT_AMOUNT_COUNTERPARTY": (1, 0),
        "AMOUNT_WITHIN_TOLERANCE": (1, 1),
        "ONE_TO_MANY": (1, 1),
        "DUPLICATE_FX_PAYMENT": (1, 1),
    }
    assert result.by_rule["EXACT_AMOUNT_COUNTERPARTY"].precision == 0.0
    assert {kind: (s.true, s.found, s.flagged) for kind, s in result.by_match_type.items()} == {
        "FX_OPERATION": (2, 2, 0),
        "EXACT": (1, 0, 0),
        "FEE_DEDUCTED": (1, 1, 0),
        "ONE_TO_MANY": (2, 1, 0),
        "DUPLICATE": (1, 1, 1),
    }
    assert result.by_match_type["ONE_TO_MANY"].recall == 0.5


def test_rows_repeating_a_link_count_once_and_perfect_inputs_meet_the_targets():
    truth = [_truth("tx1", "PAYABLE", "AP-1", "PARTIAL")]
    # one payable settled twice by the same contract would give two mart rows with the same link
    mart = [_mart("tx1", "PAYABLE", "AP-1", "FX_CONTRACT_REFERENCE")] * 2
    result = evaluate(mart, truth)
    assert (result.predicted, result.correct, result.precision, result.recall) == (1, 1, 1.0, 1.0)
    assert result.meets_targets


def test_empty_sides_give_ratios_of_one_not_a_division_error():
    result = evaluate([], [])
    assert (result.precision, result.recall) == (1.0, 1.0)
    nothing_found = evaluate([], [_truth("tx1", "PAYABLE", "AP-1", "EXACT")])
    assert (nothing_found.precision, nothing_found.recall) == (1.0, 0.0)


def test_metadata_is_flat_numbers_per_rule_and_type(tmp_path):
    metadata = evaluate(MART, TRUTH).to_metadata()
    assert metadata["precision"] == round(5 / 6, 4)
    assert metadata["recall"] == round(5 / 7, 4)
    assert metadata["precision__EXACT_AMOUNT_COUNTERPARTY"] == 0.0
    assert metadata["recall__ONE_TO_MANY"] == 0.5
    assert metadata["flagged__DUPLICATE"] == 1
    assert "flagged__EXACT" not in metadata
    assert all(isinstance(v, int | float) for v in metadata.values())
    path = tmp_path / "ground_truth.json"
    path.write_text(json.dumps({"matches": TRUTH, "anomalies": []}))
    assert load_truth_matches(path) == TRUTH


def test_review_proposals_are_counted_apart_and_only_matched_mistakes_are_silent():
    truth = [*TRUTH, _truth("tx8", "RECEIVABLE", "AR-6", "EXACT"), _truth("tx9", "PAYABLE", "AP-2", "EXACT")]
    mart = [
        *MART,
        _mart("tx8", "RECEIVABLE", "AR-6", "NAME_AND_AMOUNT", "NEEDS_REVIEW"),  # right, only proposed
        _mart("tx9", "PAYABLE", "AP-3", "NAME_AND_AMOUNT", "NEEDS_REVIEW"),  # wrong, only proposed
    ]
    result = evaluate(mart, truth)
    # the proposals neither add to the predicted links nor count as found
    assert (result.predicted, result.true, result.correct) == (6, 9, 5)
    assert (result.review, result.review_correct) == (2, 1)
    assert result.by_rule["NAME_AND_AMOUNT"].predicted == 0 and result.by_rule["NAME_AND_AMOUNT"].review == 2
    assert result.by_match_type["EXACT"].review == 1
    # tx3/AR-9 was MATCHED by the exact rule: silently wrong; a wrong proposal is not
    assert result.silently_wrong == [("tx3", "RECEIVABLE", "AR-9")]
    assert not result.meets_hostile_targets
    flagged_only = [
        m if m["bank_transaction_id"] != "tx3" else {**m, "match_status": "NEEDS_INVESTIGATION"} for m in mart
    ]
    assert evaluate(flagged_only, truth).silently_wrong == []


def test_planted_cases_score_the_links_touching_their_movements_or_documents():
    truth = [_truth("again", "PAYABLE", "AP-7", "EXACT"), _truth("tx1", "PAYABLE", "AP-1", "FX_OPERATION")]
    cases = [
        {"kind": "REVERSAL", "bank_transaction_id": "first", "erp_document_type": "PAYABLE", "erp_document_id": "AP-7"},
        {"kind": "REVERSAL", "bank_transaction_id": "back", "erp_document_type": "PAYABLE", "erp_document_id": "AP-7"},
        {"kind": "REVERSAL", "bank_transaction_id": "again", "erp_document_type": "PAYABLE", "erp_document_id": "AP-7"},
        {"kind": "NAME_VARIANT", "bank_transaction_id": "tx1", "erp_document_type": None, "erp_document_id": None},
    ]
    # the returned first attempt matched to the invoice: wrong; the second attempt only proposed
    mart = [
        _mart("first", "PAYABLE", "AP-7", "EXACT_AMOUNT_COUNTERPARTY"),
        _mart("again", "PAYABLE", "AP-7", "NAME_AND_AMOUNT", "NEEDS_REVIEW"),
        _mart("tx1", "PAYABLE", "AP-1", "FX_CONTRACT_REFERENCE"),
    ]
    scores = evaluate(mart, truth, cases).by_case
    reversal = scores["REVERSAL"].as_dict()
    assert (reversal["items"], reversal["true_links"], reversal["matched"]) == (3, 1, 0)
    assert (reversal["proposed_for_review"], reversal["wrong_links"], reversal["precision"]) == (1, 1, 0.0)
    assert scores["NAME_VARIANT"].as_dict()["recall"] == 1.0
