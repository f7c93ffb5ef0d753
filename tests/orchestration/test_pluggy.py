"""Pluggy assets against the stand-in (real HTTP on 127.0.0.1), a temporary lake and the session chDB: a ranged
run lands the truth in raw, re-runs are identical, a run for one item keeps the others, a failure writes nothing,
and a webhook becomes one run request per item and month."""

import json
import logging
from collections import Counter
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from ingestion.pluggy.webhook import WebhookReceiver, spooled
from orchestration.defs import pluggy as pluggy_defs
from orchestration.resources.lake import LakeResource
from orchestration.resources.pluggy import PluggyResource
from orchestration.resources.warehouse import ClickHouseResource
from sandboxes.demo_company.company import generate
from sandboxes.pluggy import PluggyStandIn

START, END = date(2024, 1, 1), date(2024, 3, 31)
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


@pytest.fixture(scope="module")
def truth():
    company = generate(seed=11, scale=0.1, start=START, end=END)
    return {name: table.to_pylist() for name, table in company.bank.items()}


@pytest.fixture
def stand_in(truth, monkeypatch):
    with PluggyStandIn(truth, END, transactions_page_size=100) as pluggy:
        monkeypatch.setenv("PLUGGY_CLIENT_SECRET", pluggy.client_secret)
        monkeypatch.setenv("IMPORTAU_TODAY", END.isoformat())
        yield pluggy


def _resource(pluggy: PluggyStandIn, tmp_path: Path, items: str | None = None) -> PluggyResource:
    env = pluggy.env()
    return PluggyResource(
        base_url=env["PLUGGY_BASE_URL"],
        client_id=env["PLUGGY_CLIENT_ID"],
        item_ids=env["PLUGGY_ITEM_IDS"] if items is None else items,
        webhook_spool_dir=str(tmp_path / "spool"),
        max_attempts=2,
        retry_wait_seconds=0.01,
    )


def _materialize(resources, start: str, end: str, run_config=None):
    return dg.materialize(
        pluggy_defs.assets,
        resources=resources,
        tags={RANGE_START: start, RANGE_END: end},
        run_config=run_config,
        raise_on_error=False,
    )


