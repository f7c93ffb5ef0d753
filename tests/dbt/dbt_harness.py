"""Helpers of the dbt tests: run `importau-dbt`, load raw tables, query the warehouse, each in a subprocess.

Every step runs in its own process, as in production: the raw load (`raw_fixtures.py`), dbt
(`importau-dbt`, which takes the warehouse lock and opens chDB itself) and the queries that check the result
(`warehouse_query.py`). The pytest process never opens this warehouse: chDB hosts one engine folder per
process, and tests/conftest.py already gives this process its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from orchestration.dbt_manifest import seed_partial_parse

REPO = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO / "dbt_project"
BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent


@dataclass
class DbtRun:
    returncode: int
    output: str
    seconds: float
    run_results: dict


def dbt_env(data_dir: Path) -> dict[str, str]:
    """The environment of a subprocess that must only see `data_dir` (no developer warehouse or server)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CLICKHOUSE_", "IMPORTAU_", "DBT_", "APP_ENV"))
    }
    env.update(IMPORTAU_DATA_DIR=str(data_dir), APP_ENV="ci", PYTHONPATH=str(REPO))
    return env


def run_dbt(data_dir: Path, *args: str, project_dir: Path = PROJECT_DIR, timeout: int = 600) -> DbtRun:
    """`importau-dbt <args> --target ci`, with target and log paths in `data_dir`, not dbt_project/."""
    target_path = data_dir / "dbt_target"
    command = [str(BIN / "importau-dbt"), *args, "--target", "ci"]
    command += ["--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]
    env = dbt_env(data_dir)
    env.update(DBT_TARGET_PATH=str(target_path), DBT_LOG_PATH=str(data_dir / "dbt_logs"), DBT_USE_COLORS="false")
    # the project's partial-parse state for `ci` (orchestration/dbt_manifest.py), as the dbt step seeds its own
    seed_partial_parse(target_path, "ci", project_dir)
    started = time.monotonic()
    completed = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    seconds = time.monotonic() - started
    results_file = target_path / "run_results.json"
    run_results = json.loads(results_file.read_text()) if results_file.exists() else {}
    return DbtRun(completed.returncode, completed.stdout + completed.stderr, seconds, run_results)


def load_raw(data_dir: Path) -> dict[str, int]:
    completed = subprocess.run(
        [sys.executable, str(HERE / "raw_fixtures.py"), str(data_dir / "warehouse")],
        env=dbt_env(data_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout)


def query(data_dir: Path, **queries: str) -> dict[str, list[dict]]:
    completed = subprocess.run(
        [sys.executable, str(HERE / "warehouse_query.py"), str(data_dir)],
        input=json.dumps(queries),
        env=dbt_env(data_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout)
