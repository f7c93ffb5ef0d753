"""One `dbt build --target ci` per session on a temporary chDB warehouse loaded with real BCB values
(helpers in dbt_harness.py)."""

from pathlib import Path

import pytest

from tests.dbt.dbt_harness import DbtRun, load_raw, run_dbt


@pytest.fixture(scope="session")
def dbt_data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("dbt_ci")


@pytest.fixture(scope="session")
def raw_counts(dbt_data_dir) -> dict[str, int]:
    return load_raw(dbt_data_dir)


@pytest.fixture(scope="session")
def dbt_build(dbt_data_dir, raw_counts) -> DbtRun:
    """`importau-dbt build --target ci`: seeds, models, data tests and unit tests, once per session."""
    return run_dbt(dbt_data_dir, "build")
