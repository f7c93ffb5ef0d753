"""dagster-dbt asks `importau-dbt --version` before every dbt command of a step: answered locally, in well under 1 s."""

import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

from dagster_dbt import DbtCliResource

from orchestration.dbt_manifest import DBT_PROJECT_DIR

DBT = Path(sys.executable).with_name("importau-dbt")


def test_dagster_dbt_reads_the_installed_dbt_core_version():
    resource = DbtCliResource(project_dir=str(DBT_PROJECT_DIR), dbt_executable=str(DBT))
    assert str(resource._cli_version) == version("dbt-core")  # what DbtCliResource.cli checks for dbt-core vs fusion


def test_the_version_is_answered_from_the_installed_packages():
    started = time.monotonic()
    completed = subprocess.run([str(DBT), "--version"], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert "latest" not in completed.stdout  # dbt's own answer compares with PyPI's latest release
    assert f"installed: {version('dbt-core')}" in completed.stdout
    assert f"clickhouse: {version('dbt-clickhouse')}" in completed.stdout
    assert time.monotonic() - started < 5  # dbt's own --version took about 4 s (CLI import + two PyPI calls)
