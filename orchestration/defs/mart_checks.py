"""Asset checks on dbt marts that query ClickHouse beyond dbt's own tests (those become checks by themselves:
defs/dbt.py). Each check's asset key comes from the dbt manifest (`get_asset_key_for_model`), never typed.

- `no_business_day_gaps` on `fct_fx_rates_daily`: every currency has a rate on every business day of its span.
- `reconciliation_matches_demo_ground_truth` on `fct_payment_reconciliation`: how well the bank-to-ERP
  reconciliation matches the demo company's ground truth. The demo writes its ground truth to
  `$IMPORTAU_DATA_DIR/demo/ground_truth.json` (orchestration/commands/erp_demo.py). When the file is there, the
  check reads the MATCH rows of `marts.fct_payment_reconciliation`, scores them with
  `sandboxes.demo_company.evaluation` and reports precision per rule, recall per ground-truth match type and
  overall in its metadata; it warns below the targets of the company's messiness level (precision 0.99 and recall
  0.97; at `hostile`, precision 0.97 with nothing silently wrong). The mart names a bank movement by the id of the
  bank source that gave it (a statement's, an aggregator's, when `importau demo --bank-source` chose one): with the
  demo's bank truth beside the ground truth (`demo/bank`), those ids are mapped back to the truth's first
  (`sandboxes/demo_company/bank_source_ids.py`). In production there is no ground truth: the check passes with a
  note and does not open the warehouse.
"""

from collections.abc import Iterable, Mapping
from pathlib import Path

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.constants import WAREHOUSE_POOL
from orchestration.defs.dbt import dbt_models
from orchestration.defs.metadata import run_owner
from orchestration.resources.settings import resolve_data_dir
from orchestration.resources.warehouse import ClickHouseResource

FX_RATES = get_asset_key_for_model([dbt_models], "fct_fx_rates_daily")
RECONCILIATION = get_asset_key_for_model([dbt_models], "fct_payment_reconciliation")
MATCH_ROWS_SQL = """
    SELECT bank_transaction_id, erp_document_type, erp_document_id, match_rule, match_status
    FROM marts.fct_payment_reconciliation
    WHERE row_type = 'MATCH'
"""
SAMPLE = 10  # how many missed or wrong links the metadata lists


@dg.asset_check(
    asset=FX_RATES,
    name="no_business_day_gaps",
    pool=WAREHOUSE_POOL,
    description="Every currency has a rate on every business day between its first and last date.",
)
def no_business_day_gaps(context: dg.AssetCheckExecutionContext, warehouse: ClickHouseResource):
    sql = """
        WITH spans AS (
            SELECT currency, min(date) AS first_day, max(date) AS last_day
            FROM marts.fct_fx_rates_daily GROUP BY currency
        )
        SELECT s.currency, c.date
        FROM spans AS s
        CROSS JOIN marts.dim_calendar AS c
        WHERE c.is_business_day AND c.date BETWEEN s.first_day AND s.last_day
          AND (s.currency, c.date) NOT IN (SELECT currency, date FROM marts.fct_fx_rates_daily)
        ORDER BY s.currency, c.date
    """
    with warehouse.open(owner=run_owner(context)) as wh:
        gaps = wh.query_rows(sql)
    sample = ", ".join(f"{currency} {day}" for currency, day in gaps[:20])
    return dg.AssetCheckResult(
        passed=not gaps,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"missing_business_days": len(gaps), "first_missing": sample or "none"},
    )


def ground_truth_path(data_dir: str) -> Path:
    """Where the demo writes its ground truth under the data dir (empty = the default data dir)."""
    return Path(resolve_data_dir(data_dir)) / "demo" / "ground_truth.json"


def in_truth_ids(match_rows: Iterable[Mapping], bank_truth: Path) -> list[Mapping]:
    """The MATCH rows with each bank source's movement id replaced by the bank truth's, when the demo wrote its bank
    truth (`bank_transactions.parquet`) into `bank_truth`; else as they are."""
    if not (bank_truth / "bank_transactions.parquet").exists():
        return list(match_rows)
    from sandboxes.demo_company.bank_source_ids import truth_ids, with_truth_ids
    from sandboxes.open_finance_bank.erp_truth import read_truth

    return with_truth_ids(match_rows, "bank_transaction_id", truth_ids(read_truth(bank_truth)).transactions)


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
    rows = in_truth_ids(match_rows, truth_path.parent / "bank")
    result = evaluate(rows, truth["matches"], truth.get("planted_cases", ()))
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


checks = [no_business_day_gaps, reconciliation_matches_demo_ground_truth]
