"""The demo company in a chDB warehouse, built once per session by a full `importau-dbt build --target ci`.

`demo_built.data_dir` holds the warehouse (`warehouse/`), the lake and `demo/ground_truth.json`; query it with
`tests.dbt.dbt_harness.query(demo_built.data_dir, name="SELECT ...")`, run more dbt with `run_dbt(data_dir, ...)`.
The load runs in its own process (`demo_warehouse.py`), then dbt in another: the pytest process never opens
this warehouse (chDB hosts one engine folder per process).
"""

import functools
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.dbt.dbt_harness import DbtRun, dbt_env, run_dbt

HERE = Path(__file__).resolve().parent
SEED, SCALE = 42, 1.0
MESSINESS = "realistic"  # the default demo's level (sandboxes/demo_company/messiness.py)
# The first test of the session pays for the load (about 2 min) and the full build (3 to 10 min on 2 busy cores).
FIXTURE_TIMEOUT_S = 2400


def pytest_collection_modifyitems(items):
    for item in items:
        if "demo_built" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(FIXTURE_TIMEOUT_S))


@functools.cache
def demo_company():
    """The company the `demo_built` warehouse holds (seed, scale and messiness above), for recomputing marts."""
    from sandboxes.demo_company import generate
    from sandboxes.demo_company.messiness import apply

    return apply(generate(seed=SEED, scale=SCALE), MESSINESS)


@dataclass(frozen=True)
class DemoBuilt:
    data_dir: Path
    load: dict  # raw row counts and timings printed by demo_warehouse.py
    run: DbtRun  # the `dbt build` over the whole project

    @property
    def ground_truth(self) -> dict:
        return json.loads((self.data_dir / "demo" / "ground_truth.json").read_text())


def load_demo_warehouse(data_dir: Path, seed: int = SEED, scale: float = SCALE, messiness: str = MESSINESS) -> dict:
    completed = subprocess.run(
        [
            sys.executable,
            str(HERE / "demo_warehouse.py"),
            str(data_dir),
            *("--seed", str(seed), "--scale", str(scale), "--messiness", messiness),
        ],
        env=dbt_env(data_dir),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def demo_built(tmp_path_factory) -> DemoBuilt:
    data_dir = tmp_path_factory.mktemp("demo_marts")
    load = load_demo_warehouse(data_dir)
    return DemoBuilt(data_dir, load, run_dbt(data_dir, "build", timeout=1200))
