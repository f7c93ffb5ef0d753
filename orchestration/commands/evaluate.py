"""`importau evaluate --json`: score the built demo warehouse against the ground truth of its company.

Reads the marts of the warehouse (CLICKHOUSE_URL, default the embedded chDB under IMPORTAU_DATA_DIR) and the files
the generator wrote under `<data dir>/demo` (`ground_truth.json`, `bank/`), then prints the score computed by
`sandboxes/demo_company/scoring.py`: reconciliation precision/recall overall, per rule, per match type and per planted
case; the landed-cost and treasury cross-checks; and the ML models against their baselines.
The bank data is read through the unified bank staging (`staging.stg_bank__*`), so the demo may have been fed by
any bank source (`importau demo --bank-source`): the ids a source gives accounts and movements (a statement's, an
aggregator's) are mapped back to the bank truth's before scoring (`sandboxes/demo_company/bank_source_ids.py`), and
`bank_sources` says how many movements each source gave.
Exit code 0 when the reconciliation meets the targets of the company's messiness level and every cross-check
is exact, 1 otherwise (2 when there is nothing to score). It only reads: the warehouse must not be held by a run.
"""

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

MART_SQL = """
SELECT bank_transaction_id, erp_document_type, erp_document_id, match_rule, match_status
FROM marts.fct_payment_reconciliation
WHERE row_type = 'MATCH'
"""
LANDED_COST_FIELDS = ("customs_value_brl", "ii_brl", "ipi_brl", "pis_brl", "cofins_brl", "siscomex_fee_brl",
                      "afrmm_brl", "icms_brl")  # fmt: skip
DECLARATIONS_SQL = f"""
SELECT
    d.declaration_id AS declaration_id,
    d.exchange_rate AS erp_exchange_rate,
    {", ".join(f"d.{f} AS erp_{f}" for f in LANDED_COST_FIELDS)},
    m.siscomex_rate AS mart_exchange_rate,
    {", ".join(f"m.{f} AS mart_{f}" for f in LANDED_COST_FIELDS)},
    m.flagged AS mart_flagged,
    m.missing AS mart_missing
FROM staging.stg_erp__import_declarations AS d
LEFT JOIN (
    SELECT
        declaration_id,
        any(siscomex_rate) AS siscomex_rate,
        {", ".join(f"sum({f}) AS {f}" for f in LANDED_COST_FIELDS)},
        max(declaration_has_erp_difference) AS flagged,
        max(has_missing_rate) AS missing
    FROM marts.fct_import_landed_cost
    GROUP BY declaration_id
) AS m ON m.declaration_id = d.declaration_id
WHERE NOT d.is_deleted
"""
BALANCES_SQL = """
SELECT account_id, date, amount
FROM marts.fct_cash_position_daily
WHERE line_type = 'account_balance'
"""
# every bank movement once, whichever source gave it (dbt_project/models/staging/bank/README.md), with that source's id
STAGING_IDS_SQL = "SELECT bank_source, transaction_id FROM staging.stg_bank__transactions"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score the built demo warehouse against its ground truth (reconciliation, landed cost, treasury)",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("--json", action="store_true", help="print the whole score as JSON (default: a summary)")
    parser.add_argument("--url", default=None, help="warehouse URL (overrides CLICKHOUSE_URL)")
    parser.add_argument("--demo-dir", default=None, help="the generator's output (default <data dir>/demo)")
    parser.set_defaults(handler=run)


def rows(warehouse, sql: str) -> list[dict]:
    result = warehouse.query(sql)
    names = list(result.column_names)
    return [dict(zip(names, row, strict=True)) for row in result.result_rows]


def model_report(warehouse, ground_truth: Path, movement_ids: dict[str, str]) -> dict:
    """Each ML model against its baseline with a 95 % bootstrap interval (`ml_assets.evaluation`), on the built
    warehouse's feature tables; a model whose features are missing (a `--no-ml` demo) is reported, not fatal.
    `movement_ids`: a bank source's movement id -> the ground truth's (the known anomalies name the truth's)."""
    from ml_assets.evaluation import evaluate_warehouse
    from orchestration.cli import first_error_line

    try:
        return evaluate_warehouse(warehouse, ground_truth, movement_ids=movement_ids)
    except Exception as error:  # the feature models were not built, or too little history to evaluate
        return {"status": "not evaluated", "reason": first_error_line(error)}


