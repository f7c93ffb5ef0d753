#!/usr/bin/env bash
# Installs everything the project needs into .venv from the committed uv.lock.
# Needs only python3.11 and the package registries: uv itself is installed into .tools/ when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
if command -v uv >/dev/null 2>&1; then
  UV=uv
else
  if [ ! -x .tools/bin/uv ]; then
    python3.11 -m venv .tools 2>/dev/null || python3 -m venv .tools
    .tools/bin/pip install --quiet "uv==${UV_VERSION}"
  fi
  UV=.tools/bin/uv
fi
export UV_PYTHON_DOWNLOADS=never
# --compile-bytecode: write every installed package's .pyc now (about 30 s once, then free). Without it, where
# PYTHONDONTWRITEBYTECODE=1 is set (as on these machines), every process (each dbt step, each CLI call, each test
# subprocess) compiled dagster, dbt and mlflow from source again: about a quarter of a dbt step's start-up.
"$UV" sync --frozen --quiet --compile-bytecode
# The dbt manifest the Dagster definitions read (orchestration/dbt_manifest.py), built here once on a fresh clone so
# no Dagster process parses at start. `importau dev` and `importau demo` rebuild it; after editing dbt_project/
# by hand, `make manifest` (`importau dbt parse`).
if [ ! -f dbt_project/target/manifest.json ]; then
  .venv/bin/importau dbt parse
fi
