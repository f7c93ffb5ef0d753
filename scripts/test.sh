#!/usr/bin/env bash
# One command: install, then the whole test suite (lint, unit, dbt on chDB, integration against real servers).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# The tests run dbt under APP_ENV=ci: give that target its partial-parse state now (orchestration/dbt_manifest.py),
# or each dbt invocation of the suite parses the whole project until a dbt step has kept one (about 5 s each).
APP_ENV=ci .venv/bin/importau dbt parse
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# SQL: the dbt models, macros and data tests, with the jinja templater (dbt's builtins and this project's macros,
# dbt_project/.sqlfluff): offline, no warehouse needed.
(cd dbt_project && ../.venv/bin/sqlfluff lint models macros tests --processes 2 --disable-progress-bar)
# The code location loads the way `dg dev` loads it (a throwaway instance, the embedded defaults).
check_home=$(mktemp -d)
trap 'rm -rf "$check_home"' EXIT
printf "telemetry:\n  enabled: false\n" > "$check_home/dagster.yaml"
DAGSTER_HOME="$check_home" APP_ENV=ci VIRTUAL_ENV="$PWD/.venv" .venv/bin/dg check defs
# Two workers (pytest-xdist), one per core, each test file in one worker (`--dist loadfile`: its module fixtures,
# such as the end-to-end demos, are built once). Serially the suite left one of the two cores mostly idle (load
# average about 1). `--dist loadgroup` would keep marts/, dbt/ and ml/ (shared session fixtures) in one worker, but
# pytest-xdist 3.8 cannot group on pytest 9 (it renames `item._nodeid`, which pytest 9 no longer reads).
# --no-loadscope-reorder: pytest-xdist otherwise queues the files by their number of tests, most first, so the
# longest files (the soak is ONE test of about 7 minutes) started last and ran alone at the end; in collection
# order instead, tests/conftest.py puts them first (LONGEST_FIRST).
# --durations=40: every run (CI's too) ends with the slowest setups and tests, where the suite's time goes.
.venv/bin/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder --durations=40 "$@"
