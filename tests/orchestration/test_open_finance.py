"""Open Finance assets against the real sandbox institution (mutual TLS on 127.0.0.1), a temporary lake and the
session chDB: a month's run pulls every day up to the bank's today, re-runs keep the days already pulled and are
identical, failures are clear and leave the lake as it was, and no secret reaches the logs or the metadata."""

import json
import logging
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.open_finance import ingest as of_assets
from orchestration.defs.open_finance.quality import checks as of_checks
from orchestration.resources.lake import LakeResource
from orchestration.resources.open_finance import OpenFinanceResource, PlannedPull, plan_pulls
from orchestration.resources.warehouse import ClickHouseResource
from sandboxes.open_finance_bank.bank import SandboxBank

TODAY = date(2024, 12, 31)
DECEMBER = "2024-12-01"  # the partition (a month) holding TODAY
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
ENTITIES = [dataset.entity for dataset in of_assets.DATASETS]


@pytest.fixture(scope="module")
def bank():
    with SandboxBank(today=TODAY) as sandbox:
        yield sandbox


@pytest.fixture
def consent(bank, monkeypatch):
    """A fresh AUTHORISED consent; its certificate paths and one-time code in the environment, as in production."""
    bank.clear_faults()
    consent_id, code = bank.create_authorised_consent()
    env = bank.env(consent_id, code)
    for name, value in env.items():
        if name != "OPEN_FINANCE_INSTITUTIONS":
            monkeypatch.setenv(name, value)
    return consent_id, code, env["OPEN_FINANCE_INSTITUTIONS"]


@pytest.fixture
def resources(consent, chdb_url, tmp_path):
    return {
        "open_finance": OpenFinanceResource(
            institutions=consent[2], state_dir=str(tmp_path / "state"), today=TODAY.isoformat()
        ),
        "lake": LakeResource(url=str(tmp_path / "lake")),
        "warehouse": ClickHouseResource(url=chdb_url, data_dir=str(tmp_path)),
    }


def materialize(resources, start: str, end: str | None = None, selection=None, instance=None):
    tags = {RANGE_START: start, RANGE_END: end} if end else None
    return dg.materialize(
        selection or of_assets.assets,
        resources=resources,
        partition_key=None if end else start,
        tags=tags,
        instance=instance,
        raise_on_error=False,
    )


