"""Issue 17 acceptance: the demo company through each bank source in turn (`importau demo --bank-source`) gives
the same reconciliation, cash and anomaly marts, whichever source fed them.

Each available source (orchestration/commands/bank_source.py: one whose ingest job this version defines) runs the
real demo command for December 2024 on its own data folder; Open Finance's run is the reference. The marts are
compared row by row as multisets, without the lineage columns (where and when a row was loaded, which source)
and the ids each source gives an account or a movement (Open Finance's are the bank's internal ids, a statement's
its own). Adding a source is adding its ingest job: it then joins the parameters here by itself.
What judges the bank data reads the unified bank staging too, so it works whichever source fed the demo: the
`balance_continuity` check evaluated on `stg_bank__balances` names the demo's source, and `importau evaluate`
(each source's ids mapped back to the truth's) scores every source's demo as Open Finance's.
Helpers from test_bcb_slice.py.
"""

import csv
import io
import json
import subprocess
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from ingestion.bank_statements.contracts import ascii_upper
from tests.end_to_end.test_bcb_slice import BIN, _env, assert_quiet_with_a_full_log, sql

# one demo per source, about 15 min each on 2 busy cores (the default 900 s is per test, the first one pays)
pytestmark = [pytest.mark.integration, pytest.mark.timeout(3600)]

START, END = "2024-12-01", "2024-12-31"  # the sandbox bank's "today" is 2024-12-31 (the demo's last day)
REFERENCE = "open_finance"
# The marts the issue names (reconciliation, cash, anomalies: the anomaly and cash-flow features; the demo runs
# --no-ml, so no scores) and, per table, the columns that hold a source's own ids or lineage.
COMPARED = {
    # both carry the bank movement's key (institution:account_id:transaction_id), whose ids are the source's
    "marts.fct_payment_reconciliation": ("reconciliation_id", "match_group_id"),
    "marts.fct_cash_position_daily": (),
    "ml.ml_transaction_anomaly__features": (),
    "ml.ml_cash_flow__features": (),
}
# in any table: lineage, and the ids a source gives an account or a movement (staging/bank/README.md)
# run name -> (bank source, statement formats dropped). The statements run drops OFX, whose DTPOSTED carries the
# movement's time like Open Finance's transactionDateTime. CNAB 240's segment E has the booking date only (its
# movements land at 12:00 São Paulo), so its run is compared apart, without the columns that depend on the time of
# day (TIME_OF_DAY below) or on how often a source gives a balance (CNAB_BALANCE), and with the reference's text in
# CNAB 240's alphabet (CNAB_TEXT).
CNAB = "statements_cnab240"
RUNS = {"statements": ("statements", "ofx"), CNAB: ("statements", "cnab240")}
# The anomaly features that a movement's time of day changes, and why; every other column must still be equal.
TIME_OF_DAY = {
    "ml.ml_transaction_anomaly__features": (
        "transaction_datetime",  # the instant itself: 12:00 São Paulo from CNAB 240
        "hour_sao_paulo",  # its hour
        "is_off_hours",  # from its hour
        # the amount history is the EARLIER movements (ordered by instant, then the source's movement id): the same
        # day's movements at one instant are ordered by id instead of by time
        "amount_log_zscore_type",
        "amount_log_zscore_counterparty",
        # earlier same-amount / below-limit movements counted strictly before the instant: same-day ones at one
        # instant are not earlier, and the window's edge moves to noon
        "same_amount_counterparty_prior_7d",
        "below_limit_counterparty_prior_3d",
    ),
}
# CNAB 240 writes text upper-case without accents (alphanumeric fields: AUTOMACAO for AUTOMAÇÃO): the reference's
# description in that alphabet must be the statement's, word for word (the parser joins the 25-character history
# and its rest in the document field back).
CNAB_TEXT = {"marts.fct_payment_reconciliation": {"transaction_name": ascii_upper}}
# CNAB 240 gives each day's final balance (a batch per day), so every day's balance is a `snapshot`; Open Finance
# serves one snapshot per pull and the days between are rebuilt from the movements (`rolled_back`/`rolled_forward`).
# The balances themselves must be equal.
CNAB_BALANCE = {"marts.fct_cash_position_daily": ("balance_source",)}
SOURCE_COLUMNS = {
    "bank_source",
    "source_file",
    "loaded_at",
    "pull_date",
    "institution",
    "account_id",
    "bank_transaction_id",
    "bank_movement_key",
}


@cache
def available_sources() -> tuple[str, ...]:
    from orchestration.commands.bank_source import available
    from orchestration.definitions import defs

    return tuple(source.name for source in available(job.name for job in defs.resolve_all_job_defs()))


def run_demo(data_dir: Path, run: str) -> subprocess.CompletedProcess:
    bank_source, statements = RUNS.get(run, (run, None))
    return subprocess.run(
        [
            str(BIN / "importau"),
            "demo",
            *("--start", START, "--end", END, "--market-history-start", START),
            "--no-ml",
            *("--bank-source", bank_source),
            *(("--bank-statements", statements) if statements else ()),
        ],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=1500,
    )


