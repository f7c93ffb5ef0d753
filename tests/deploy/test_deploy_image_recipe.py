"""deploy/Dockerfile, checked without Docker (none here): what it installs, copies and runs, and that the code
location loads the way the image runs it (a ClickHouse server, no chDB installed)."""

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from tests.deploy.deploy_files import DEPLOY, DOCKERFILE, REPO_ROOT, helm_values

IGNORE_FILE = DEPLOY / "Dockerfile.dockerignore"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def runtime_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def test_dependencies_come_from_the_lock_without_dev_tools():
    syncs = [args for word, args in instructions() if word == "RUN" and "uv sync" in args]
    assert len(syncs) == 2
    for args in syncs:
        assert "--frozen" in args and "--no-dev" in args
    lock = (REPO_ROOT / "uv.lock").read_text()
    for package in re.findall(r"--no-install-package (\S+)", " ".join(syncs)):
        assert f'name = "{package}"' in lock, f"{package} is not in uv.lock: the exclusion would do nothing"


def test_the_tools_match_the_repository():
    bootstrap = (REPO_ROOT / "scripts" / "bootstrap.sh").read_text()
    uv_version = re.search(r"UV_VERSION=(\S+)", bootstrap).group(1)
    assert f"ghcr.io/astral-sh/uv:{uv_version} " in DOCKERFILE.read_text()
    requires = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11,<3.12"
    assert "ARG PYTHON_IMAGE=python:3.11-" in DOCKERFILE.read_text()


def test_runs_as_a_fixed_non_root_user_matching_the_kubernetes_settings():
    users = [args for word, args in runtime_stage() if word == "USER"]
    assert users == ["10001:10001"]
    values = helm_values()
    assert values["dagster-user-deployments"]["deployments"][0]["podSecurityContext"]["runAsUser"] == 10001
    assert values["runLauncher"]["config"]["k8sRunLauncher"]["securityContext"]["runAsUser"] == 10001


def test_no_secret_enters_the_image():
    for word, args in instructions():
        if word in ("ARG", "ENV"):
            assert not re.search(r"PASSWORD|SECRET|TOKEN|ACCESS_KEY|CLICKHOUSE_URL|DSN", args, re.I), args
    ignored = IGNORE_FILE.read_text().splitlines()
    assert "*" in ignored  # everything is out unless let back in
    allowed = {line[1:].rstrip("/") for line in ignored if line.startswith("!")}
    assert not any(a in (".env", "data", ".git", "tests") for a in allowed)
    for word, args in instructions():
        if word == "COPY" and "--from=" not in args:
            sources = args.split()[:-1]
            for source in sources:
                assert source.rstrip("/") in allowed, f"COPY {source} is not let in by {IGNORE_FILE.name}"


def test_it_serves_the_module_the_workspace_and_the_chart_name():
    workspace = yaml.safe_load((REPO_ROOT / "workspace.yaml").read_text())
    module = workspace["load_from"][0]["python_module"]["module_name"]
    cmd = next(args for word, args in runtime_stage() if word == "CMD")
    assert f'"{module}"' in cmd
    assert helm_values()["dagster-user-deployments"]["deployments"][0]["codeServerArgs"] == ["--module-name", module]


LOAD_WITHOUT_CHDB = """
import sys

class NotInTheImage:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("chdb", "chdb_core"):
            raise ImportError(f"{name} is not installed in the image")
        return None

sys.meta_path.insert(0, NotInTheImage())
from orchestration.definitions import defs
from orchestration.dbt_chdb import profile_env

specs = list(defs.resolve_all_asset_specs())
env = profile_env("https://importau:pw@clickhouse.example.com:8443/", "/tmp")
assert env["CLICKHOUSE_HOST"] == "clickhouse.example.com", env
print("assets", len(specs))
print("chdb imported:", any(m.split(".")[0] in ("chdb", "chdb_core") for m in sys.modules))
"""


def test_the_code_location_loads_on_a_server_without_chdb(tmp_path):
    """The image leaves chDB out (~535 MB): with CLICKHOUSE_URL at a server nothing may import it."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CLICKHOUSE_", "IMPORTAU_", "LAKE_", "S3_", "DAGSTER_", "APP_ENV"))
    }
    env.update(
        APP_ENV="prod",
        CLICKHOUSE_URL="https://importau:pw@127.0.0.1:9/",
        LAKE_URL="s3://importau-lake",
        S3_ENDPOINT_URL="http://127.0.0.1:9",
        S3_ACCESS_KEY_ID="key",
        S3_SECRET_ACCESS_KEY="secret",
        IMPORTAU_DATA_DIR=str(tmp_path / "data"),
        DAGSTER_HOME=str(home),
    )
    run = subprocess.run(
        [sys.executable, "-c", LOAD_WITHOUT_CHDB],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    assert "chdb imported: False" in run.stdout
    assert int(re.search(r"assets (\d+)", run.stdout).group(1)) > 100


BLOCK_CHDB = """import sys


class NotInTheImage:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("chdb", "chdb_core"):
            raise ImportError(f"{name} is not installed in the image")
        return None


sys.meta_path.insert(0, NotInTheImage())
"""


def build_context(into):
    """What the Dockerfile's COPY lines take from the build context, where they put it under /app."""
    for word, args in instructions():
        if word == "COPY" and "--from=" not in args:
            *sources, dest = args.split()
            for source in sources:
                target = into / dest / Path(source).name if dest.endswith("/") else into / dest
                origin = REPO_ROOT / source
                if origin.is_dir():
                    shutil.copytree(origin, target, ignore=shutil.ignore_patterns("target", "logs", "__pycache__"))
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(origin, target)


def test_the_manifest_step_of_the_build_parses_for_the_prod_target_without_chdb(tmp_path):
    """Step 3 of the Dockerfile as written (its variables, its command) on a copy of the build context."""
    app, block = tmp_path / "app", tmp_path / "block"
    app.mkdir()
    block.mkdir()
    (block / "sitecustomize.py").write_text(BLOCK_CHDB)  # every process of the parse: chdb is not installed
    build_context(app)
    step = next(args for word, args in instructions() if word == "RUN" and "importau dbt parse" in args)
    assignments = dict(re.findall(r"(\w+)=(\S+)", step.split("/app/.venv/bin/importau")[0]))
    assert assignments["APP_ENV"] == "prod" and "@" not in assignments["CLICKHOUSE_URL"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLICKHOUSE_", "IMPORTAU_", "DBT_", "APP_ENV"))}
    env.update(assignments)
    env.update(
        PYTHONPATH=f"{block}:{app}",
        IMPORTAU_DATA_DIR=str(tmp_path / "build-data"),
        DBT_LOG_PATH=str(tmp_path / "dbt-logs"),
    )
    run = subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "importau"), "dbt", "parse"],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    manifest = app / "dbt_project" / "target" / "manifest.json"
    nodes = json.loads(manifest.read_text())["nodes"]
    assert sum(node["resource_type"] == "model" for node in nodes.values()) > 50
