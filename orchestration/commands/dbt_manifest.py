"""`importau dbt parse`: build the dbt manifest the Dagster definitions read (`make manifest` runs it).

The building itself lives in `orchestration/dbt_manifest.py` (no CLI, no dagster), which the code location uses
too; this module is only the command line. `prepare_manifest` stays as the name other commands call.
"""

import argparse
import sys
import time
from pathlib import Path

from orchestration.dbt_manifest import ManifestError, build_manifest, dbt_command

__all__ = ["add_parser", "dbt_command", "prepare_manifest", "run"]


def prepare_manifest() -> Path:
    """Run `dbt parse` (no warehouse connection), replace `target/manifest.json` atomically, return its path."""
    return build_manifest()


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dbt", help="dbt project tasks (parse: build the manifest Dagster reads)")
    parser.add_argument("action", choices=["parse"], help="parse: build dbt_project/target/manifest.json")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from orchestration.env_defaults import apply_env_defaults

    apply_env_defaults()
    started = time.monotonic()
    try:
        path = prepare_manifest()
    except ManifestError as error:
        print(f"importau dbt parse: {error}", file=sys.stderr)
        return 1
    print(f"dbt manifest: {path} ({time.monotonic() - started:.1f} s)")
    return 0
