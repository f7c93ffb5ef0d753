"""`demo.run_job` itself, on a real job of the project (`ingest_customs` for a month with nothing in the inbox) on a
local instance in a throwaway data folder, in a fresh interpreter whose signals and collector the test changes:

- `sigterm_kept`: Dagster maps SIGTERM to SIGINT's handler when an in-process run ends; started as a background job
  (SIGINT ignored), `importau demo` and the benchmark's and the soak's drivers then ignored SIGTERM. After
  `run_job` it is at its default; after a bare `dg.materialize` (the reason for the guard) it is ignored.
- `freeze_long_lived`: the definitions are frozen before the first run, once; a cycle made afterwards is still
  collected, so `release_memory`'s full collection scans only what runs left (issue 10).
"""

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

    import dagster as dg

    from orchestration.commands.local_instance import prepare_local_instance

    prepare_local_instance()
    from orchestration.commands import demo

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a shell starts a background job
    month = {demo.RANGE_START_TAG: "2024-12-01", demo.RANGE_END_TAG: "2024-12-01"}
    success, run_id = demo.run_job("ingest_customs", month)
    assert success, run_id
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL, signal.getsignal(signal.SIGTERM)

    frozen = gc.get_freeze_count()
    assert frozen > 100_000, frozen  # the definitions, not a handful

    class Node:
        pass

    kept = [Node() for _ in range(1000)]
    for a, b in zip(kept, kept[1:] + kept[:1]):
        a.next = b  # one big cycle, made after the freeze
    success, run_id = demo.run_job("ingest_customs", month)  # a second run freezes nothing more
    assert success, run_id
    assert gc.get_freeze_count() == frozen, (gc.get_freeze_count(), frozen)
    del kept, a, b
    assert gc.collect() >= 1000  # the cycle made after the freeze is collected

    @dg.asset
    def one() -> None:
        pass

    assert dg.materialize([one]).success  # no guard: Dagster's own mapping
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN, signal.getsignal(signal.SIGTERM)
    print("RUN_JOB OK")
    """
)


def test_run_job_keeps_sigterm_and_freezes_the_definitions_once(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(STRIP)}
    env["IMPORTAU_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-c", CODE], cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0 and "RUN_JOB OK" in done.stdout, (done.stdout[-2000:], done.stderr[-4000:])
