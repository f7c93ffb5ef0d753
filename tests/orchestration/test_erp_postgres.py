"""The ERP PostgreSQL extraction asset through Dagster, without a database: not configured (fails saying what to
set, the schedule skips, the main path leaves it out), a database that refuses the connection (the failure names
it, never the password), and the schedule's daily request with the Sunday key scan. The real path, against the
machine's PostgreSQL, is tests/integration/test_erp_postgres_asset.py."""

import socket
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster._serdes import serialize_value

from orchestration.defs.erp_postgres import NOT_CONFIGURED, erp_postgres_daily_schedule, erp_postgres_extract
from orchestration.resources.erp import ErpResource
from orchestration.resources.lake import LakeResource

MONTH = "2026-12-01"
SECRET = "pw-orchestration-test-never-shown"
SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def _materialize(tmp_path):
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [erp_postgres_extract],
            partition_key=MONTH,
            resources={
                "erp": ErpResource(data_dir=str(tmp_path)),
                "lake": LakeResource(url=str(tmp_path / "lake"), data_dir=str(tmp_path)),
            },
            instance=instance,
            raise_on_error=False,
        )
        events = "\n".join(serialize_value(entry) for entry in instance.all_logs(result.run_id))
    failure = next(event.event_specific_data.error.message for event in result.all_events if event.is_step_failure)
    return result, failure, events


def test_without_a_dsn_a_run_fails_saying_what_to_set_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("ERP_POSTGRES_DSN", raising=False)
    result, failure, _ = _materialize(tmp_path)
    assert not result.success
    assert NOT_CONFIGURED in failure and "ingest_erp" in failure
    assert not (tmp_path / "lake").exists()


def test_a_refused_connection_names_the_database_and_never_the_password(tmp_path, monkeypatch):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("ERP_POSTGRES_DSN", f"host=127.0.0.1 port={port} dbname=erp user=importau password={SECRET}")
    result, failure, events = _materialize(tmp_path)
    assert not result.success
    assert "Failure: cannot connect to the ERP database " in failure and "Connection refused" in failure
    assert "host=127.0.0.1" in failure and f"port={port}" in failure
    assert "password=***" in failure and SECRET not in failure
    assert SECRET not in events


def test_the_schedule_skips_without_a_dsn_and_scans_keys_on_sundays(tmp_path, monkeypatch):
    monkeypatch.delenv("ERP_POSTGRES_DSN", raising=False)
    resources = {"erp": ErpResource(data_dir=str(tmp_path))}
    monday = datetime(2026, 12, 7, 6, 30, tzinfo=SAO_PAULO)
    skipped = erp_postgres_daily_schedule(
        dg.build_schedule_context(resources=resources, scheduled_execution_time=monday)
    )
    assert isinstance(skipped, dg.SkipReason) and "ERP_POSTGRES_DSN is not set" in skipped.skip_message

    monkeypatch.setenv("ERP_POSTGRES_DSN", f"host=127.0.0.1 dbname=erp user=importau password={SECRET}")
    for day, key_scan in ((monday, False), (datetime(2026, 12, 6, 6, 30, tzinfo=SAO_PAULO), True)):
        request = erp_postgres_daily_schedule(
            dg.build_schedule_context(resources=resources, scheduled_execution_time=day)
        )
        assert request.partition_key == MONTH and request.run_key == day.date().isoformat()
        assert request.run_config == {"ops": {"erp_postgres_extract": {"config": {"key_scan": key_scan}}}}
        assert SECRET not in serialize_value(request)


@pytest.mark.parametrize("job", ["ingest_erp", "transform", "transform_daily"])
def test_the_main_path_never_runs_the_extraction(definitions, job):
    keys = definitions.resolve_job_def(job).asset_layer.executable_asset_keys
    assert not [key for key in keys if key.path[-1].startswith("erp_postgres__")]


def test_the_erp_raw_tables_load_both_channels_and_wait_for_neither(definitions):
    graph = definitions.resolve_asset_graph()
    node = graph.get(dg.AssetKey(["raw", "erp__payables"]))
    assert {key.to_user_string() for key in node.parent_keys} == {"lake/erp__payables", "lake/erp_postgres__payables"}
    assert node.automation_condition.get_label() == "eager_any_lake_dataset"
    assert graph.get(dg.AssetKey(["lake", "erp_postgres__payables"])).group_name == "erp_postgres"
