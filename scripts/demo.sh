#!/usr/bin/env bash
# One command, offline, on the embedded default: install, then run the main job for the default date range.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/importau demo "$@"