def _lake(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def _raw_counts(chdb_url, tmp_path, table: str) -> dict:
    from ingestion.common.warehouse import open_warehouse

    with open_warehouse(chdb_url, str(tmp_path), owner="pytest") as wh:
        return dict(
            wh.query_rows(
                f"SELECT toStartOfMonth(booking_date), count() FROM raw.{table} "
                f"WHERE _partition_date BETWEEN '{START}' AND '{END}' GROUP BY 1 ORDER BY 1"
            )
        )


def test_a_ranged_run_lands_the_truth_and_a_rerun_is_identical(stand_in, truth, tmp_path, chdb_url):
    resources = {
        "pluggy": _resource(stand_in, tmp_path),
        "lake": LakeResource(url=str(tmp_path / "lake")),
        "warehouse": ClickHouseResource(url=chdb_url, data_dir=str(tmp_path)),
    }
    result = _materialize(resources, "2024-01-01", "2024-03-01")
    assert result.success
    expected = Counter(t["booking_date"].replace(day=1) for t in truth["bank_transactions"])
    assert _raw_counts(chdb_url, tmp_path, "pluggy__transactions") == dict(sorted(expected.items()))
    objects = _lake(tmp_path / "lake")
    assert sorted(p for p in objects if p.startswith("pluggy/transactions")) == [
        f"pluggy/transactions/dt=2024-0{m}-01/part-000.parquet" for m in (1, 2, 3)
    ]
    # balances: one per BANK account, in the month of the stand-in's today only
    assert [p for p in objects if p.startswith("pluggy/balances")] == ["pluggy/balances/dt=2024-03-01/part-000.parquet"]
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {"lake_quality": True, "no_duplicate_keys": True}

    assert _materialize(resources, "2024-01-01", "2024-03-01").success
    assert _lake(tmp_path / "lake") == objects


def test_a_run_for_one_item_keeps_the_other_items_rows(stand_in, tmp_path, chdb_url):
    resources = {
        "pluggy": _resource(stand_in, tmp_path),
        "lake": LakeResource(url=str(tmp_path / "lake")),
        "warehouse": ClickHouseResource(url=chdb_url, data_dir=str(tmp_path)),
    }
    assert _materialize(resources, "2024-02-01", "2024-02-01").success
    before = _lake(tmp_path / "lake")
    item = stand_in.item_ids()["341"]
    config = {"ops": {"pluggy_pull": {"config": {"item_ids": [item]}}}}
    calls = len(stand_in.requests)
    assert _materialize(resources, "2024-02-01", "2024-02-01", config).success
    items_asked = {q.get("itemId") for _, path, q in stand_in.requests[calls:] if path == "/accounts"}
    assert items_asked == {item}
    assert _lake(tmp_path / "lake") == before  # same rows, the other item's kept


def test_a_failing_pull_writes_nothing_and_says_where(stand_in, tmp_path, chdb_url):
    resources = {
        "pluggy": _resource(stand_in, tmp_path),
        "lake": LakeResource(url=str(tmp_path / "lake")),
        "warehouse": ClickHouseResource(url=chdb_url, data_dir=str(tmp_path)),
    }
    stand_in.fail("/v2/transactions", 500, times=100)
    result = _materialize(resources, "2024-01-01", "2024-01-01")
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = str(failure.event_specific_data.error.message)
    assert "nothing was written to the lake" in message and "GET /v2/transactions (item " in message
    assert "HTTP 500" in message and stand_in.client_secret not in message
    assert _lake(tmp_path / "lake") == {}


def test_no_item_configured_writes_nothing(stand_in, tmp_path, chdb_url):
    resources = {
        "pluggy": _resource(stand_in, tmp_path, items=""),
        "lake": LakeResource(url=str(tmp_path / "lake")),
        "warehouse": ClickHouseResource(url=chdb_url, data_dir=str(tmp_path)),
    }
    assert _materialize(resources, "2024-01-01", "2024-01-01").success
    assert _lake(tmp_path / "lake") == {}


def test_a_webhook_becomes_one_run_request_per_item_and_month(stand_in, tmp_path):
    resource = _resource(stand_in, tmp_path)
    item = stand_in.item_ids()["341"]
    with WebhookReceiver(tmp_path / "spool") as receiver:
        for _ in range(2):  # delivered twice
            status = stand_in.send_webhook(
                receiver.url,
                "transactions/created",
                item,
                event_id="evt-9",
                accountId="acc",
                transactionsCreatedAtFrom="2024-03-20T13:00:00.000Z",
            )
            assert status == 200
        stand_in.send_webhook(receiver.url, "transactions/updated", "ffffffff-0000-4000-8000-000000000000")
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"pluggy": resource})
        result = pluggy_defs.pluggy_webhook_sensor(context)
    requests = result.run_requests
    assert [(r.run_key, r.partition_key) for r in requests] == [(f"pluggy:{item}:2024-03:evt-9", "2024-03-01")]
    assert requests[0].run_config == {"ops": {"pluggy_pull": {"config": {"item_ids": [item]}}}}
    remaining = [event for _, event in spooled(tmp_path / "spool", 10)]
    assert [e.event_id for e in remaining] == ["evt-9"]  # the unknown item's webhook was dropped, ours waits

    # once the run exists, the next tick asks for nothing and removes the spooled event
    events = list(spooled(tmp_path / "spool", 10))
    requests, done, _ = pluggy_defs.webhook_run_requests(
        events, lambda key: key == f"pluggy:{item}:2024-03:evt-9", {item}, START, END
    )
    assert requests == [] and done == [events[0][0]]


def test_the_sensor_skips_without_items(tmp_path):
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"pluggy": PluggyResource()})
        result = pluggy_defs.pluggy_webhook_sensor(context)
    assert isinstance(result, dg.SkipReason) and "PLUGGY_ITEM_IDS" in result.skip_message


def test_no_secret_reaches_the_logs_the_events_or_the_metadata(stand_in, tmp_path, chdb_url, caplog):
    caplog.set_level(logging.DEBUG)
    resources = {
        "pluggy": _resource(stand_in, tmp_path),
        "lake": LakeResource(url=str(tmp_path / "lake")),
        "warehouse": ClickHouseResource(url=chdb_url, data_dir=str(tmp_path)),
    }
    stand_in.fail("/accounts", 429, times=1, retry_after=0)  # a retry is logged too
    stand_in.fail("/items/", 401, times=1)  # a 401: a second key is asked for
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        pluggy_defs.assets, resources=resources, partition_key="2024-03-01", instance=instance, raise_on_error=False
    )
    assert result.success
    records = instance.all_logs(result.run_id)
    texts = [caplog.text, *(record.message or "" for record in records)]
    texts += [repr(record.dagster_event.event_specific_data) for record in records if record.dagster_event]
    for event in result.get_asset_materialization_events():
        texts.append(json.dumps({k: str(v) for k, v in event.materialization.metadata.items()}))
    blob = "\n".join(texts)
    assert "pluggy__transactions" in blob and "429" in blob  # the scan saw the run and its retry
    secrets = [stand_in.client_secret, *stand_in._keys]
    assert stand_in.auth_calls == 2 and len(secrets) == 3 and not [s[:6] for s in secrets if s in blob]
