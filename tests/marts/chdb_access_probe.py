"""Run queries on a chDB folder, optionally under a config file (users.xml with roles), and print JSON results.

Usage: `python tests/marts/chdb_access_probe.py <folder> [<config.xml>]` with a JSON list of SQL strings on
stdin. Prints one `{"ok": bool, "code": int | null, "error": str | null, "rows": str | null}` per query, in order.
chDB always runs queries as the user `default`; with a config whose users.xml gives `default` a role, every query
passes ClickHouse's own access checks for that role. It runs in its own process because chDB hosts one engine
folder per process (tests/README.md).

Tests import `probe` (run it in a subprocess, return the results) and `load_apply_roles` from here.
"""

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

ROLES_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "roles"

CODE = re.compile(r"Code: (\d+)")


def main(folder: str, config: str | None) -> None:
    from chdb import session

    queries = json.load(sys.stdin)
    conn = session.Session(f"{folder}?config-file={config}" if config else folder)
    results = []
    try:
        for sql in queries:
            try:
                rows = conn.query(sql, "TabSeparated")
                results.append({"ok": True, "code": None, "error": None, "rows": str(rows).strip()})
            except Exception as error:  # noqa: BLE001 (every engine error is a result to report)
                text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                found = CODE.search(text)
                code = int(found.group(1)) if found else None
                results.append({"ok": False, "code": code, "error": text, "rows": None})
    finally:
        conn.close()
    json.dump(results, sys.stdout)


def probe(folder: Path, queries: list[str], config: Path | None = None) -> list[dict]:
    """Run `queries` in one chDB session on `folder` (this script, in its own process), optionally under a config."""
    completed = subprocess.run(
        [sys.executable, __file__, str(folder), *([str(config)] if config else [])],
        input=json.dumps(queries),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout)


def load_apply_roles(name: str = "apply_roles"):
    """dbt_project/roles/apply_roles.py as a module (it is a script, not in a package)."""
    spec = importlib.util.spec_from_file_location(name, ROLES_DIR / "apply_roles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
