"""benchmarks/sizing.py: the fit recovers known costs, and the README's Sizing tables are what it prints from the
committed benchmark JSON (so the README cannot drift from the measurements)."""

import contextlib
import importlib.util
import io
import sys

import pytest

from tests.deploy.deploy_files import REPO_ROOT

SIZING = REPO_ROOT / "benchmarks" / "sizing.py"
MEASURED = sorted((REPO_ROOT / "benchmarks" / "sizing_data").glob("end_to_end-*.json"))


def sizing_module():
    spec = importlib.util.spec_from_file_location("benchmarks_sizing", SIZING)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_fit_recovers_per_partition_and_per_row_costs():
    sizing = sizing_module()
    seen = [
        sizing.Observation(f"s{i}", "0 -> 0", partitions, rows, 0.8 * partitions + 0.002 * rows)
        for i, (partitions, rows) in enumerate([(12, 4_000), (12, 13_000), (12, 40_000), (1, 900), (120, 23_000)])
    ]
    fitted = sizing.fit("stage", seen)
    assert fitted.per_partition == pytest.approx(0.8, rel=1e-6)
    assert fitted.per_row == pytest.approx(0.002, rel=1e-6)


def test_costs_are_never_negative():
    """A stage whose time falls as rows grow (noise) gets a zero per-row cost, not a negative one."""
    sizing = sizing_module()
    seen = [sizing.Observation("a", "", 12, 1_000, 30.0), sizing.Observation("b", "", 12, 10_000, 25.0)]
    fitted = sizing.fit("stage", seen)
    assert fitted.per_row == 0 and fitted.per_partition > 0


def test_month_partitions_of_a_run():
    sizing = sizing_module()
    assert sizing.months("2022-01-01", "2024-12-01") == 36
    assert sizing.months("2025-01-01", "2025-01-01") == 1
    assert sizing.months(None, None) == 1


@pytest.mark.skipif(not MEASURED, reason="no committed benchmark JSON")
def test_the_readme_tables_are_what_sizing_prints_from_the_committed_json():
    """Every table line sizing.py prints is in README.md (coefficients, sizing) or benchmarks/README.md (every
    observation with its residual, the per-stage extrapolation), character for character."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert sizing_module().main([str(p) for p in MEASURED]) == 0
    docs = (REPO_ROOT / "README.md").read_text() + (REPO_ROOT / "benchmarks" / "README.md").read_text()
    printed = [line for line in out.getvalue().splitlines() if line.startswith("| ") and "---" not in line]
    assert len(printed) > 20
    missing = [line for line in printed if line not in docs]
    assert missing == [], "the docs differ from benchmarks/sizing.py's output:\n" + "\n".join(missing)
    sizing_lines = [line for line in printed if line.split("|")[1].strip() in {"1", "10", "100", "1000"}]
    assert len(sizing_lines) == 4 and all(line in (REPO_ROOT / "README.md").read_text() for line in sizing_lines)