def run(args: argparse.Namespace) -> int:
    from ingestion.common.warehouse import WarehouseError, open_warehouse
    from orchestration.cli import first_error_line
    from orchestration.resources.settings import resolve_data_dir
    from sandboxes.demo_company.bank_source_ids import truth_ids, with_truth_ids
    from sandboxes.demo_company.evaluation import load_ground_truth
    from sandboxes.demo_company.scoring import MODEL_METRICS_SLOT, score
    from sandboxes.open_finance_bank.erp_truth import read_truth

    data_dir = resolve_data_dir(os.environ.get("IMPORTAU_DATA_DIR"))
    demo = Path(args.demo_dir or Path(data_dir) / "demo")
    if not (demo / "ground_truth.json").exists():
        print(f"importau evaluate: no ground truth at {demo / 'ground_truth.json'}: run `importau demo` first",
              file=sys.stderr)  # fmt: skip
        return 2
    truth = load_ground_truth(demo / "ground_truth.json")
    bank = read_truth(demo / "bank")
    ids = truth_ids(bank)
    url = args.url if args.url is not None else os.environ.get("CLICKHOUSE_URL", "")
    try:
        with open_warehouse(url or None, data_dir, owner=f"importau evaluate (pid {os.getpid()})") as warehouse:
            queried = {name: rows(warehouse, sql) for name, sql in (
                ("mart", MART_SQL), ("declarations", DECLARATIONS_SQL), ("balances", BALANCES_SQL),
                ("staging_ids", STAGING_IDS_SQL))}  # fmt: skip
            models = model_report(warehouse, demo / "ground_truth.json", dict(ids.transactions))
    except WarehouseError as error:
        print(f"importau evaluate: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # a mart is missing or the SQL failed: ClickHouse says why
        print(f"importau evaluate: {first_error_line(error)}", file=sys.stderr)
        return 2
    level = truth.get("generator", {}).get("messiness", "clean")
    result = score(
        level,
        truth,
        bank,
        with_truth_ids(queried["mart"], "bank_transaction_id", ids.transactions),
        queried["declarations"],
        with_truth_ids(queried["balances"], "account_id", ids.accounts),
        [ids.transaction(row["transaction_id"]) for row in queried["staging_ids"]],
    )
    result[MODEL_METRICS_SLOT] = models
    result["bank_sources"] = dict(sorted(Counter(row["bank_source"] for row in queried["staging_ids"]).items()))
    print(json.dumps(result, indent=2, sort_keys=True, default=str) if args.json else summary(result))
    passed = (
        result["reconciliation"]["meets_targets"] and result["landed_cost"]["exact"] and result["treasury"]["exact"]
    )
    return 0 if passed else 1


def summary(result: dict) -> str:
    recon, company = result["reconciliation"], result["company"]
    sources = ", ".join(f"{source} ({count} movements)" for source, count in result.get("bank_sources", {}).items())
    lines = [
        f"company: seed {company.get('seed')}, scale {company.get('scale')}, messiness {company.get('messiness')}",
        f"bank data from: {sources or 'no bank movement'}",
        f"reconciliation: precision {recon['precision']}, recall {recon['recall']} "
        f"({recon['correct_links']}/{recon['true_links']} links; {recon['proposed_for_review']} proposed for review, "
        f"{recon['silently_wrong_links']} silently wrong); targets ({recon['targets']}) "
        f"{'met' if recon['meets_targets'] else 'NOT met'}",
    ]
    for kind, case in recon["by_planted_case"].items():
        lines.append(f"  {kind}: {case}")
    lines.append(f"landed cost exact: {result['landed_cost']['exact']}; treasury exact: {result['treasury']['exact']}")
    return "\n".join(lines)
