"""The house is one-way, repo-wide (docs/architecture.md, "Direction of imports"):
- `ingestion/`, `ml_assets/` and `cockpit/` stay pure: no `dagster*`, `orchestration` or `sandboxes` import. Two
  checks, so that neither a direct import nor one pulled in through a third package goes unnoticed: every `import`
  statement (read with `ast`, so the failure names the file and the line), and every module imported in a fresh
  interpreter (afterwards no `dagster`, `orchestration` or `sandboxes` module is loaded);
- the wiring (`orchestration/` outside `commands/` and `cli.py`) never imports the command line
  (`orchestration.commands`), and never imports `sandboxes` at module level (the definitions load without the
  stand-ins: tests/packaging/test_sandboxes_apart.py runs them without).
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PURE = ("ingestion", "ml_assets", "cockpit")  # cockpit: reads marts, no Dagster (README.md)
# sandboxes/: the local stand-ins are not in the production install (sandboxes/pyproject.toml)
FORBIDDEN = ("dagster", "dagster_dbt", "dagster_postgres", "dagster_k8s", "orchestration", "sandboxes")


# (file, imported module) -> why the edge is tolerated for now
KNOWN_EXCEPTIONS = {
    # the `importau_progress` logger is registered in the Definitions and lives with the commands that select it
    ("orchestration/definitions.py", "orchestration.commands.progress"): "the progress logger",
}


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


def wiring_modules() -> list[Path]:
    return sorted(
        path
        for path in (REPO / "orchestration").rglob("*.py")
        if "commands" not in path.relative_to(REPO / "orchestration").parts[:1] and path.name != "cli.py"
    )


def test_the_wiring_never_imports_the_command_line_nor_the_stand_ins_at_module_level():
    found, tolerated = [], set()
    for path in wiring_modules():
        where = str(path.relative_to(REPO))
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        module_level = set(
            ast.walk(
                ast.Module(
                    body=[
                        n for n in tree.body if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                    ],
                    type_ignores=[],
                )
            )
        )
        for node in ast.walk(tree):
            for name in imported_names(node):
                if (where, name) in KNOWN_EXCEPTIONS:
                    tolerated.add((where, name))
                elif name == "orchestration.commands" or name.startswith("orchestration.commands."):
                    found.append(f"{where}:{node.lineno}: imports {name} (the wiring must not depend on the CLI)")
                elif name.split(".")[0] == "sandboxes" and node in module_level:
                    found.append(f"{where}:{node.lineno}: imports {name} at module level")
    assert any("defs" in path.parts for path in wiring_modules())  # the defs were found
    assert not found, "\n".join(found)
    assert tolerated == set(KNOWN_EXCEPTIONS), f"a known exception is gone: drop it from KNOWN_EXCEPTIONS {tolerated}"
