"""`run_job` freezes what the process holds before its first run (imports, definitions), once, so the full collection
after each run (`release_memory`) scans only what runs left (issue 10). In a fresh interpreter: the test process's
own objects are not the point."""

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CODE = textwrap.dedent(
    """
    import gc

    from orchestration.commands import demo

    demo.job_named("transform_daily")
    assert gc.get_freeze_count() == 0
    demo.freeze_long_lived()
    frozen = gc.get_freeze_count()
    assert frozen > 100_000, frozen  # the definitions, not a handful

    class Node:
        pass

    kept = [Node() for _ in range(1000)]
    for a, b in zip(kept, kept[1:] + kept[:1]):
        a.next = b  # one big cycle, made after the freeze
    demo.freeze_long_lived()  # once per process: these stay collectable
    assert gc.get_freeze_count() == frozen, (gc.get_freeze_count(), frozen)
    del kept, a, b
    assert gc.collect() >= 1000  # the cycle made after the freeze is collected
    print("FROZEN", frozen)
    """
)


def test_the_definitions_are_frozen_once_and_later_cycles_are_still_collected():
    done = subprocess.run(
        [sys.executable, "-c", CODE], cwd=REPO, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0 and "FROZEN" in done.stdout, done.stderr[-4000:]
