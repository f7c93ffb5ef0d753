"""`demo.run_job` itself, on a real job of the project (`ingest_customs` for a month with nothing in the inbox) on a
local instance in a throwaway data folder: the run succeeds, SIGTERM is at its default afterwards although the
process ignores SIGINT (`sigterm_kept`), and the definitions were frozen before the run (`freeze_long_lived`). In a
fresh interpreter, whose signals and collector the test changes."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STRIP = ("IMPORTAU_", "DAGSTER_", "CLICKHOUSE_", "LAKE_URL", "S3_", "CUSTOMS_")

CODE = textwrap.dedent(
    """
    import gc, signal

    from orchestration.commands.local_instance import prepare_local_instance

    prepare_local_instance()
    from orchestration.commands import demo

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a shell starts a background job
    month = {demo.RANGE_START_TAG: "2024-12-01", demo.RANGE_END_TAG: "2024-12-01"}
    success, run_id = demo.run_job("ingest_customs", month)
    assert success, run_id
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL, signal.getsignal(signal.SIGTERM)
    assert gc.get_freeze_count() > 100_000, gc.get_freeze_count()
    print("RUN_JOB OK")
    """
)


def test_run_job_keeps_sigterm_and_freezes_the_definitions(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(STRIP)}
    env["IMPORTAU_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-c", CODE], cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0 and "RUN_JOB OK" in done.stdout, (done.stdout[-2000:], done.stderr[-4000:])
