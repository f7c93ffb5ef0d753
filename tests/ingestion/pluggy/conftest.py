from datetime import date

import pytest

from ingestion.pluggy.client import ClientSettings, PluggyClient
from ingestion.pluggy.config import load_settings
from sandboxes.demo_company.company import generate
from sandboxes.pluggy import PluggyStandIn

START, END = date(2024, 1, 1), date(2024, 3, 31)
FAST = ClientSettings(max_attempts=4, wait_initial=0.001, wait_max=0.01, max_retry_after=5)


@pytest.fixture(scope="session")
def truth() -> dict[str, list[dict]]:
    """A small demo company (3 months): its bank truth, as the demo generator writes it."""
    company = generate(seed=7, scale=0.1, start=START, end=END)
    return {name: table.to_pylist() for name, table in company.bank.items()}


@pytest.fixture
def pluggy(truth):
    """The stand-in, small pages so paging is exercised (accounts 1 per page, transactions 25)."""
    with PluggyStandIn(truth, END, accounts_page_size=1, transactions_page_size=25) as stand_in:
        yield stand_in


@pytest.fixture
def settings(pluggy):
    return load_settings(pluggy.env())


@pytest.fixture
def client(settings):
    with PluggyClient(settings.base_url, settings.client_id, settings.client_secret, FAST) as opened:
        yield opened
