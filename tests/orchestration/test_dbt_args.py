"""dbt unit tests run in CI's direct builds, never in the Dagster dbt step: the pure functions that build the
`dbt build` command line of the dbt assets."""

import subprocess
import sys
from pathlib import Path

from orchestration.dbt_args import dbt_build_args


def test_the_dagster_build_leaves_the_unit_tests_to_ci():
    assert dbt_build_args() == ["build", "--exclude-resource-type", "unit_test"]
    assert dbt_build_args(True) == ["build", "--full-refresh", "--exclude-resource-type", "unit_test"]
    assert dbt_build_args(unit_tests=True) == ["build"]  # what a whole-project build in CI runs


def _dbt_build_option_errors(args: list[str], empty_dir: Path) -> str:
    """What dbt-core says about `args` when it parses them (an empty folder: nothing is built or opened)."""
    dbt = Path(sys.executable).with_name("importau-dbt")
    folder = ["--project-dir", str(empty_dir), "--profiles-dir", str(empty_dir)]
    completed = subprocess.run([str(dbt), *args, *folder], capture_output=True, text=True, timeout=120)
    assert completed.returncode != 0  # no dbt_project.yml in the empty folder
    return completed.stdout + completed.stderr


def test_dbt_core_accepts_the_exclusion_on_build(tmp_path):
    accepted = _dbt_build_option_errors(dbt_build_args(unit_tests=False), tmp_path)
    assert "Invalid value" not in accepted and "No such option" not in accepted, accepted
    # A misspelt value is refused at the same point, so the check above really reached option parsing.
    refused = _dbt_build_option_errors(["build", "--exclude-resource-type", "unit_tests"], tmp_path)
    assert "Invalid value for '--exclude-resource-types'" in refused, refused
