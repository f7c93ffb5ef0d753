"""`importau pools`: a slot held by a dead run is reported at WARNING with the command that frees it, and freed.

A real Dagster instance (SQLite, a temp DAGSTER_HOME) with real runs and pool slots; the deployed PostgreSQL
instance runs the same storage calls in tests/integration/test_deployed_instance.py.
"""

import logging
import os
import subprocess

import dagster as dg
import pytest
from dagster._core.events import EngineEventData

from orchestration.cli import main
from orchestration.commands.pools import stale_slots
from orchestration.constants import WAREHOUSE_POOL


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return tmp_path


@pytest.fixture
def instance(home):
    with dg.DagsterInstance.get() as opened:
        opened.event_log_storage.set_concurrency_slots(WAREHOUSE_POOL, 1)
        yield opened


def _run(instance, status: dg.DagsterRunStatus, worker_pid: int | None = None) -> str:
    run = instance.add_run(dg.DagsterRun(job_name="probe", status=status))
    if worker_pid is not None:
        instance.report_engine_event(
            f"Started process for run (pid: {worker_pid}).", run, EngineEventData.in_process(worker_pid)
        )
    return run.run_id


def _holding_a_slot(instance, run_id: str) -> str:
    claim = instance.event_log_storage.claim_concurrency_slot(WAREHOUSE_POOL, run_id, "raw_load")
    assert claim.is_claimed
    return run_id


def _reaped_pid() -> int:
    """The pid of a process that has exited and been reaped: no process has it (until the kernel reuses it)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _holders(instance) -> set[str]:
    return instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).active_run_ids


def test_a_failed_run_holding_a_slot_is_reported_with_the_command_that_frees_it(instance, caplog):
    failed = _holding_a_slot(instance, _run(instance, dg.DagsterRunStatus.FAILURE))
    waiting = _run(instance, dg.DagsterRunStatus.STARTED, worker_pid=_reaped_pid())
    assert not instance.event_log_storage.claim_concurrency_slot(WAREHOUSE_POOL, waiting, "dbt").is_claimed
    with caplog.at_level(logging.INFO, logger="importau.pools"):
        stale = stale_slots(instance)
    assert [(slot.run_id, slot.state, slot.ended) for slot in stale] == [(failed, "FAILURE", True)]
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert any(failed in line and f"`importau pools --free {failed}`" in line for line in warnings), warnings
    assert any(f"runs {waiting} wait for a slot" in line for line in warnings), warnings


def test_a_started_run_whose_worker_is_gone_is_reported_and_freed(instance, caplog):
    dead = _holding_a_slot(instance, _run(instance, dg.DagsterRunStatus.STARTED, worker_pid=_reaped_pid()))
    with caplog.at_level(logging.WARNING, logger="importau.pools"):
        [slot] = stale_slots(instance)
    assert slot.run_id == dead and "is not running on this machine" in slot.state and not slot.ended
    assert f"importau pools --free {dead}" in caplog.text

    assert main(["pools", "--free", dead]) == 0
    assert _holders(instance) == set()
    assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.FAILURE


def test_a_live_run_is_not_reported_and_keeps_its_slot(instance, caplog):
    alive = _holding_a_slot(instance, _run(instance, dg.DagsterRunStatus.STARTED, worker_pid=os.getpid()))
    with caplog.at_level(logging.INFO, logger="importau.pools"):
        assert stale_slots(instance) == []
    assert "WARNING" not in [record.levelname for record in caplog.records]
    assert f"run {alive} step raw_load" in caplog.text

    assert main(["pools", "--free", alive]) == 1
    assert _holders(instance) == {alive}
    assert instance.get_run_by_id(alive).status == dg.DagsterRunStatus.STARTED
