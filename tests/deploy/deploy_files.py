"""Loading the files of deploy/ for the deploy tests: YAML documents, the Helm values, the Secrets script."""

import importlib.util
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
K8S_DIR = DEPLOY / "k8s"
HELM_VALUES = DEPLOY / "helm" / "values.yaml"
CHART_KEYS = DEPLOY / "helm" / "chart_keys.json"
DOCKERFILE = DEPLOY / "Dockerfile"

# The newest Kubernetes schema kubernetes-validate 1.37 ships (offline, inside the package).
K8S_VERSION = "1.37.0"


def manifests() -> list[tuple[str, dict]]:
    """(file name, document) of every YAML document in deploy/k8s/."""
    found = []
    for path in sorted(K8S_DIR.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found.append((path.name, doc))
    return found


def helm_values() -> dict:
    return yaml.safe_load(HELM_VALUES.read_text())


def make_secrets_module():
    """deploy/k8s/make_secrets.py, imported from its path (deploy/ is not a package)."""
    spec = importlib.util.spec_from_file_location("deploy_make_secrets", K8S_DIR / "make_secrets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
