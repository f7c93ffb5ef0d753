"""Precision and recall of the bank-to-ERP reconciliation (`marts.fct_payment_reconciliation`) on the demo's
ground truth. Pure Python: the Dagster check, the mart tests and a notebook all call `evaluate()`.

It lives next to `ground_truth.py` because it is the only reader of the ground truth besides the tests: the
pipeline itself never reads it.

A link is the pair (bank_transaction_id, erp_document_type, erp_document_id), e.g.
(`6617e969...`, `IMPORT_DECLARATION`, `24/2379593-0`).
- predicted links: the mart rows that carry both a bank movement and an ERP document with status MATCHED or
  NEEDS_INVESTIGATION (a match showing an anomaly, such as a duplicate payment). Rows in NEEDS_REVIEW are only
  proposed (confidence below the threshold): they are counted apart (`review`), as a person's queue, never as
  matches. Unmatched rows predict nothing. Several mart rows with the same pair (one per settlement) are one link.
- true links: the distinct pairs of the ground truth `matches`.
- overall: precision = |predicted ∩ true| / |predicted|, recall = |predicted ∩ true| / |true|.
  `silently_wrong`: predicted links that are not true and were MATCHED (nobody is told to look at them).
- per rule (the mart's `match_rule`): precision of the links that rule produced, and of what it proposed for review.
- per ground-truth `match_type`: recall of the true links of that type, whichever rule found them, how many the
  mart flagged for investigation (`flagged`) and how many it proposed for review.
- per planted case (`planted_cases` of a messy company, `messiness.py`): the true links touching the case's bank
  movements or documents, how many were matched, proposed for review, or left for a person, and the predicted links
  touching them that are wrong (a returned transfer matched to the invoice it failed to pay is one).
An empty denominator gives a ratio of 1.0 (nothing claimed, nothing wrong; nothing to find, nothing missed).
"""

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

PRECISION_TARGET = 0.99
RECALL_TARGET = 0.97
HOSTILE_PRECISION_TARGET = 0.97
FLAGGED_STATUS = "NEEDS_INVESTIGATION"
REVIEW_STATUS = "NEEDS_REVIEW"
MATCHED_STATUS = "MATCHED"

Link = tuple[str, str, str]


@dataclass(frozen=True)
class RuleScore:
    predicted: int
    correct: int
    review: int = 0
    review_correct: int = 0

    @property
    def precision(self) -> float:
        return _ratio(self.correct, self.predicted)


@dataclass(frozen=True)
class MatchTypeScore:
    true: int
    found: int
    flagged: int
    review: int = 0

    @property
    def recall(self) -> float:
        return _ratio(self.found, self.true)


@dataclass(frozen=True)
class CaseScore:
    """One planted case kind: `true` links touching its items, `found` matched, `review` proposed for review
    (true ones), `wrong` predicted links touching its items that are not true."""

    items: int
    true: int
    found: int
    review: int
    wrong: int

    @property
    def recall(self) -> float:
        return _ratio(self.found, self.true)

    @property
    def precision(self) -> float:
        return _ratio(self.found, self.found + self.wrong)

    def as_dict(self) -> dict:
        return {
            "items": self.items,
            "true_links": self.true,
            "matched": self.found,
            "proposed_for_review": self.review,
            "left_for_a_person": self.true - self.found - self.review,
            "wrong_links": self.wrong,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
        }


@dataclass(frozen=True)
class Evaluation:
    predicted: int
    true: int
    correct: int
    by_rule: dict[str, RuleScore] = field(default_factory=dict)
    by_match_type: dict[str, MatchTypeScore] = field(default_factory=dict)
    false_positives: list[Link] = field(default_factory=list)
    false_negatives: list[Link] = field(default_factory=list)
    silently_wrong: list[Link] = field(default_factory=list)  # false positives MATCHED, not flagged
    review: int = 0  # links proposed for review
    review_correct: int = 0
    by_case: dict[str, CaseScore] = field(default_factory=dict)

    @property
    def precision(self) -> float:
        return _ratio(self.correct, self.predicted)

    @property
    def recall(self) -> float:
        return _ratio(self.correct, self.true)

    @property
    def meets_targets(self) -> bool:
        return self.precision >= PRECISION_TARGET and self.recall >= RECALL_TARGET

    @property
    def meets_hostile_targets(self) -> bool:
        """Precise where it matches, and every wrong link at least flagged for a person (none silently wrong)."""
        return self.precision >= HOSTILE_PRECISION_TARGET and not self.silently_wrong

    def as_dict(self) -> dict:
        """The full score, for `importau evaluate --json`."""
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "predicted_links": self.predicted,
            "true_links": self.true,
            "correct_links": self.correct,
            "proposed_for_review": self.review,
            "proposed_for_review_correct": self.review_correct,
            "silently_wrong_links": len(self.silently_wrong),
            "false_positives": [list(link) for link in self.false_positives],
            "false_negatives": len(self.false_negatives),
            "by_rule": {
                rule: {
                    "links": score.predicted,
                    "precision": round(score.precision, 4),
                    "proposed_for_review": score.review,
                    "proposed_for_review_correct": score.review_correct,
                }
                for rule, score in sorted(self.by_rule.items())
            },  # fmt: skip
            "by_match_type": {
                kind: {
                    "true_links": score.true,
                    "recall": round(score.recall, 4),
                    "flagged": score.flagged,
                    "proposed_for_review": score.review,
                }
                for kind, score in sorted(self.by_match_type.items())
            },  # fmt: skip
            "by_planted_case": {kind: score.as_dict() for kind, score in sorted(self.by_case.items())},
        }

    def to_metadata(self) -> dict[str, float | int]:
        """Flat numbers for Dagster metadata and logs (ratios rounded to 4 places)."""
        out: dict[str, float | int] = {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "predicted_links": self.predicted,
            "true_links": self.true,
            "correct_links": self.correct,
            "false_positives": len(self.false_positives),
            "false_negatives": len(self.false_negatives),
        }
        for rule, score in sorted(self.by_rule.items()):
            out[f"precision__{rule}"] = round(score.precision, 4)
            out[f"links__{rule}"] = score.predicted
        for kind, score in sorted(self.by_match_type.items()):
            out[f"recall__{kind}"] = round(score.recall, 4)
            out[f"true_links__{kind}"] = score.true
            if score.flagged:
                out[f"flagged__{kind}"] = score.flagged
        return out


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 1.0


