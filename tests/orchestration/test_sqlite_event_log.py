"""The local instance's event log (orchestration/instance/sqlite_event_log.py) keeps its SQLite connections open
and must still store and show exactly what Dagster's own SQLite event log does, to this process and to others.

Real Dagster instances on real SQLite files in tmp Dagster homes; the other process is a real subprocess.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import pytest

from orchestration.commands.local_instance import EVENT_BATCH_SIZE, EVENT_BATCH_SIZE_ENV, install_local_instance
from orchestration.instance.sqlite_event_log import KEPT_SHARDS, KeptConnectionSqliteEventLogStorage

REPO_ROOT = Path(__file__).resolve().parents[2]
DAYS = dg.DailyPartitionsDefinition(start_date="2024-12-01", end_date="2024-12-06")


@dg.asset(partitions_def=DAYS)
def landed(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"row_count": len(context.partition_key)})


@dg.asset_check(asset=landed)
def landed_has_rows() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@dg.asset(deps=[landed])
def modelled() -> None:
    pass


def _run_everything(instance: dg.DagsterInstance) -> list[str]:
    """Two runs (a partition of `landed` with its check, then `modelled`); the event types each stored, in order."""
    stored = []
    for selection, partition in (([landed, landed_has_rows], "2024-12-02"), ([modelled], None)):
        result = dg.materialize(
            [landed, landed_has_rows, modelled], instance=instance, partition_key=partition, selection=selection
        )
        assert result.success
        stored += [
            r.dagster_event_type.value if r.dagster_event_type else "log" for r in instance.all_logs(result.run_id)
        ]
    return stored


def test_the_local_instance_uses_it_and_stores_what_dagsters_own_sqlite_log_stores(tmp_path):
    install_local_instance(tmp_path / "kept")
    with dg.DagsterInstance.from_config(str(tmp_path / "kept")) as kept:
        assert isinstance(kept.event_log_storage, KeptConnectionSqliteEventLogStorage)
        assert Path(kept.event_log_storage._base_dir) == (tmp_path / "kept" / "history" / "runs").resolve()
        kept_events = _run_everything(kept)
        latest = kept.get_latest_materialization_event(dg.AssetKey("landed"))
        assert latest is not None and latest.asset_materialization.partition == "2024-12-02"
        assert kept.get_latest_materialization_event(dg.AssetKey("modelled")) is not None
        assert kept.get_materialized_partitions(dg.AssetKey("landed")) == {"2024-12-02"}
    (tmp_path / "stock").mkdir()
    (tmp_path / "stock" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dg.DagsterInstance.from_config(str(tmp_path / "stock")) as stock:
        assert type(stock.event_log_storage).__name__ == "SqliteEventLogStorage"
        assert _run_everything(stock) == kept_events
    assert "ASSET_MATERIALIZATION" in kept_events and "ASSET_CHECK_EVALUATION" in kept_events


def test_another_process_sees_every_committed_event_and_writes_beside_it(tmp_path):
    """The open connections hold no stale view: this process reads what another one wrote after it opened its
    files, and both write the same index file in turn."""
    home = tmp_path / "home"
    install_local_instance(home)
    other = textwrap.dedent(
        f"""
        import dagster as dg

        @dg.asset
        def from_elsewhere() -> None:
            pass

        with dg.DagsterInstance.from_config({str(home)!r}) as instance:
            assert dg.materialize([from_elsewhere], instance=instance).success
        """
    )
    with dg.DagsterInstance.from_config(str(home)) as instance:
        _run_everything(instance)  # this process's connections are open now
        assert instance.get_latest_materialization_event(dg.AssetKey("from_elsewhere")) is None
        done = subprocess.run([sys.executable, "-c", other], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        assert instance.get_latest_materialization_event(dg.AssetKey("from_elsewhere")) is not None
        _run_everything(instance)  # and it still writes after the other process did
        assert len(instance.get_run_records()) == 5


def test_old_shards_are_closed_and_a_wipe_starts_clean(tmp_path):
    home = tmp_path / "home"
    install_local_instance(home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        storage = instance.event_log_storage
        for _ in range(KEPT_SHARDS):  # 2 runs each: more run files than engines kept
            _run_everything(instance)
        assert len(storage._engines) == KEPT_SHARDS
        assert len(instance.get_run_records()) == 2 * KEPT_SHARDS
        instance.wipe()
        assert not list((home / "history" / "runs").glob("*-*-*-*-*.db"))  # the run files are gone
        _run_everything(instance)  # new run files, written through new engines
        assert instance.get_materialized_partitions(dg.AssetKey("landed")) == {"2024-12-02"}


def test_a_batch_is_stored_in_one_transaction_per_file_and_a_failed_batch_leaves_nothing(tmp_path, monkeypatch):
    """Creating a run hands the planned events to the storage as one batch (DAGSTER_EVENT_BATCH_SIZE, as
    `prepare_local_instance` sets it); every event lands once. A batch that fails half-way is rolled back in every
    file, and the storage writes on afterwards."""
    monkeypatch.setenv(EVENT_BATCH_SIZE_ENV, EVENT_BATCH_SIZE)
    home = tmp_path / "home"
    install_local_instance(home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        storage = instance.event_log_storage
        batches = []
        store_batch = storage.store_event_batch
        monkeypatch.setattr(
            storage, "store_event_batch", lambda events: (batches.append(len(events)), store_batch(events))
        )
        result = dg.materialize([landed, landed_has_rows, modelled], instance=instance, partition_key="2024-12-03")
        assert result.success
        types = [r.dagster_event_type.value for r in instance.all_logs(result.run_id) if r.dagster_event_type]
        planned = [kind for kind in types if kind.endswith("_PLANNED")]
        assert "ASSET_CHECK_EVALUATION_PLANNED" in planned and "ASSET_MATERIALIZATION_PLANNED" in planned
        assert batches[:1] == [len(planned)]  # every planned event of the run in one batch, stored once each
        latest_planned = instance.get_latest_planned_materialization_info(dg.AssetKey("modelled"))
        assert latest_planned is not None and latest_planned.run_id == result.run_id  # the index file has them too

        # A batch whose second event fails: the first, already written in both files, is rolled back.
        logs = [r for r in instance.all_logs(result.run_id) if r.dagster_event_type]
        materialization = next(r for r in logs if r.dagster_event_type.value == "ASSET_MATERIALIZATION")
        run_id = "0" * 8 + "-0000-0000-0000-" + "0" * 12
        first = materialization._replace(run_id=run_id)
        store_one = storage.store_event
        calls = []

        def failing_second(event):
            calls.append(event)
            if len(calls) == 2:
                raise OSError("disk gone")
            store_one(event)

        monkeypatch.setattr(storage, "store_event", failing_second)
        with pytest.raises(OSError, match="disk gone"):
            store_batch([first, first])
        monkeypatch.setattr(storage, "store_event", store_one)
        assert instance.all_logs(run_id) == []
        assert instance.get_latest_materialization_event(dg.AssetKey("landed")).run_id == result.run_id
        store_batch([first])  # and the next batch is stored
        assert len(instance.all_logs(run_id)) == 1
        assert instance.get_latest_materialization_event(dg.AssetKey("landed")).run_id == run_id
