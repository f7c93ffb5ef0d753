"""Print the platform's Kubernetes Secrets, built from the operator's environment, for `kubectl apply -f -`.

    set -a; . ./prod.env; set +a          # the same variables as .env.example, from the operator's vault
    python deploy/k8s/make_secrets.py | kubectl apply -n importau -f -

The Helm values (deploy/helm/values.yaml) and the manifests in this folder only name these Secrets; their values
exist in the operator's environment and in the cluster, never in a file of the repository. This script writes
nothing to disk and refuses to print to a terminal (the values would stay in the scrollback): pipe it.

Secrets (each key is the environment variable the code reads, so a pod takes them with `envFrom`):
  importau-clickhouse          CLICKHOUSE_URL (https://user:password@host:8443/)                  required
  importau-s3                  S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY (the MinIO/S3 lake)           required
  importau-dagster-postgresql  postgresql-password = DAGSTER_PG_PASSWORD (the chart's key name)      required
  importau-sources             ERP_RABBITMQ_URL, ERP_POSTGRES_DSN, ALERT_WEBHOOK_URL, AIRBYTE_*,    those set
                               PLUGGY_CLIENT_SECRET, PLUGGY_WEBHOOK_SECRET
  importau-open-finance-certs  tls.crt, tls.key, ca.crt: the files OPEN_FINANCE_CERT_PATH,             if set
                               OPEN_FINANCE_KEY_PATH, OPEN_FINANCE_CA_PATH name (mounted read-only)
Plain Python (no dependency), so it runs from any checkout.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

LABELS = {"app.kubernetes.io/part-of": "importau", "app.kubernetes.io/managed-by": "deploy-k8s-secrets"}

# Secret name -> (key in the Secret, environment variable), all required.
REQUIRED = {
    "importau-clickhouse": [("CLICKHOUSE_URL", "CLICKHOUSE_URL")],
    "importau-s3": [("S3_ACCESS_KEY_ID", "S3_ACCESS_KEY_ID"), ("S3_SECRET_ACCESS_KEY", "S3_SECRET_ACCESS_KEY")],
    # The Dagster chart reads the PostgreSQL password from this key of the Secret named in
    # global.postgresqlSecretName, into DAGSTER_PG_PASSWORD of every Dagster pod.
    "importau-dagster-postgresql": [("postgresql-password", "DAGSTER_PG_PASSWORD")],
}
# Credentials of optional systems: a variable that is unset or empty is left out of the Secret.
OPTIONAL = {
    "importau-sources": [
        "ERP_RABBITMQ_URL",
        "ERP_POSTGRES_DSN",
        "ALERT_WEBHOOK_URL",
        "AIRBYTE_CLIENT_ID",
        "AIRBYTE_CLIENT_SECRET",
        "AIRBYTE_API_TOKEN",
        "AIRBYTE_PASSWORD",
        "PLUGGY_CLIENT_SECRET",
        "PLUGGY_WEBHOOK_SECRET",
    ],
}
# The Open Finance transport certificate: Secret key -> the variable holding the file's path.
CERT_SECRET = "importau-open-finance-certs"
CERT_FILES = [
    ("tls.crt", "OPEN_FINANCE_CERT_PATH"),
    ("tls.key", "OPEN_FINANCE_KEY_PATH"),
    ("ca.crt", "OPEN_FINANCE_CA_PATH"),
]


class SecretsError(ValueError):
    """The environment lacks what a Secret needs; the message names every missing variable and file."""


def _secret(name: str, data: Mapping[str, bytes]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": name, "labels": dict(LABELS)},
        "data": {key: base64.b64encode(value).decode("ascii") for key, value in data.items()},
    }


def build_secrets(environ: Mapping[str, str]) -> list[dict]:
    """The Secret objects for this environment. Raises SecretsError naming every missing required variable."""
    missing = [var for pairs in REQUIRED.values() for _, var in pairs if not environ.get(var)]
    cert_paths = {key: environ.get(var, "") for key, var in CERT_FILES}
    if bool(cert_paths["tls.crt"]) != bool(cert_paths["tls.key"]):
        missing.append("OPEN_FINANCE_CERT_PATH and OPEN_FINANCE_KEY_PATH (set both or neither)")
    for key, var in CERT_FILES:
        if cert_paths[key] and not Path(cert_paths[key]).is_file():
            missing.append(f"{var} (no file at {cert_paths[key]})")
    if missing:
        raise SecretsError("cannot build the Kubernetes Secrets; missing: " + ", ".join(missing))

    secrets = [_secret(name, {key: environ[var].encode() for key, var in pairs}) for name, pairs in REQUIRED.items()]
    for name, variables in OPTIONAL.items():
        secrets.append(_secret(name, {var: environ[var].encode() for var in variables if environ.get(var)}))
    if cert_paths["tls.crt"]:
        files = {key: Path(path).read_bytes() for key, path in cert_paths.items() if path}
        secrets.append(_secret(CERT_SECRET, files))
    return secrets


def to_yaml_stream(objects: list[dict]) -> str:
    """One document per object. JSON is valid YAML, so no YAML library is needed."""
    return "".join(f"---\n{json.dumps(obj, indent=2)}\n" for obj in objects)


def main() -> int:
    if sys.stdout.isatty():
        print("refusing to print Secrets to a terminal: pipe into `kubectl apply -n <namespace> -f -`", file=sys.stderr)
        return 2
    try:
        secrets = build_secrets(os.environ)
    except SecretsError as error:
        print(error, file=sys.stderr)
        return 1
    sys.stdout.write(to_yaml_stream(secrets))
    names = ", ".join(s["metadata"]["name"] + f" ({len(s['data'])} keys)" for s in secrets)
    print(f"printed {len(secrets)} Secrets: {names}", file=sys.stderr)  # names and counts only, never values
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
