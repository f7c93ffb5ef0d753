"""Run queries on a chDB folder, optionally under a config file (users.xml with roles), and print JSON results.

Usage: `python tests/marts/chdb_access_probe.py <folder> [<config.xml>]` with a JSON list of SQL strings on
stdin. Prints one `{"ok": bool, "code": int | null, "error": str | null, "rows": str | null}` per query, in order.
chDB always runs queries as the user `default`; with a config whose users.xml gives `default` a role, every query
passes ClickHouse's own access checks for that role. It runs in its own process because chDB hosts one engine
folder per process (tests/README.md).
"""

import json
import re
import sys

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


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
