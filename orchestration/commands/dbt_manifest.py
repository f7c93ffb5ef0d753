"""Parse the dbt project so the Dagster definitions can load its manifest (never done at import in prod)."""

import os
import subprocess
import sys
from pathlib import Path

from orchestration.dbt_args import dbt_target

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


def dbt_command(*args: str) -> list[str]:
    executable = Path(sys.executable).with_name("importau-dbt")
    return [
        str(executable),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target",
        dbt_target(os.environ.get("APP_ENV"), os.environ.get("CLICKHOUSE_URL")),
    ]


def prepare_manifest() -> Path:
    """Run `dbt parse` (no warehouse connection) and return the manifest path."""
    completed = subprocess.run(dbt_command("parse", "--quiet"), capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}")
    return DBT_PROJECT_DIR / "target" / "manifest.json"
