"""One demo company per test session (scale 1, seed 42): generating it takes about two seconds; the PostgreSQL DSN."""

import pytest

from sandboxes.demo_company import DemoCompany, generate
from tests.servers.postgres import postgres_dsn


@pytest.fixture(scope="session")
def company() -> DemoCompany:
    return generate(seed=42, scale=1.0)


@pytest.fixture(scope="session")
def erp_rows(company) -> dict[str, list[dict]]:
    return {name: table.to_pylist() for name, table in company.erp.items()}


@pytest.fixture(scope="session")
def truth(company) -> dict[str, list[dict]]:
    return {name: table.to_pylist() for name, table in company.ground_truth.items()}


@pytest.fixture(scope="session")
def dsn() -> str:
    """The machine's PostgreSQL (tests.servers.postgres): a clear failure when it is not there, never a skip."""
    try:
        return postgres_dsn()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
