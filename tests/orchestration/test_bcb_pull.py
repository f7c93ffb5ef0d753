"""The BCB pull asset against the replay server: transient failures are retried, logged and counted in metadata."""

import logging

import dagster as dg

from ingestion.bcb.replay.server import ReplayServer
from orchestration.defs.bcb import bcb_pull
from orchestration.resources.bcb import BcbApiResource
from orchestration.resources.lake import LakeResource

SGS = dg.AssetKey(["lake", "bcb__sgs_observations"])
PTAX = dg.AssetKey(["lake", "bcb__ptax_quotes"])


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
                resources={
                    "bcb": BcbApiResource(
                        sgs_base_url=replay.sgs_base_url,
                        olinda_base_url=replay.olinda_base_url,
                        closing_file_base_url=replay.closing_base_url,
                        ptax_currencies="USD",
                        max_attempts=3,
                    ),
                    "lake": LakeResource(url=str(tmp_path / "lake")),
                },
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
