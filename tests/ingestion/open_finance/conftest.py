"""Fixtures of the Open Finance tests: the sandbox institution over mutual TLS, consents, and a pull helper.

One sandbox runs per session (its test PKI takes about a second to generate) on a fixed calendar day, so
results do not depend on the date the tests run; each test gets it with no faults, an empty request log, the
calendar back on that day, and its own fresh consent. Clients use tiny retry waits.
"""

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from ingestion.open_finance.auth import TokenStore
from ingestion.open_finance.budget import CallBudget
from ingestion.open_finance.extract import PullOptions, pull_institution
from ingestion.open_finance.transport import CallSettings
from sandboxes.open_finance_bank import SandboxBank

DAY = date(2025, 3, 14)  # a Friday; the sandbox's "today" unless a test moves it
FAST = CallSettings(max_attempts=3, wait_initial=0.001, wait_max=0.01, timeout=5.0)
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "open_finance"


@pytest.fixture(scope="session")
def fixture_json():
    """A JSON fixture from tests/fixtures/open_finance/."""
    return lambda name: json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def sandbox_session() -> Iterator[SandboxBank]:
    with SandboxBank(today=DAY) as bank:
        yield bank


@pytest.fixture
def bank(sandbox_session: SandboxBank) -> Iterator[SandboxBank]:
    sandbox_session.clear_faults()
    sandbox_session.reset_requests()
    sandbox_session.set_today(DAY)
    yield sandbox_session
    sandbox_session.clear_faults()
    sandbox_session.set_today(DAY)
    sandbox_session.state.renamed_ids.clear()


@pytest.fixture
def consent(bank: SandboxBank) -> tuple[str, str]:
    """A fresh AUTHORISED consent with every permission the client asks for, and its authorization code."""
    return bank.create_authorised_consent()


@pytest.fixture
def pull(bank: SandboxBank, consent):
    """Run `pull_institution` against the sandbox; keyword arguments override the defaults.

    The token store and the call budget persist across calls within a test (as they do across runs), so a
    second pull uses the stored refresh token and counts against the same budget.
    """
    consent_id, code = consent
    store, budget = TokenStore(None), CallBudget(None)

    def run(day: date = DAY, institution=None, **options):
        arguments = {
            "token_store": store,
            "budget": budget,
            "settings": FAST,
            "options": PullOptions(),
            "today": bank.today,
            "grant": {"authorization_code": code},
            **options,
        }
        return pull_institution(institution or bank.institution(consent_id), day, **arguments)

    run.store, run.budget, run.consent_id = store, budget, consent_id
    return run
