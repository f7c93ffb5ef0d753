"""Key material of the demo's Open Finance sandbox (issue 13): gone on every exit path, and after a SIGKILL, at the
next start.

Each case runs the real `sandbox_banks` (what `importau demo`, `importau dev` and `importau soak` start) in a
child process with its own TMPDIR. While it runs, `open-finance-sandbox-*` holds the sandbox PKI (private keys)
and `importau-open-finance-*` the token store, into which the child writes a refresh token through a real
authorization-code exchange with the sandbox over mutual TLS, as a pull does.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingestion.common.private_temp import owner_alive, start_ticks, sweep_stale
from orchestration.commands.sandbox_bank import STATE_PREFIX
from sandboxes.open_finance_bank.server import TEMP_PREFIX as PKI_PREFIX

REPO_ROOT = Path(__file__).resolve().parents[2]
READY = "SANDBOX READY "
# argv[1]: how the child ends once the sandbox runs: normal | exception | wait (until a signal)
CHILD = """
import json, signal, sys, time
from datetime import date
from pathlib import Path

# As a terminal or a supervisor starts it: SIGINT and SIGTERM at their defaults. A child inherits an IGNORED signal
# across exec. A suite started as a background job runs with SIGINT ignored (seen: `nohup bash scripts/test.sh &`),
# and after any in-process Dagster run in the same worker SIGTERM too (Dagster maps SIGTERM to SIGINT's handler:
# orchestration/commands/demo.py, `sigterm_kept`): the signal never reached the sandbox and the test waited out its
# bound (3 failures in such full-suite runs, none when run alone).
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGTERM, signal.SIG_DFL)

from ingestion.open_finance.auth import TokenManager, TokenStore, http_client
from orchestration.commands.sandbox_bank import sandbox_banks

with sandbox_banks(date(2024, 12, 31)) as (env, banks):
    bank = next(iter(banks.values()))
    consent_id, code = bank.create_authorised_consent()
    institution = bank.institution(consent_id)
    store = TokenStore(Path(env["OPEN_FINANCE_STATE_DIR"]) / "tokens.json")
    with http_client(institution) as http:
        TokenManager(institution, http, store).exchange_code(code)
    print("SANDBOX READY " + json.dumps({"state_dir": env["OPEN_FINANCE_STATE_DIR"]}), flush=True)
    if sys.argv[1] == "exception":
        raise RuntimeError("a step failed")
    if sys.argv[1] == "wait":
        time.sleep(120)
"""


def _key_folders(tmp: Path) -> list[Path]:
    return sorted(p for p in tmp.iterdir() if p.name.startswith((PKI_PREFIX, STATE_PREFIX)))


def _start(tmp: Path, data_dir: Path, ending: str) -> tuple[subprocess.Popen, dict]:
    env = {
        **os.environ,
        "TMPDIR": str(tmp),
        "IMPORTAU_DATA_DIR": str(data_dir),  # no demo truth there: the sandbox's built-in dataset
        "PYTHONPATH": str(REPO_ROOT),
    }
    env.pop("DEMO_BANK_TRUTH_DIR", None)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, ending],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a Ctrl-C or SIGTERM meant for it never reaches pytest
    )
    deadline = time.monotonic() + 90
    line = ""
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        if line.startswith(READY) or not line:
            break
    if not line.startswith(READY):
        child.kill()
        _, err = child.communicate(timeout=30)
        pytest.fail(f"the sandbox child did not start (exit {child.returncode}):\n{err[-3000:]}")
    return child, json.loads(line[len(READY) :])


def _assert_key_material(tmp: Path, state_dir: str) -> list[Path]:
    folders = _key_folders(tmp)
    pki = [p for p in folders if p.name.startswith(PKI_PREFIX)]
    assert pki and all("PRIVATE KEY" in (p / "client.key").read_text() for p in pki), folders
    assert Path(state_dir).parent == tmp and "refresh_token" in (Path(state_dir) / "tokens.json").read_text()
    return folders


def _stop(child: subprocess.Popen) -> None:
    if child.poll() is None:
        os.killpg(child.pid, signal.SIGKILL)
    child.communicate(timeout=30)


@pytest.mark.parametrize(
    ("ending", "signum", "exit_code"),
    [
        ("normal", None, 0),
        ("exception", None, 1),
        ("wait", signal.SIGTERM, 143),
        ("wait", signal.SIGINT, -signal.SIGINT),
    ],
    ids=["normal", "exception", "SIGTERM", "SIGINT"],  # Python re-raises an uncaught Ctrl-C as SIGINT
)
def test_sandbox_key_folders_are_removed_on_every_exit_path(tmp_path, ending, signum, exit_code):
    tmp, data_dir = tmp_path / "tmp", tmp_path / "data"
    tmp.mkdir()
    child, ready = _start(tmp, data_dir, ending)
    try:
        if signum is not None:
            _assert_key_material(tmp, ready["state_dir"])
            child.send_signal(signum)
        _, err = child.communicate(timeout=60)
    finally:
        _stop(child)
    assert child.returncode == exit_code, err[-3000:]
    assert _key_folders(tmp) == [], err[-3000:]


def test_a_killed_run_leaves_key_folders_that_the_next_start_removes(tmp_path):
    tmp, data_dir = tmp_path / "tmp", tmp_path / "data"
    tmp.mkdir()
    first, ready = _start(tmp, data_dir, "wait")
    try:
        left = _assert_key_material(tmp, ready["state_dir"])
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # nothing of the process runs: no finally, no atexit
        first.communicate(timeout=30)
    assert _key_folders(tmp) == left  # the kill left the private keys and the tokens behind
    second, ready = _start(tmp, data_dir, "wait")
    try:
        now = _key_folders(tmp)
        assert not set(left) & set(now), f"stale folders of pid {first.pid} survived the next start: {now}"
        _assert_key_material(tmp, ready["state_dir"])
        second.send_signal(signal.SIGTERM)
        second.communicate(timeout=60)
    finally:
        _stop(second)
    assert _key_folders(tmp) == []


def test_the_sweep_keeps_live_owners_untagged_folders_and_a_recycled_pid(tmp_path):
    me = os.getpid()
    live = tmp_path / f"{STATE_PREFIX}{me}.{start_ticks(me)}-live"
    recycled = tmp_path / f"{STATE_PREFIX}{me}.{start_ticks(me) + 1}-recycled"  # same pid, later process
    untagged = tmp_path / f"{STATE_PREFIX}abc123"  # made by an older version: its owner cannot be known
    pull = tmp_path / "importau-open-finance-pull-xyz"  # another prefix altogether
    for folder in (live, recycled, untagged, pull):
        folder.mkdir()
    assert owner_alive(me, start_ticks(me)) and not owner_alive(me, start_ticks(me) + 1)
    assert sweep_stale(STATE_PREFIX, str(tmp_path)) == [recycled]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (live, untagged, pull))
