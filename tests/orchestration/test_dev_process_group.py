"""`importau dev` stops `dagster dev` with SIGINT to its process group (what Ctrl-C does). Started as a background job
(SIGINT ignored, and an ignored signal is inherited across exec), the group still gets a SIGINT it can act on."""

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PARENT = textwrap.dedent(
    """
    import os, signal, subprocess, sys

    from orchestration.commands.dev import start_stoppable_group

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a shell starts a background job
    sleeper = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]
    started = {
        "plain": subprocess.Popen(sleeper, start_new_session=True, stdout=subprocess.PIPE, text=True),
        "stoppable": start_stoppable_group(sleeper, stdout=subprocess.PIPE, text=True),
    }
    assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN, "the command's own disposition changed"
    for name, child in started.items():
        assert child.stdout.readline() == "up\\n"
        os.killpg(child.pid, signal.SIGINT)
        try:
            print(name, child.wait(timeout=15))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            print(name, "ignored", child.wait(timeout=15))
    """
)


def test_the_dagster_dev_group_gets_a_sigint_it_acts_on_when_the_command_ignores_sigint():
    done = subprocess.run(
        [sys.executable, "-c", PARENT], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert lines["plain"].startswith("ignored")  # what a bare Popen inherits: the reason for the helper
    assert lines["stoppable"] == "-2"  # ended by SIGINT (Python re-raises an uncaught Ctrl-C as the signal)
