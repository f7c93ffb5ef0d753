"""Pipeline health scraped by a real Prometheus: `importau metrics` reads a throwaway Dagster instance that holds
two real runs of the BCB ingestion (one loads SGS into lake and raw after a retried 429, one fails on an HTTP 500),
and Prometheus (the Debian package, on 127.0.0.1) scrapes it; the values are read back through Prometheus's API."""

import os
import signal
import subprocess
import sys
import time

import dagster as dg
import httpx
import pytest

from orchestration.defs.bcb import bcb_pull, raw_load
from orchestration.resources.bcb import BcbApiResource
from orchestration.resources.lake import LakeResource
from orchestration.resources.warehouse import ClickHouseResource
from sandboxes.bcb_replay.server import ReplayServer
from tests.servers.prometheus import free_port, prometheus_server
from tests.servers.seaweedfs import _die_with_parent, stop_process_group

pytestmark = pytest.mark.integration

SGS_LAKE = dg.AssetKey(["lake", "bcb__sgs_observations"])
SGS_RAW = dg.AssetKey(["raw", "bcb__sgs_observations"])
JOB = "ingest_bcb"


def _run_twice(home, tmp_path, chdb_url) -> tuple[dg.ExecuteInProcessResult, float]:
    """A successful run (one 429 retried) and a failed one (HTTP 500, no retry left) of the same job; the first
    run's result and the time its raw materialization was recorded."""
    job = dg.define_asset_job(JOB, selection=[SGS_LAKE, SGS_RAW])
    with ReplayServer() as replay:
        bcb = BcbApiResource(
            sgs_base_url=replay.sgs_base_url,
            olinda_base_url=replay.olinda_base_url,
            closing_file_base_url=replay.closing_base_url,
            max_attempts=2,
        )
        resources = {
            "bcb": bcb,
            "lake": LakeResource(url=str(tmp_path / "lake"), data_dir=str(tmp_path)),
            "warehouse": ClickHouseResource(url=chdb_url, data_dir=str(tmp_path)),
        }
        job_def = dg.Definitions(assets=[bcb_pull, raw_load], jobs=[job], resources=resources).resolve_job_def(JOB)
        with dg.DagsterInstance.local_temp(str(home)) as instance:
            replay.inject("429", count=1, match="bcdata.sgs.1/")
            ok = job_def.execute_in_process(partition_key="2024-01-01", instance=instance)
            replay.inject("500", count=2, match="bcdata.sgs.1/")
            failed = job_def.execute_in_process(partition_key="2024-02-01", instance=instance, raise_on_error=False)
            raw_recorded_at = instance.get_latest_materialization_event(SGS_RAW).timestamp
    assert ok.success and not failed.success
    return ok, raw_recorded_at


def _start_exporter(home, tmp_path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_")}
    env.update(DAGSTER_HOME=str(home), IMPORTAU_DATA_DIR=str(tmp_path), APP_ENV="ci")
    with open(tmp_path / "exporter.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "orchestration.cli", "metrics", "--port", str(port), "--interval", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2.0).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop_process_group(process)
            raise RuntimeError("exporter did not start:\n" + (tmp_path / "exporter.log").read_text()[-3000:])
        time.sleep(0.2)


def test_prometheus_scrapes_rows_retries_runs_and_freshness_from_the_instance(tmp_path, chdb_url):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    ok, raw_recorded_at = _run_twice(home, tmp_path, chdb_url)
    recorded = {e.materialization.asset_key: e for e in ok.get_asset_materialization_events()}
    lake_rows = recorded[SGS_LAKE].materialization.metadata["row_count"].value
    assert lake_rows > 0 and recorded[SGS_LAKE].materialization.metadata["retries"].value == 1

    port = free_port()
    exporter = _start_exporter(home, tmp_path, port)
    try:
        with prometheus_server(tmp_path / "prometheus", [f"127.0.0.1:{port}"]) as prometheus:
            prometheus.wait_until_up()
            rows = prometheus.query("importau_asset_rows_loaded")
            assert rows == {
                (("asset", "lake/bcb__sgs_observations"),): lake_rows,
                (("asset", "raw/bcb__sgs_observations"),): recorded[SGS_RAW]
                .materialization.metadata["row_count"]
                .value,
            }
            assert prometheus.query("importau_asset_retries") == {(("asset", "lake/bcb__sgs_observations"),): 1.0}
            assert prometheus.query("importau_asset_rows_quarantined") == {
                (("asset", "lake/bcb__sgs_observations"),): 0.0
            }
            last = prometheus.query('importau_asset_last_success_timestamp_seconds{asset="raw/bcb__sgs_observations"}')
            assert list(last.values()) == [pytest.approx(raw_recorded_at, abs=0.01)]
            lag = prometheus.query("importau_source_freshness_lag_seconds")
            assert list(lag) == [(("source", "bcb"),)] and 0 <= lag[(("source", "bcb"),)] < 600

            runs = prometheus.query(f'importau_runs_total{{dagster_job="{JOB}"}}')
            assert runs == {
                (("dagster_job", JOB), ("status", "success")): 1.0,
                (("dagster_job", JOB), ("status", "failure")): 1.0,
                (("dagster_job", JOB), ("status", "canceled")): 0.0,
            }
            assert prometheus.query(f'importau_job_last_run_success{{dagster_job="{JOB}"}}') == {
                (("dagster_job", JOB),): 0.0
            }
            duration = prometheus.query(f'importau_job_last_run_duration_seconds{{dagster_job="{JOB}"}}')[
                (("dagster_job", JOB),)
            ]
            assert 0 < duration < 300
            assert prometheus.query("importau_exporter_read_success") == {(): 1.0}
    finally:
        exporter.send_signal(signal.SIGTERM)
        try:
            assert exporter.wait(timeout=15) == 0
        finally:
            stop_process_group(exporter)
    assert "stopped" in (tmp_path / "exporter.log").read_text()
