"""The BCB pull asset against the replay server: transient failures are retried, logged and counted in metadata."""

import logging
from pathlib import Path

import dagster as dg

from orchestration.defs.bcb import bcb_pull
from orchestration.resources.bcb import BcbApiResource
from orchestration.resources.lake import LakeResource
from sandboxes.bcb_replay.server import ReplayServer

SGS = dg.AssetKey(["lake", "bcb__sgs_observations"])
PTAX = dg.AssetKey(["lake", "bcb__ptax_quotes"])


def _resources(replay: ReplayServer, tmp_path: Path) -> dict:
    """The BCB API on the replay server (USD only, 3 attempts) and a folder lake."""
    return {
        "bcb": BcbApiResource(
            sgs_base_url=replay.sgs_base_url,
            olinda_base_url=replay.olinda_base_url,
            closing_file_base_url=replay.closing_base_url,
            ptax_currencies="USD",
            max_attempts=3,
        ),
        "lake": LakeResource(url=str(tmp_path / "lake")),
    }


def test_retries_are_in_the_run_log_and_each_datasets_metadata(tmp_path, caplog):
    instance = dg.DagsterInstance.ephemeral()
    with ReplayServer() as replay:
        replay.inject("429", count=1, match="bcdata.sgs.1/")  # series 1: refused once, then cut short once
        replay.inject("truncated", count=1, match="bcdata.sgs.1/")
        with caplog.at_level(logging.WARNING, logger="ingestion.common.retry"):
            result = dg.materialize(
                [bcb_pull],
                selection=[SGS, PTAX],
                partition_key="2024-01-01",
                resources=_resources(replay, tmp_path),
                instance=instance,
            )
    assert result.success
    metadata = {
        e.materialization.asset_key: e.materialization.metadata for e in result.get_asset_materialization_events()
    }
    assert metadata[SGS]["retries"].value == 2 and metadata[SGS]["row_count"].value > 0
    assert metadata[PTAX]["retries"].value == 0
    warned = [r.user_message for r in instance.all_logs(result.run_id) if r.level == logging.WARNING]
    assert any(
        "bcb__sgs_observations: the BCB answered only after 2 retries (HTTP 429 x1, bad body x1)" in m for m in warned
    ), warned
    lines = [r.getMessage() for r in caplog.records if r.name == "ingestion.common.retry"]
    assert len(lines) == 2 and all(line.startswith("bcb: SGS series 1 window 2024-01-01..") for line in lines), lines


def test_each_retry_is_a_warning_in_the_run_log_of_the_project_instances(tmp_path):
    """Both instance files manage the `ingestion` loggers at WARNING, so every retry line of the pure ingestion code
    (not only the asset's summary) is an event of the run, visible in the UI; INFO stays out of the event log."""
    import yaml

    from orchestration.commands.local_instance import install_local_instance

    repo = Path(__file__).resolve().parents[2]
    local, deployed = repo / "orchestration/instance/local_dagster.yaml", repo / "dagster.yaml"
    expected = {"managed_python_loggers": ["ingestion"], "python_log_level": "WARNING"}
    for path in (local, deployed):
        assert yaml.safe_load(path.read_text()).get("python_logs") == expected, path
    home = tmp_path / "home"
    install_local_instance(home)
    with dg.DagsterInstance.from_config(str(home)) as instance, ReplayServer() as replay:
        replay.inject("500", count=1, match="bcdata.sgs.1/")
        result = dg.materialize(
            [bcb_pull],
            selection=[SGS],
            partition_key="2024-01-01",
            resources=_resources(replay, tmp_path),
            instance=instance,
        )
        assert result.success
        records = instance.all_logs(result.run_id)
    retried = [r for r in records if r.level == logging.WARNING and "SGS series 1 window 2024-01-01" in r.user_message]
    assert len(retried) == 1, [r.user_message for r in records if r.level >= logging.WARNING]
    assert not [r for r in records if r.level == logging.INFO and (r.user_message or "").startswith("bcb: SGS")]
