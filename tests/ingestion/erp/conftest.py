"""One demo company per test session (scale 1, seed 42): generating it takes about two seconds."""

import pytest

from ingestion.erp.demo import DemoCompany, generate


@pytest.fixture(scope="session")
def company() -> DemoCompany:
    return generate(seed=42, scale=1.0)


@pytest.fixture(scope="session")
def erp_rows(company) -> dict[str, list[dict]]:
    return {name: table.to_pylist() for name, table in company.erp.items()}


@pytest.fixture(scope="session")
def truth(company) -> dict[str, list[dict]]:
    return {name: table.to_pylist() for name, table in company.ground_truth.items()}
