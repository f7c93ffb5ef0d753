#!/usr/bin/env bash
# One command: install, then the whole test suite (lint, unit, dbt on chDB, integration against real servers).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
