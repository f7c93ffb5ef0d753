"""Precision and recall of the bank-to-ERP reconciliation (`marts.fct_payment_reconciliation`) on the demo's
ground truth. Pure Python: the Dagster check, the mart tests and a notebook all call `evaluate()`.

It lives next to `ground_truth.py` because it is the only reader of the ground truth besides the tests: the
pipeline itself never reads it.

A link is the pair (bank_transaction_id, erp_document_type, erp_document_id), e.g.
(`6617e969...`, `IMPORT_DECLARATION`, `24/2379593-0`).
- predicted links: the mart rows that carry both a bank movement and an ERP document (matched rows, including
  those flagged for investigation such as a duplicate payment); unmatched rows predict nothing. Several mart
  rows with the same pair (one per payable settlement) are one link.
- true links: the distinct pairs of the ground truth `matches`.
- overall: precision = |predicted ∩ true| / |predicted|, recall = |predicted ∩ true| / |true|.
- per rule (the mart's `match_rule`): precision of the links that rule produced. A rule has no recall of its own,
  because the ground truth labels links by how the data was made (`match_type`), not by which rule should find them.
- per ground-truth `match_type`: recall of the true links of that type, whichever rule found them, and how many of
  them the mart flagged for investigation (`flagged`).
An empty denominator gives a ratio of 1.0 (nothing claimed, nothing wrong; nothing to find, nothing missed).
"""

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

PRECISION_TARGET = 0.99
RECALL_TARGET = 0.97
FLAGGED_STATUS = "NEEDS_INVESTIGATION"

Link = tuple[str, str, str]


@dataclass(frozen=True)
class RuleScore:
    predicted: int
    correct: int

    @property
    def precision(self) -> float:
        return _ratio(self.correct, self.predicted)


@dataclass(frozen=True)
class MatchTypeScore:
    true: int
    found: int
    flagged: int

    @property
    def recall(self) -> float:
        return _ratio(self.found, self.true)


@dataclass(frozen=True)
class Evaluation:
    predicted: int
    true: int
    correct: int
    by_rule: dict[str, RuleScore] = field(default_factory=dict)
    by_match_type: dict[str, MatchTypeScore] = field(default_factory=dict)
    false_positives: list[Link] = field(default_factory=list)
    false_negatives: list[Link] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return _ratio(self.correct, self.predicted)

    @property
    def recall(self) -> float:
        return _ratio(self.correct, self.true)

    @property
    def meets_targets(self) -> bool:
        return self.precision >= PRECISION_TARGET and self.recall >= RECALL_TARGET

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


def evaluate(mart_rows: Iterable[Mapping], truth_matches: Iterable[Mapping]) -> Evaluation:
    """Score the mart rows (dicts with bank_transaction_id, erp_document_type, erp_document_id, match_rule,
    match_status) against the ground truth `matches` (dicts with the same three ids and match_type)."""
    rule_of: dict[Link, str] = {}
    flagged: set[Link] = set()
    for row in mart_rows:
        link = _link(row)
        if link is None:
            continue
        rule_of.setdefault(link, row.get("match_rule") or "UNKNOWN")
        if row.get("match_status") == FLAGGED_STATUS:
            flagged.add(link)
    type_of: dict[Link, str] = {}
    for row in truth_matches:
        link = _link(row)
        if link is not None:
            type_of.setdefault(link, row["match_type"])
    correct = rule_of.keys() & type_of.keys()
    predicted_by_rule = Counter(rule_of.values())
    correct_by_rule = Counter(rule_of[link] for link in correct)
    true_by_type = Counter(type_of.values())
    found_by_type = Counter(type_of[link] for link in correct)
    flagged_by_type = Counter(type_of[link] for link in correct & flagged)
    return Evaluation(
        predicted=len(rule_of),
        true=len(type_of),
        correct=len(correct),
        by_rule={rule: RuleScore(n, correct_by_rule[rule]) for rule, n in predicted_by_rule.items()},
        by_match_type={
            kind: MatchTypeScore(n, found_by_type[kind], flagged_by_type[kind]) for kind, n in true_by_type.items()
        },
        false_positives=sorted(rule_of.keys() - type_of.keys()),
        false_negatives=sorted(type_of.keys() - rule_of.keys()),
    )


def load_truth_matches(path: str | Path) -> list[dict]:
    """The `matches` of a ground-truth JSON written by `ingestion.erp.demo.writers.write_ground_truth`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))["matches"]
