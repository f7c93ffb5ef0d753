"""The house is one-way: `orchestration/` wires, `ingestion/` and `ml_assets/` stay pure (docs/architecture.md), and no
production package imports the local stand-ins of `sandboxes/`.

Two checks, so that neither a direct import nor one pulled in through a third package goes unnoticed:
- every `import` statement of every module in the pure packages (read with `ast`, so the failure names the file
  and the line): nothing from `dagster*` or `orchestration`;
- every module of the pure packages imported in a fresh interpreter: afterwards no `dagster` module is loaded.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PURE = ("ingestion", "ml_assets", "cockpit")  # cockpit: reads marts, no Dagster (README.md)
# sandboxes/: the local stand-ins are not in the production install (sandboxes/pyproject.toml)
FORBIDDEN = ("dagster", "dagster_dbt", "dagster_postgres", "dagster_k8s", "orchestration", "sandboxes")


def pure_modules() -> list[Path]:
    return sorted(path for package in PURE for path in (REPO / package).rglob("*.py"))


def imported_names(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0:
        return [node.module or ""]
    return []


def test_the_pure_packages_have_no_import_statement_of_dagster_orchestration_or_sandboxes():
    found = []
    for path in pure_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            for name in imported_names(node):
                top = name.split(".")[0]
                if top in FORBIDDEN or top.startswith("dagster"):
                    found.append(f"{path.relative_to(REPO)}:{node.lineno}: imports {name}")
    assert len(pure_modules()) > 50  # the packages were found
    assert not found, "\n".join(found)


def test_importing_every_pure_module_loads_no_dagster_module():
    names = [
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__") for path in pure_modules()
    ]
    script = (
        "import importlib, json, sys\n"
        f"names = {names!r}\n"
        "failed = {}\n"
        "for name in names:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as error:\n"
        "        failed[name] = f'{type(error).__name__}: {error}'\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0].startswith('dagster') or m.split('.')[0] in "
        "('orchestration', 'sandboxes'))\n"
        "print(json.dumps({'failed': failed, 'loaded': loaded}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["failed"] == {}, result["failed"]
    assert result["loaded"] == [], result["loaded"]