def _link(row: Mapping) -> Link | None:
    parts = (row.get("bank_transaction_id"), row.get("erp_document_type"), row.get("erp_document_id"))
    return parts if all(parts) else None


def evaluate(
    mart_rows: Iterable[Mapping], truth_matches: Iterable[Mapping], planted_cases: Iterable[Mapping] = ()
) -> Evaluation:
    """Score the mart rows (dicts with bank_transaction_id, erp_document_type, erp_document_id, match_rule,
    match_status) against the ground truth `matches` (dicts with the same three ids and match_type) and, for a
    messy company, its `planted_cases`."""
    rule_of: dict[Link, str] = {}
    status_of: dict[Link, str] = {}
    proposed: dict[Link, str] = {}
    for row in mart_rows:
        link = _link(row)
        if link is None:
            continue
        rule = row.get("match_rule") or "UNKNOWN"
        if row.get("match_status") == REVIEW_STATUS:
            proposed.setdefault(link, rule)
        else:
            rule_of.setdefault(link, rule)
            status_of.setdefault(link, row.get("match_status") or MATCHED_STATUS)
    type_of: dict[Link, str] = {}
    for row in truth_matches:
        link = _link(row)
        if link is not None:
            type_of.setdefault(link, row["match_type"])
    correct = rule_of.keys() & type_of.keys()
    review_correct = proposed.keys() & type_of.keys()
    flagged = {link for link, status in status_of.items() if status == FLAGGED_STATUS}
    predicted_by_rule, correct_by_rule = Counter(rule_of.values()), Counter(rule_of[link] for link in correct)
    review_by_rule = Counter(proposed.values())
    review_correct_by_rule = Counter(proposed[link] for link in review_correct)
    true_by_type = Counter(type_of.values())
    found_by_type = Counter(type_of[link] for link in correct)
    flagged_by_type = Counter(type_of[link] for link in correct & flagged)
    review_by_type = Counter(type_of[link] for link in review_correct)
    false_positives = sorted(rule_of.keys() - type_of.keys())
    return Evaluation(
        predicted=len(rule_of),
        true=len(type_of),
        correct=len(correct),
        by_rule={
            rule: RuleScore(
                predicted_by_rule[rule], correct_by_rule[rule], review_by_rule[rule], review_correct_by_rule[rule]
            )
            for rule in predicted_by_rule.keys() | review_by_rule.keys()
        },
        by_match_type={
            kind: MatchTypeScore(n, found_by_type[kind], flagged_by_type[kind], review_by_type[kind])
            for kind, n in true_by_type.items()
        },
        false_positives=false_positives,
        false_negatives=sorted(type_of.keys() - rule_of.keys()),
        silently_wrong=[link for link in false_positives if status_of[link] == MATCHED_STATUS],
        review=len(proposed),
        review_correct=len(review_correct),
        by_case=score_planted_cases(planted_cases, rule_of.keys(), proposed.keys(), type_of.keys()),
    )


def score_planted_cases(
    planted_cases: Iterable[Mapping], predicted: set[Link], proposed: set[Link], true: set[Link]
) -> dict[str, CaseScore]:
    """Per planted case kind: the links touching its bank movements or ERP documents, matched, proposed, wrong."""
    transactions: dict[str, set[str]] = defaultdict(set)
    documents: dict[str, set[tuple[str, str]]] = defaultdict(set)
    items: Counter = Counter()
    for case in planted_cases:
        items[case["kind"]] += 1
        if case.get("bank_transaction_id"):
            transactions[case["kind"]].add(case["bank_transaction_id"])
        if case.get("erp_document_id"):
            documents[case["kind"]].add((case["erp_document_type"], case["erp_document_id"]))
    scores = {}
    for kind in items:

        def touches(link: Link, kind: str = kind) -> bool:
            return link[0] in transactions[kind] or (link[1], link[2]) in documents[kind]

        kind_true = {link for link in true if touches(link)}
        kind_predicted = {link for link in predicted if touches(link)}
        scores[kind] = CaseScore(
            items=items[kind],
            true=len(kind_true),
            found=len(kind_true & kind_predicted),
            review=len(kind_true & {link for link in proposed if touches(link)}),
            wrong=len(kind_predicted - kind_true),
        )
    return scores


def load_ground_truth(path: str | Path) -> dict:
    """A ground-truth JSON written by `sandboxes.demo_company.writers.write_ground_truth` (`planted_cases` is absent
    for a company written before messiness existed, and empty for a clean one)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load_truth_matches(path: str | Path) -> list[dict]:
    """The `matches` of a ground-truth JSON written by `sandboxes.demo_company.writers.write_ground_truth`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))["matches"]
