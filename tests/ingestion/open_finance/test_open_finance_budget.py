"""The call budget charged in memory (`BudgetSession`): blocks reserved from the file, given back at the end, never
past the budget even with several processes charging at once, and never under-counted when a process dies.

Real files and real processes throughout; the pulls run against the sandbox institution.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingestion.open_finance.budget import DEFAULT_MAX_BLOCK, CallBudget
from ingestion.open_finance.errors import CallBudgetExceeded, OpenFinanceHTTPError
from tests.ingestion.open_finance.conftest import DAY

REPO = Path(__file__).resolve().parents[3]
MARCH = lambda: datetime(2025, 3, 14, 12, tzinfo=UTC)  # noqa: E731
DETAIL = "exchanges/v1/operations/{operationId}"
EVENTS = "exchanges/v1/operations/{operationId}/events"
WAIT = 60  # seconds: the longest any test here waits for a process or a request


def _wait_for(condition, what: str, seconds: float = WAIT) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {seconds} s waiting for {what}")
        time.sleep(0.02)


def test_a_session_reserves_growing_blocks_and_gives_back_what_it_did_not_use(tmp_path):
    budget = CallBudget(tmp_path / "budget.json", MARCH)
    with budget.session() as session:
        for _ in range(10):
            session.charge("banco_a", "e", 1000)
        assert session.reservations == 4  # blocks of 1, 2, 4 and 8 calls: 4 locked writes for 10 calls
        assert budget.used("banco_a", "e") == 15 and session.held() == 5  # reserved calls count until the end
        session.charge("banco_a", "other", 1000)
    assert budget.usage() == {"banco_a": {"e": 10, "other": 1}}  # exactly the calls made
    assert session.held() == 0


def test_blocks_stop_growing_at_the_cap_and_at_the_budget(tmp_path):
    budget = CallBudget(tmp_path / "budget.json", MARCH)
    with budget.session(max_block=4) as session:
        for _ in range(20):
            session.charge("banco_a", "e", 1000)
        assert session.reservations == 3 + 4  # 1 + 2 + 4, then blocks of 4: 7 + 4 * 4 = 23 >= 20
    budget = CallBudget(tmp_path / "tight.json", MARCH)
    with budget.session() as session:
        for _ in range(5):
            session.charge("banco_a", "e", 5)
        assert budget.used("banco_a", "e") == 5  # 1 + 2 + 2: the last block was cut at the budget
        with pytest.raises(CallBudgetExceeded, match=r"\(5 of 5 calls in 2025-03\)\. No call was made"):
            session.charge("banco_a", "e", 5)
    assert budget.used("banco_a", "e") == 5


def test_a_session_follows_the_month(tmp_path):
    now = [datetime(2025, 3, 31, 23, 59, tzinfo=UTC)]
    budget = CallBudget(tmp_path / "budget.json", lambda: now[0])
    with budget.session() as session:
        for _ in range(3):
            session.charge("banco_a", "e", 3)
        now[0] = datetime(2025, 4, 1, 0, 1, tzinfo=UTC)
        session.charge("banco_a", "e", 3)  # a new month: a fresh count, whatever March held
    assert budget.usage("2025-03") == {"banco_a": {"e": 3}} and budget.usage("2025-04") == {"banco_a": {"e": 1}}


def test_the_in_memory_budget_works_the_same(tmp_path):
    budget = CallBudget(None, MARCH)
    with budget.session() as session:
        for _ in range(7):
            session.charge("banco_a", "e", 7)
        with pytest.raises(CallBudgetExceeded):
            session.charge("banco_a", "e", 7)
    assert budget.used("banco_a", "e") == 7


# -- several processes, one file -------------------------------------------------------------------------------

CHARGER = """
import json, sys, time
from datetime import UTC, datetime
from pathlib import Path
from ingestion.open_finance.budget import CallBudget
from ingestion.open_finance.errors import CallBudgetExceeded

path, go, mode = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
budget = CallBudget(path, lambda: datetime(2025, 3, 14, tzinfo=UTC))
Path(go.with_name(go.name + '.' + sys.argv[4])).touch()  # ready
deadline = time.monotonic() + 60
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit('no go signal within 60 s')
    time.sleep(0.005)
made = 0
charger = budget.session() if mode == 'session' else budget
try:
    while True:
        charger.charge('banco_a', 'e', int(sys.argv[5]))
        made += 1
        time.sleep(0.001)  # the call itself
except CallBudgetExceeded:
    pass
finally:
    if mode == 'session':
        charger.close()
print(json.dumps({'made': made}))
"""


def test_processes_charging_at_once_never_exceed_the_budget_together(tmp_path):
    """Two pulls' sessions and a per-call charger in three processes share a budget of 600 calls."""
    path, go, limit = tmp_path / "budget.json", tmp_path / "go", 600
    modes = ["session", "session", "per-call"]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CHARGER, str(path), str(go), mode, str(index), str(limit)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        for index, mode in enumerate(modes)
    ]
    try:
        _wait_for(lambda: all(go.with_name(f"go.{i}").exists() for i in range(len(modes))), "the processes to start")
        go.touch()
        outputs = [process.communicate(timeout=WAIT)[0] for process in processes]
    finally:
        for process in processes:
            process.kill()
    made = [json.loads(output)["made"] for output in outputs]
    assert all(process.returncode == 0 for process in processes)
    assert sum(made) == limit  # every call the budget allows was made, and not one more
    assert all(count > 0 for count in made), made  # they really charged at the same time
    assert CallBudget(path, MARCH).used("banco_a", "e") == limit  # unused reservations all came back