@pytest.fixture(scope="module")
def demos(tmp_path_factory) -> dict[str, Path]:
    """Run name (a source, or a RUNS key) -> data folder of a demo run fed by that source (run on first use)."""
    runs: dict[str, Path] = {}

    def get(run: str) -> Path:
        if run not in runs:
            data_dir = tmp_path_factory.mktemp(f"e2e_bank_{run}")
            completed = run_demo(data_dir, run)
            assert completed.returncode == 0, completed.stdout[-5000:] + completed.stderr[-5000:]
            assert f"bank data from {RUNS.get(run, (run,))[0]} " in completed.stdout
            if run == REFERENCE:  # the demo says where the sandbox bank is
                assert "OPEN_FINANCE_SANDBOX_URL=https://127.0.0.1:" in completed.stdout
            assert_quiet_with_a_full_log(completed)
            runs[run] = data_dir
        return runs[run]

    return get


def live_sql(data_dir: Path, query: str) -> list[dict[str, str]]:
    """A query on the warehouse itself (staging is not in the readers' snapshot); no run holds it by now."""
    completed = subprocess.run(
        [str(BIN / "importau"), "sql", "--live", "--csv", query], env=_env(data_dir), capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr
    return list(csv.DictReader(io.StringIO(completed.stdout)))


@cache
def evaluation(data_dir: Path) -> dict:
    """`importau evaluate --json` on the demo's warehouse (exit 1, targets not met, is a score too: a December demo
    against the whole year's truth)."""
    completed = subprocess.run(
        [str(BIN / "importau"), "evaluate", "--json"], env=_env(data_dir), capture_output=True, text=True, timeout=900
    )
    assert completed.returncode in (0, 1), completed.stderr[-3000:]
    return json.loads(completed.stdout)


def continuity_check(data_dir: Path) -> tuple[bool, dict]:
    """The latest `balance_continuity` evaluation on staging/stg_bank__balances in the demo's Dagster instance."""
    import dagster as dg

    from orchestration.defs.bank_quality import STG_BALANCES

    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        history = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(STG_BALANCES, "balance_continuity"), limit=1
        )
    assert history, "balance_continuity was not evaluated on stg_bank__balances"
    evaluated = history[0].event.dagster_event.event_specific_data
    return evaluated.passed, {key: value.value for key, value in evaluated.metadata.items()}


def assert_judged_like_open_finance(reference: Path, other: Path, bank_source: str) -> None:
    """The continuity check ran on the source's own balances and passed; evaluate scores it as Open Finance's."""
    dbt_source = {"open_finance": "open_finance", "pluggy": "pluggy", "statements": "bank_statement"}[bank_source]
    passed, found = continuity_check(other)
    assert passed and found["bank_sources"] == dbt_source, found
    expected, got = evaluation(reference), evaluation(other)
    assert list(got["bank_sources"]) == [dbt_source]
    assert got["bank_sources"][dbt_source] == expected["bank_sources"]["open_finance"]
    for part in ("reconciliation", "landed_cost", "treasury"):
        assert got[part] == expected[part], f"{part} of the demo fed by {bank_source} differs from Open Finance's"


def compared_rows(
    data_dir: Path, table: str, without: tuple[str, ...] = (), normalised: dict[str, Callable[[str], str]] | None = None
) -> Counter:
    columns = [row["name"] for row in sql(data_dir, f"DESCRIBE TABLE {table}")]
    named = set(without) | set(normalised or {})
    assert named <= set(columns), f"{table} has no {sorted(named - set(columns))}"
    kept = [c for c in columns if c not in SOURCE_COLUMNS and c not in COMPARED[table] and c not in without]
    rows = sql(data_dir, f"SELECT {', '.join(f'`{c}`' for c in kept)} FROM {table}")
    same = {c: (normalised or {}).get(c, str) for c in kept}
    return Counter(tuple(same[c](row[c]) for c in kept) for row in rows)


# The Open Finance path itself (the mTLS sandbox bank serving the demo company's bank truth -> lake -> raw ->
# dbt staging), read back as a user would, on the reference demo.
def test_the_demo_pulled_the_sandbox_institutions(demos):
    demo = demos(REFERENCE)
    pulls = sql(demo, "SELECT institution, pull_date, window_start, window_end FROM raw.open_finance__pulls")
    assert pulls, "no pull landed"
    # one ranged run = one pull per institution covering the whole month (monthly chunks in the demo)
    assert {(row["pull_date"], row["window_start"]) for row in pulls} == {(END, START)}


