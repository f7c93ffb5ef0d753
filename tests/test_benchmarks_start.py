"""Every benchmark still imports: its module-level imports resolve against the code it measures.

Benchmarks are not run in CI (they time things), so nothing else notices when a refactor renames what one imports:
`benchmarks/erp_demo.py` imported a helper `orchestration/defs/erp.py` no longer had, and `end_to_end.py`, which
uses it, failed too. The module is imported under another name than `__main__`, so nothing runs.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize("script", sorted(p.name for p in BENCHMARKS.glob("*.py")))
def test_benchmark_imports(script, monkeypatch):
    # Benchmarks import each other by module name. Not `monkeypatch.syspath_prepend`: it also calls
    # importlib.invalidate_caches(), which iterates sys.path_importer_cache and raised "dictionary changed size
    # during iteration" when a thread of another test in this worker imported at that moment (CI, 2026-12-07).
    monkeypatch.setattr(sys, "path", [str(BENCHMARKS), *sys.path])
    spec = importlib.util.spec_from_file_location(f"benchmark_{Path(script).stem}", BENCHMARKS / script)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    assert callable(getattr(module, "main", None)), f"{script} has no main()"
