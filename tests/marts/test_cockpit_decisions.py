"""Confirm/reject in the cockpit, end to end on a copy of the demo company's warehouse.

A person confirms a match the rules flagged (NEEDS_INVESTIGATION) and rejects a matched one, through the
Conciliação page (AppTest). The decisions land in the append-only file outside the warehouse; a real `dbt build`
(the writer) applies them while `importau sql` keeps answering the previous state; after it, the confirmed match
is MATCHED, the rejected one is gone (its movement unmatched, marked REJECTED) and is a false negative of the
precision/recall report; a `--full-refresh` rebuild keeps all of it.
"""

import csv
import io
import json
import shutil
import subprocess
import time

import pytest

from cockpit.decisions import decisions_path, read_decisions
from ingestion.common.warehouse import read_lock_holder
from sandboxes.demo_company.evaluation import evaluate, load_truth_matches
from tests.dbt.dbt_harness import BIN, PROJECT_DIR, REPO, dbt_env, query, run_dbt
from tests.marts.test_cockpit_pages import metrics, render

MODELS = ["-s", "stg_cockpit__reconciliation_decisions", "fct_payment_reconciliation"]
MATCH_ROWS = (
    "SELECT bank_transaction_id, erp_document_type, erp_document_id, match_rule, match_status "
    "FROM marts.fct_payment_reconciliation WHERE row_type = 'MATCH'"
)


def decided(data_dir, *ids: str) -> dict[str, dict]:
    quoted = ", ".join(f"'{i}'" for i in ids)
    rows = query(
        data_dir,
        rows="SELECT reconciliation_id, row_type, match_status, match_rule, decision, decided_by, "
        "bank_transaction_id, erp_document_type, erp_document_id "
        f"FROM marts.fct_payment_reconciliation WHERE reconciliation_id IN ({quoted})",
    )["rows"]
    return {row.pop("reconciliation_id"): row for row in rows}


def start_dbt(data_dir, *args: str) -> subprocess.Popen:
    """`importau-dbt build ...` as `run_dbt` runs it, without waiting."""
    env = dbt_env(data_dir)
    env.update(DBT_TARGET_PATH=str(data_dir / "dbt_target"), DBT_LOG_PATH=str(data_dir / "dbt_logs"))
    command = [str(BIN / "importau-dbt"), *args, "--target", "ci"]
    command += ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    return subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def read_while_held(data_dir, writer: subprocess.Popen, sql: str, timeout: float = 600) -> list[str]:
    """The first value of each `importau sql` answer read from start to end while the writer held the warehouse."""
    chdb_path = str(data_dir / "warehouse")
    answers = []
    deadline = time.monotonic() + timeout
    while writer.poll() is None and time.monotonic() < deadline:
        before = read_lock_holder(chdb_path)
        done = subprocess.run(
            [str(BIN / "importau"), "sql", "--csv", sql],
            env=dbt_env(data_dir),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr  # never refused, never waiting for the run
        if before and read_lock_holder(chdb_path) == before:
            answers.append(list(csv.reader(io.StringIO(done.stdout)))[1][0])
        time.sleep(0.2)
    return answers


@pytest.fixture(scope="module")
def copy(demo_built, tmp_path_factory):
    """The demo warehouse, its readers' snapshot and ground truth, copied: the session's stays untouched."""
    data_dir = tmp_path_factory.mktemp("cockpit_decisions")
    for name in ("warehouse", "warehouse.snapshots", "demo"):
        shutil.copytree(demo_built.data_dir / name, data_dir / name, symlinks=True)  # chDB links are relative
    return data_dir


def test_decisions_reach_the_mart_while_readers_keep_reading_and_survive_a_rebuild(copy):
    # the least sure match whose bank movement has no other link (so rejecting it leaves the movement unmatched):
    # among the cockpit's first 50 proposed matches, which are ordered the same way
    least_sure = query(
        copy,
        rows="SELECT reconciliation_id FROM marts.fct_payment_reconciliation WHERE row_type = 'MATCH' "
        "AND match_status = 'MATCHED' AND bank_transaction_id IN (SELECT bank_transaction_id "
        "FROM marts.fct_payment_reconciliation WHERE row_type = 'MATCH' GROUP BY bank_transaction_id "
        "HAVING count() = 1) ORDER BY confidence, reconciliation_date DESC, reconciliation_id LIMIT 1",
    )["rows"]
    to_reject = least_sure[0]["reconciliation_id"]

    confirmed_page = render(copy, "--decide", "CONFIRMED", "--who", "ana")
    to_confirm = confirmed_page["decided_match"]
    assert confirmed_page["conciliacao"]["successes"], confirmed_page["conciliacao"]
    rejected_page = render(copy, "--decide", "REJECTED", "--who", "bia", "--match", to_reject)
    assert rejected_page["decided_match"] == to_reject
    log = read_decisions(decisions_path(copy))
    assert [(d["reconciliation_id"], d["decision"], d["decided_by"]) for d in log] == [
        (to_confirm, "CONFIRMED", "ana"),
        (to_reject, "REJECTED", "bia"),
    ]
    before = decided(copy, to_confirm, to_reject)
    assert before[to_confirm]["match_status"] == "NEEDS_INVESTIGATION" and before[to_confirm]["decision"] is None
    rejected_link = tuple(before[to_reject][k] for k in ("bank_transaction_id", "erp_document_type", "erp_document_id"))

    # the writer: a real dbt build applying the decisions; readers keep the committed state meanwhile
    writer = start_dbt(copy, "build", *MODELS)
    sql = f"SELECT match_status FROM marts.fct_payment_reconciliation WHERE reconciliation_id = '{to_confirm}'"
    answers = read_while_held(copy, writer, sql)
    output, _ = writer.communicate(timeout=900)
    assert writer.returncode == 0, output[-5000:]
    assert answers, "no read ran entirely while dbt held the warehouse"
    assert set(answers) == {"NEEDS_INVESTIGATION"}  # the committed state, never a half-built table

    bank_side = to_reject.split("|")[0] + "|"
    for attempt in ("build", "rebuild"):
        after = decided(copy, to_confirm, to_reject, bank_side)
        assert after[to_confirm] | {"match_rule": None} == before[to_confirm] | {
            "match_status": "MATCHED",
            "match_rule": None,
            "decision": "CONFIRMED",
            "decided_by": "ana",
        }, attempt
        assert to_reject not in after, attempt  # a rejected match never comes back
        assert after[bank_side]["row_type"] == "UNMATCHED_BANK" and after[bank_side]["decision"] == "REJECTED"
        truth = load_truth_matches(copy / "demo" / "ground_truth.json")
        report = evaluate(query(copy, rows=MATCH_ROWS)["rows"], truth)
        assert report.false_negatives == [rejected_link], attempt  # fed back into the precision/recall report
        if attempt == "build":
            rebuilt = run_dbt(copy, "build", *MODELS, "--full-refresh", timeout=900)
            assert rebuilt.returncode == 0, rebuilt.output[-5000:]

    page = render(copy)
    shown = metrics(page["conciliacao"])
    assert (shown["Confirmados"], shown["Rejeitados"], shown["Precisão revisada"]) == ("1", "1", "50,0 %")
    assert json.loads(json.dumps(log))  # the file is plain JSON Lines, the audit trail
