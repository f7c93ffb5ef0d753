"""A pull in a process of its own, for the tests that need real concurrent processes or a killed one.

    python -m tests.ingestion.open_finance.pull_process '<json>'

The JSON carries `institution` (the `Institution` fields), `code` (the one-time authorization code),
`budget_file`, `day`, `today` and optionally `timeout` (seconds per HTTP operation). Prints one JSON line:
`{"ok": true, "calls": {...}, "fx_operations": n}` or `{"ok": false, "error": "<class>", "message": "..."}`.
"""

import json
import sys
from datetime import date

from ingestion.open_finance.auth import TokenStore
from ingestion.open_finance.budget import CallBudget
from ingestion.open_finance.config import Institution
from ingestion.open_finance.errors import OpenFinanceError
from ingestion.open_finance.extract import pull_institution
from ingestion.open_finance.transport import CallSettings


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    fields = dict(spec["institution"])
    fields["permissions"] = tuple(fields["permissions"])
    institution = Institution(**fields)
    settings = CallSettings(max_attempts=3, wait_initial=0.001, wait_max=0.01, timeout=float(spec.get("timeout", 5)))
    try:
        extract = pull_institution(
            institution,
            date.fromisoformat(spec["day"]),
            token_store=TokenStore(None),
            budget=CallBudget(spec["budget_file"]),
            settings=settings,
            today=date.fromisoformat(spec["today"]),
            grant={"authorization_code": spec["code"]},
        )
    except OpenFinanceError as error:
        print(json.dumps({"ok": False, "error": type(error).__name__, "message": str(error)}), flush=True)
        return 0
    result = {"ok": True, "calls": extract.calls, "fx_operations": extract.tables["fx_operations"].num_rows}
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
