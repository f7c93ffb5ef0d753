"""How well the bank-to-ERP reconciliation matches the demo company's ground truth, as an asset check.

The demo writes its ground truth to `$IMPORTAU_DATA_DIR/demo/ground_truth.json` (orchestration/commands/erp_demo.py).
When the file is there, the check reads the MATCH rows of `marts.fct_payment_reconciliation`, scores them with
`sandboxes.demo_company.evaluation` and reports precision per rule, recall per ground-truth match type and overall in
its metadata; it warns below the targets of the company's messiness level (precision 0.99 and recall 0.97; at `hostile`,
precision 0.97 with nothing silently wrong). In production there is no ground truth:
the check passes with a note and does not open the warehouse.
"""

from collections.abc import Iterable, Mapping
from pathlib import Path

import dagster as dg

from orchestration.constants import WAREHOUSE_POOL
from orchestration.defs.metadata import run_owner
from orchestration.resources.settings import resolve_data_dir
from orchestration.resources.warehouse import ClickHouseResource

RECONCILIATION = dg.AssetKey(["marts", "fct_payment_reconciliation"])
MATCH_ROWS_SQL = """
    SELECT bank_transaction_id, erp_document_type, erp_document_id, match_rule, match_status
    FROM marts.fct_payment_reconciliation
    WHERE row_type = 'MATCH'
"""
SAMPLE = 10  # how many missed or wrong links the metadata lists


def ground_truth_path(data_dir: str) -> Path:
    """Where the demo writes its ground truth under the data dir (empty = the default data dir)."""
    return Path(resolve_data_dir(data_dir)) / "demo" / "ground_truth.json"


def reconciliation_check_result(match_rows: Iterable[Mapping], truth_path: Path) -> dg.AssetCheckResult:
    """Score the mart's MATCH rows against the ground truth file; pass with a note when there is none."""
    if not truth_path.exists():
        return dg.AssetCheckResult(
            passed=True,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"note": f"no ground truth at {truth_path}: nothing to evaluate (production)"},
        )
    # only the demo writes a ground truth, and the demo comes with the local stand-ins (not in a production install)
    from sandboxes.demo_company.evaluation import PRECISION_TARGET, RECALL_TARGET, evaluate, load_ground_truth

    truth = load_ground_truth(truth_path)
    level = truth.get("generator", {}).get("messiness", "clean")
    result = evaluate(match_rows, truth["matches"], truth.get("planted_cases", ()))
    return dg.AssetCheckResult(
        # a hostile company is held to precision with nothing silently wrong, the others to precision and recall
        passed=result.meets_hostile_targets if level == "hostile" else result.meets_targets,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            **result.to_metadata(),
            "precision_target": PRECISION_TARGET,
            "recall_target": RECALL_TARGET,
            "ground_truth": str(truth_path),
            "messiness": level,
            "proposed_for_review": result.review,
            "silently_wrong_links": len(result.silently_wrong),
            "false_positives_sample": ", ".join("/".join(link) for link in result.false_positives[:SAMPLE]) or "none",
            "false_negatives_sample": ", ".join("/".join(link) for link in result.false_negatives[:SAMPLE]) or "none",
        },
    )


@dg.asset_check(
    asset=RECONCILIATION,
    name="reconciliation_matches_demo_ground_truth",
    pool=WAREHOUSE_POOL,
    description=(
        "Precision (per rule) and recall (per ground-truth match type) of the reconciliation links against the "
        "demo ground truth; warns below the targets of the demo's messiness level (sandboxes/demo_company/"
        "evaluation.py). Passes with a "
        "note when there is no ground truth (production)."
    ),
)
def reconciliation_matches_demo_ground_truth(
    context: dg.AssetCheckExecutionContext, warehouse: ClickHouseResource
) -> dg.AssetCheckResult:
    truth_path = ground_truth_path(warehouse.data_dir)
    if not truth_path.exists():
        return reconciliation_check_result([], truth_path)
    with warehouse.open(owner=run_owner(context)) as wh:
        result = wh.query(MATCH_ROWS_SQL)
        rows = [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]
    return reconciliation_check_result(rows, truth_path)


checks = [reconciliation_matches_demo_ground_truth]