def test_accounts_transactions_and_fx_operations_are_queryable(demos):
    demo = demos(REFERENCE)
    accounts = sql(demo, "SELECT institution, account_id, compe_code FROM staging.stg_open_finance__accounts")
    assert accounts and all(row["account_id"] for row in accounts)
    transactions = sql(
        demo,
        "SELECT institution, count() AS n, uniqExact(transaction_id) AS ids, min(booking_date) AS first, "
        "max(booking_date) AS last FROM staging.stg_open_finance__transactions GROUP BY institution",
    )
    assert transactions
    for row in transactions:
        assert int(row["n"]) == int(row["ids"]) > 0
        assert START <= row["first"] <= row["last"] <= END
    assert {row["institution"] for row in transactions} <= {row["institution"] for row in accounts}
    fx = sql(
        demo,
        "SELECT operation_id, foreign_currency, fx_rate, foreign_value, local_currency_value "
        "FROM staging.stg_open_finance__fx_operations",
    )
    assert fx
    for row in fx:
        assert Decimal(row["fx_rate"]) > 0 and Decimal(row["foreign_value"]) > 0
    events = sql(demo, "SELECT count() AS n FROM staging.stg_open_finance__fx_operation_events")
    assert int(events[0]["n"]) >= len(fx)


def test_open_finance_alone_gives_exactly_its_rows_to_the_bank_contract(demos):
    data_dir = demos(REFERENCE)
    unified = live_sql(
        data_dir,
        "SELECT bank_source, institution, account_id, transaction_id, signed_amount, length("
        "other_source_transaction_ids) AS others FROM staging.stg_bank__transactions",
    )
    assert unified, "no bank movement reached stg_bank__transactions"
    assert {row["bank_source"] for row in unified} == {REFERENCE}
    assert {row["others"] for row in unified} == {"0"}
    own = live_sql(
        data_dir,
        "SELECT institution, account_id, transaction_id, signed_amount FROM staging.stg_open_finance__transactions",
    )
    keys = ("institution", "account_id", "transaction_id", "signed_amount")
    assert Counter(tuple(r[k] for k in keys) for r in unified) == Counter(tuple(r[k] for k in keys) for r in own)
    for table in COMPARED:
        assert sum(compared_rows(data_dir, table).values()) > 0, f"{table} is empty"


@pytest.mark.parametrize("bank_source", [name for name in available_sources() if name != REFERENCE])
def test_marts_are_the_same_whichever_source_fed_them(demos, bank_source):
    reference, other = demos(REFERENCE), demos(bank_source)
    fed = live_sql(other, "SELECT DISTINCT bank_source FROM staging.stg_bank__transactions")
    assert {row["bank_source"] for row in fed} != {REFERENCE}
    assert_same_marts(reference, other, bank_source, {})
    assert_judged_like_open_finance(reference, other, bank_source)


def assert_same_marts(
    reference: Path,
    other: Path,
    name: str,
    without: dict[str, tuple[str, ...]],
    normalised: dict[str, dict[str, Callable[[str], str]]] | None = None,
) -> None:
    """Every COMPARED table equal as multisets, but the columns `without` names; `normalised` maps a table's column to
    what the reference's value becomes in the other source's alphabet."""
    for table in COMPARED:
        expected = compared_rows(reference, table, without.get(table, ()), (normalised or {}).get(table, {}))
        got = compared_rows(other, table, without.get(table, ()))
        missing, extra = expected - got, got - expected
        assert not missing and not extra, (
            f"{table} fed by {name} differs from {REFERENCE}'s: {sum(missing.values())} rows missing "
            f"(first: {list(missing)[:3]}), {sum(extra.values())} extra (first: {list(extra)[:3]})"
        )


@pytest.mark.skipif("statements" not in available_sources(), reason="no statement files ingest job")
def test_cnab240_is_stamped_at_noon_and_its_marts_equal_open_finances_but_what_the_layout_cannot_say(demos):
    """CNAB 240 carries no time of day: its movements are stamped 12:00 São Paulo (ingestion/bank_statements), so the
    features TIME_OF_DAY lists differ from Open Finance's; its text is upper-case ASCII (CNAB_TEXT); it gives the
    balance at the end of every day, so every day's balance is a snapshot (CNAB_BALANCE). Every other column of every
    row of every compared table is the same."""
    reference, cnab = demos(REFERENCE), demos(CNAB)
    fed = live_sql(
        cnab,
        "SELECT DISTINCT bank_source, toHour(transaction_datetime, 'America/Sao_Paulo') AS hour "
        "FROM staging.stg_bank__transactions",
    )
    assert [(row["bank_source"], row["hour"]) for row in fed] == [("bank_statement", "12")]
    assert_same_marts(reference, cnab, CNAB, {**TIME_OF_DAY, **CNAB_BALANCE}, normalised=CNAB_TEXT)


@pytest.mark.skipif("statements" not in available_sources(), reason="no statement files ingest job")
def test_cnab240_fed_demo_is_checked_and_scored_through_the_unified_staging(demos):
    """CNAB 240's own movement ids (`CNAB-<hash>`) are mapped back to the truth's: the reconciliation links and the
    movements in staging score exactly as Open Finance's; the continuity check ran on its daily balances."""
    reference, cnab = demos(REFERENCE), demos(CNAB)
    passed, found = continuity_check(cnab)
    assert passed and found["bank_sources"] == "bank_statement" and found["intervals_compared"] > 0, found
    expected, got = evaluation(reference), evaluation(cnab)
    assert got["bank_sources"] == {"bank_statement": expected["bank_sources"]["open_finance"]}
    assert got["reconciliation"] == expected["reconciliation"]
    assert got["treasury"]["deduplication"] == expected["treasury"]["deduplication"]
