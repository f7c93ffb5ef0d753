"""The local stand-ins (`sandboxes/`) stay out of production: not in the `importau` wheel, and the production code
(Dagster definitions, the `importau` command line) works without them, the development commands simply absent.
`sandboxes/` is its own distribution (`sandboxes/pyproject.toml`), installed only by the `dev` dependency group."""

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
UV = REPO / ".tools" / "bin" / "uv"

# a meta-path finder that makes `sandboxes` impossible to import, as in a production install
WITHOUT_SANDBOXES = """
import sys
class NoSandboxes:
    def find_spec(self, name, path=None, target=None):
        if name == "sandboxes" or name.startswith("sandboxes."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, NoSandboxes())
"""


def test_every_sandbox_package_is_declared_in_its_distribution():
    declared = set(tomllib.loads((REPO / "sandboxes" / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(("sandboxes", *init.parent.relative_to(REPO / "sandboxes").parts)).rstrip(".")
        for init in (REPO / "sandboxes").rglob("__init__.py")
        if "egg-info" not in str(init)
    }
    assert on_disk == declared


def test_the_importau_wheel_carries_no_sandbox(tmp_path):
    subprocess.run(
        [str(UV), "build", "--wheel", "--package", "importau", "--out-dir", str(tmp_path)],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("importau-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(name.startswith("ingestion/") for name in names)
    assert not [name for name in names if name.startswith("sandboxes/")]


def test_production_code_imports_and_the_cli_starts_without_the_sandboxes():
    script = WITHOUT_SANDBOXES + (
        "import orchestration.definitions\n"
        "from orchestration.cli import build_parser\n"
        "commands = build_parser()._subparsers._group_actions[0].choices\n"
        "print(sorted(commands))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    commands = eval(done.stdout.strip().splitlines()[-1])  # noqa: S307 - our own printed list
    assert "sql" in commands and "dbt" in commands
    assert "replay" not in commands and "sandbox-bank" not in commands  # they import the stand-ins up front


def test_a_development_command_says_what_it_needs_without_the_sandboxes(tmp_path):
    script = WITHOUT_SANDBOXES + (
        "import sys\n"
        "from orchestration.cli import main\n"
        f"sys.exit(main(['demo-data', '--out', {str(tmp_path / 'demo')!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, (done.stdout[-2000:], done.stderr[-2000:])
    assert "needs the local stand-ins (sandboxes/)" in done.stderr
    assert not (tmp_path / "demo").exists()