def test_a_process_that_dies_mid_session_leaves_an_over_count_never_an_under_count(tmp_path):
    """Over-count chosen: a dead process's reserved-but-unmade calls stay counted (at most max_block - 1)."""
    path = tmp_path / "budget.json"
    code = (
        "import os, sys; from datetime import UTC, datetime; from ingestion.open_finance.budget import CallBudget\n"
        "s = CallBudget(sys.argv[1], lambda: datetime(2025, 3, 14, tzinfo=UTC)).session()\n"
        "for _ in range(100): s.charge('banco_a', 'e', 10_000)\n"
        "os._exit(9)  # no close, no finally: as a SIGKILL would leave it\n"
    )
    completed = subprocess.run([sys.executable, "-c", code, str(path)], cwd=REPO, timeout=WAIT)
    assert completed.returncode == 9
    counted = CallBudget(path, MARCH).used("banco_a", "e")
    assert 100 <= counted < 100 + DEFAULT_MAX_BLOCK  # 1+2+4+...+32 = 63, then 64: 127 reserved for 100 calls


# -- pulls against the sandbox ---------------------------------------------------------------------------------


def _endpoint(path: str) -> str | None:
    """The budget's endpoint template of a sandbox request path (None for the token and control endpoints)."""
    if not path.startswith("/open-banking/"):
        return None
    template = path.removeprefix("/open-banking/")
    for pattern, name in (
        (r"^(exchanges/v1/operations/)[^/]+(/events)?$", r"\1{operationId}\2"),
        (r"^(accounts/v2/accounts/)[^/]+/", r"\1{accountId}/"),
        (r"^(credit-cards-accounts/v2/accounts/)[^/]+/", r"\1{creditCardAccountId}/"),
        (r"/bills/[^/]+/", "/bills/{billId}/"),
        (r"^(consents/v3/consents/)[^/]+$", r"\1{consentId}"),
    ):
        template = re.sub(pattern, name, template)
    return template


def _bank_counts(bank) -> dict[str, int]:
    counts: dict[str, int] = {}
    for request in bank.requests:
        endpoint = _endpoint(request["path"])
        if endpoint:
            counts[endpoint] = counts.get(endpoint, 0) + 1
    return counts


def _spawn_pull(bank, consent, budget_file: Path, timeout: float = 5, **overrides) -> subprocess.Popen:
    consent_id, code = consent
    spec = {
        "institution": asdict(bank.institution(consent_id, **overrides)),
        "code": code,
        "budget_file": str(budget_file),
        "day": DAY.isoformat(),
        "today": bank.today.isoformat(),
        "timeout": timeout,
    }
    command = [sys.executable, "-m", "tests.ingestion.open_finance.pull_process", json.dumps(spec)]
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)


def test_a_failed_pull_gives_its_unused_calls_back(pull, bank, tmp_path):
    budget = CallBudget(tmp_path / "budget.json")
    bank.inject("429", count=10, match="/balances")
    with pytest.raises(OpenFinanceHTTPError, match="after 3 attempts"):
        pull(budget=budget)
    month = budget.usage()["sandbox"]
    assert month == _bank_counts(bank)  # exactly the calls made, the failing ones included


def test_two_processes_pulling_at_once_never_exceed_the_budget_together(bank, tmp_path):
    """Each pull needs the detail of the sandbox's 2 FX operations; the budget allows 3 between them."""
    budget_file = tmp_path / "budget.json"
    bank.inject("slow", count=2, match="/open-banking/exchanges/v1/operations", seconds=0.5)  # both lists overlap
    processes = [
        _spawn_pull(bank, bank.create_authorised_consent(), budget_file, monthly_call_budget={DETAIL: 3})
        for _ in range(2)
    ]
    try:
        results = [json.loads(process.communicate(timeout=WAIT)[0]) for process in processes]
    finally:
        for process in processes:
            process.kill()
    assert sorted(result["ok"] for result in results) == [False, True], results
    [refused] = [result for result in results if not result["ok"]]
    assert refused["error"] == "CallBudgetExceeded" and DETAIL in refused["message"]
    made = _bank_counts(bank)
    # the good pull's 2, plus the refused one's first call if it got a call reserved before the budget ran out;
    # never the 4 the two pulls wanted
    assert made[DETAIL] in (2, 3)
    assert CallBudget(budget_file).usage()["sandbox"] == made  # both processes gave back what they held


def test_a_pull_killed_mid_way_leaves_a_count_at_least_the_calls_made(bank, consent, tmp_path):
    """SIGKILL during the FX fan-out: the file counts every call the bank received (over-count allowed)."""
    budget_file = tmp_path / "budget.json"
    bank.inject("slow", count=1, match="/events", seconds=8)  # one events call hangs until the kill
    process = _spawn_pull(bank, consent, budget_file, timeout=30)
    try:
        _wait_for(lambda: any(q["path"].endswith("/events") for q in bank.requests), "the hanging events call")
        time.sleep(0.2)  # let the other worker go on calling
        os.kill(process.pid, signal.SIGKILL)
        process.communicate(timeout=WAIT)
    finally:
        process.kill()
    assert process.returncode == -signal.SIGKILL
    made = _bank_counts(bank)
    counted = CallBudget(budget_file).usage()["sandbox"]
    assert made and all(counted.get(endpoint, 0) >= calls for endpoint, calls in made.items()), (counted, made)
    assert all(counted[endpoint] - made.get(endpoint, 0) < DEFAULT_MAX_BLOCK for endpoint in counted)
