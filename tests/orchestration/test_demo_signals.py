"""`importau demo` (and the benchmark's and the soak's drivers) run Dagster in-process, and Dagster maps SIGTERM to
SIGINT's handler when a run ends. Started as a background job (SIGINT ignored), the command then ignored SIGTERM;
`run_job` keeps SIGTERM as it was (`sigterm_kept`). In a fresh interpreter, whose signals this test may change."""

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CODE = textwrap.dedent(
    """
    import signal

    import dagster as dg

    from orchestration.commands.demo import sigterm_kept


    @dg.asset
    def one() -> None:
        pass


    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a shell starts a background job
    with sigterm_kept():
        assert dg.materialize([one]).success
    print("kept", signal.getsignal(signal.SIGTERM) == signal.SIG_DFL)
    assert dg.materialize([one]).success  # no guard: Dagster's own mapping, the reason for it
    print("bare", signal.getsignal(signal.SIGTERM) == signal.SIG_DFL)
    """
)


def test_a_run_leaves_sigterm_at_its_default_when_the_command_ignores_sigint():
    done = subprocess.run(
        [sys.executable, "-c", CODE], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "kept True" in done.stdout and "bare False" in done.stdout, done.stdout