def lake_digest(root: Path) -> dict[str, bytes]:
    """Every partition object of the lake (quarantine files aside)."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*.parquet"))
        if not path.relative_to(root).parts[0].startswith("_")
    }


def raw_rows(chdb_url, tmp_path, start: str, end: str) -> dict[str, list]:
    from ingestion.common.warehouse import open_warehouse

    with open_warehouse(chdb_url, str(tmp_path), owner="pytest") as wh:
        return {
            dataset.name: wh.query_rows(
                f"SELECT * EXCEPT (_loaded_at) FROM raw.{dataset.name} "
                f"WHERE _partition_date BETWEEN '{start}' AND '{end}' ORDER BY ALL"
            )
            for dataset in of_assets.DATASETS
        }


def failure_message(result) -> str:
    return "\n".join(
        str(event.event_specific_data.error.message)
        for event in result.all_events
        if event.event_type_value == "STEP_FAILURE"
    )


# -- planning ------------------------------------------------------------------------------------------------------


def test_one_pull_per_day_by_default():
    pulls = plan_pulls(date(2024, 3, 1), date(2024, 3, 3), window_days=7)
    assert pulls == [PlannedPull(date(2024, 3, d), 7) for d in (1, 2, 3)]
    assert pulls[0].window == (date(2024, 2, 24), date(2024, 3, 1))


def test_a_wide_backfill_pulls_once_per_chunk_with_a_window_covering_it():
    pulls = plan_pulls(date(2024, 1, 1), date(2024, 12, 31), window_days=7, backfill_chunk_days=31)
    assert len(pulls) == 12
    assert pulls[0] == PlannedPull(date(2024, 1, 31), 31)
    assert pulls[-1].day == date(2024, 12, 31)
    covered = {pull.window[0] + timedelta(days=i) for pull in pulls for i in range(pull.window_days)}
    assert {date(2024, 1, 1) + timedelta(days=i) for i in range(366)} <= covered


def test_each_backfill_chunk_after_the_first_re_reads_the_days_before_it():
    pulls = plan_pulls(date(2024, 1, 1), date(2024, 3, 31), window_days=7, backfill_chunk_days=31)
    assert [pull.window for pull in pulls] == [
        (date(2024, 1, 1), date(2024, 1, 31)),
        (date(2024, 1, 26), date(2024, 3, 2)),  # Feb 1..Mar 2, plus the 6 days before
        (date(2024, 2, 26), date(2024, 3, 31)),
    ]


def test_pulls_never_ask_for_dates_older_than_the_institution_keeps():
    oldest = date(2024, 1, 1)
    pulls = plan_pulls(date(2023, 12, 30), date(2024, 1, 3), window_days=7, oldest=oldest)
    assert [pull.day for pull in pulls] == [date(2024, 1, d) for d in (1, 2, 3)]
    assert all(pull.window[0] >= oldest for pull in pulls)
    assert pulls[0].bill_lookback_days == 0 and pulls[-1].window_days == 3


# -- pulls into the lake and raw -----------------------------------------------------------------------------------


def test_a_month_pulls_every_day_up_to_today_and_loads_raw(resources, tmp_path, chdb_url):
    result = materialize(resources, DECEMBER, selection=[*of_assets.assets, *of_checks])
    assert result.success, failure_message(result)
    lake = tmp_path / "lake" / "open_finance"
    december = [f"dt=2024-12-{day:02d}" for day in range(1, 32)]  # one object per pull day (the bank's today: 31)
    for entity in ("pulls", "accounts", "balances"):
        days = sorted(path.parent.name for path in (lake / entity).glob("dt=*/part-000.parquet"))
        assert days == december, entity
    rows = raw_rows(chdb_url, tmp_path, "2024-12-01", "2024-12-31")
    pulls = rows["open_finance__pulls"]
    assert [(r[0], r[1], r[2], r[3]) for r in pulls] == [
        ("sandbox", date(2024, 12, d), date(2024, 12, d) - timedelta(days=6), date(2024, 12, d)) for d in range(1, 32)
    ]
    assert len(rows["open_finance__accounts"]) == 31  # one account, seen by every pull
    assert rows["open_finance__transactions"] and rows["open_finance__fx_operations"]
    assert {r[0] for r in rows["open_finance__fx_operation_events"]} == {"sandbox"}
    checks = {(e.asset_key.path[-1], e.asset_check_key.name): e for e in result.get_asset_check_evaluations()}
    assert all(check.passed for (_, name), check in checks.items() if name == "no_duplicate_keys")
    assert len([name for _, name in checks if name == "no_duplicate_keys"]) == len(ENTITIES)
    recent = checks[("open_finance__transactions", "recent_pull_per_institution")]
    # A run of December 2024 is judged on the month's last day, which the pulls reach (not on today's date).
    assert recent.passed, recent.metadata
    assert recent.metadata["reference_day"].value == "2024-12-31"
    assert recent.severity == dg.AssetCheckSeverity.WARN


def test_recent_pulls_are_judged_on_today_or_on_the_runs_last_partition_day_when_earlier():
    from orchestration.defs.open_finance.quality import reference_day

    today = date(2026, 12, 6)
    assert reference_day({}, today) == today  # a check run on its own: today (São Paulo, or IMPORTAU_TODAY)
    assert reference_day({"dagster/partition": "2024-02-01"}, today) == date(2024, 2, 29)
    assert reference_day({"dagster/asset_partition_range_end": "2024-12-01"}, today) == date(2024, 12, 31)
    assert reference_day({"dagster/asset_partition_range_end": "2026-12-01"}, today) == today  # the current month


def test_reruns_of_a_month_keep_its_pull_days_and_give_identical_rows(resources, tmp_path, chdb_url):
    snapshots, pulls = [], []
    for config in (None, None, {"refresh": True}):
        run_config = {"ops": {"open_finance_pull": {"config": config}}} if config else None
        result = dg.materialize(
            of_assets.assets, resources=resources, partition_key=DECEMBER, run_config=run_config, raise_on_error=False
        )
        assert result.success, failure_message(result)
        pull_meta = next(
            e.materialization.metadata
            for e in result.get_asset_materialization_events()
            if e.materialization.asset_key.path[-1] == "open_finance__pulls"
        )
        pulls.append(pull_meta["pulls"].value)
        snapshots.append((lake_digest(tmp_path / "lake"), raw_rows(chdb_url, tmp_path, "2024-12-01", "2024-12-31")))
    assert pulls == [31, 1, 31]  # a re-run pulls only today's view, unless asked to refresh
    assert snapshots[0][0] and snapshots[0][1]["open_finance__transactions"]
    assert snapshots[0] == snapshots[1] == snapshots[2]


def test_an_expired_consent_fails_clearly_and_leaves_the_lake_untouched(bank, consent, resources, tmp_path):
    assert materialize(resources, DECEMBER, selection=[of_assets.open_finance_pull]).success
    before = lake_digest(tmp_path / "lake")
    bank.expire_consent(consent[0])
    result = materialize(resources, DECEMBER, selection=[of_assets.open_finance_pull])
    assert not result.success
    message = failure_message(result)
    assert "'sandbox'" in message and consent[0] in message and "authorise" in message.lower()
    assert "nothing was written" in message
    assert lake_digest(tmp_path / "lake") == before


def test_a_used_up_call_budget_says_so(consent, resources, tmp_path):
    entry = json.loads(consent[2])[0] | {"monthly_call_budget": {"default": 1}}
    resources["open_finance"] = OpenFinanceResource(
        institutions=json.dumps([entry]), state_dir=str(tmp_path / "state"), today=TODAY.isoformat()
    )
    result = materialize(resources, DECEMBER, selection=[of_assets.open_finance_pull])
    assert not result.success
    message = failure_message(result)
    assert "call budget" in message and "monthly_call_budget" in message and "'sandbox'" in message


def test_a_truncated_page_fails_the_partition_without_touching_the_lake(bank, resources, tmp_path):
    assert materialize(resources, DECEMBER, selection=[of_assets.open_finance_pull]).success
    before = lake_digest(tmp_path / "lake")
    bank.inject("truncate", count=50, match="/transactions")
    result = materialize(resources, DECEMBER, selection=[of_assets.open_finance_pull])
    bank.clear_faults()
    assert not result.success
    assert "nothing was written" in failure_message(result) and "not complete JSON" in failure_message(result)
    assert lake_digest(tmp_path / "lake") == before
    assert list((tmp_path / "lake" / "_quarantine" / "open_finance").rglob("*.parquet"))  # the body, kept aside


def test_retries_are_in_the_run_log_and_the_pulls_metadata(bank, resources, caplog):
    assert materialize(resources, DECEMBER, selection=[of_assets.open_finance_pull]).success
    bank.inject("429", count=1, match="/balances")
    bank.inject("truncate", count=1, match="/balances")
    instance = dg.DagsterInstance.ephemeral()
    with caplog.at_level(logging.WARNING, logger="ingestion.common.retry"):
        result = materialize(resources, DECEMBER, selection=[of_assets.open_finance_pull], instance=instance)
    bank.clear_faults()
    assert result.success, failure_message(result)
    pull_meta = next(
        e.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key.path[-1] == "open_finance__pulls"
    )
    assert pull_meta["retries"].value == 2
    assert pull_meta["retries_by_reason"].value == {"HTTP 429": 1, "bad body": 1}
    warned = [r.user_message for r in instance.all_logs(result.run_id) if r.level == logging.WARNING]
    assert any("answered only after 2 retries (HTTP 429 x1, bad body x1)" in message for message in warned), warned
    assert len([r for r in caplog.records if r.name == "ingestion.common.retry"]) == 2


def test_no_institution_configured_records_empty_partitions(tmp_path, chdb_url):
    resources = {
        "open_finance": OpenFinanceResource(institutions="", state_dir=str(tmp_path / "state")),
        "lake": LakeResource(url=str(tmp_path / "lake")),
        "warehouse": ClickHouseResource(url=chdb_url, data_dir=str(tmp_path)),
    }
    result = materialize(resources, "2024-06-01", selection=[of_assets.open_finance_pull])
    assert result.success
    rows = {
        e.materialization.asset_key.path[-1]: e.materialization.metadata["row_count"].value
        for e in result.get_asset_materialization_events()
    }
    assert set(rows) == {f"open_finance__{entity}" for entity in ENTITIES} and set(rows.values()) == {0}


# -- secrets -------------------------------------------------------------------------------------------------------


def _secrets(bank) -> list[str]:
    key_pem = bank.certs.client_key.read_text()
    key_body = [line for line in key_pem.splitlines() if line and not line.startswith("-----")]
    return [*bank.issued_secrets, *bank.received_assertions, key_pem, *key_body]


def test_no_secret_reaches_the_logs_or_the_metadata(bank, resources, caplog):
    caplog.set_level(logging.DEBUG)
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(resources, DECEMBER, instance=instance)
    assert result.success, failure_message(result)
    secrets = _secrets(bank)
    assert len(bank.issued_secrets) >= 3 and bank.received_assertions  # tokens, a refresh token, assertions
    records = instance.all_logs(result.run_id)
    texts = [caplog.text, *(record.message or "" for record in records)]
    for record in records:
        event = record.dagster_event
        if event is not None:
            texts.append(repr(event.event_specific_data))
    for event in result.get_asset_materialization_events():
        texts.append(json.dumps({k: str(v) for k, v in event.materialization.metadata.items()}))
    blob = "\n".join(texts)
    assert "open_finance__transactions" in blob  # the scan did see the run
    leaked = [secret[:12] + "..." for secret in secrets if secret in blob]
    assert not leaked
