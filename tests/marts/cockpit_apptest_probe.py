"""Render every cockpit page with `streamlit.testing.v1.AppTest` on a data dir and print what it shows, as JSON.

Run as a script in its own process (`python tests/marts/cockpit_apptest_probe.py <data_dir> [--decide ...]`):
the cockpit opens an in-memory chDB engine for its readers' snapshot, and chDB hosts one engine per process, so
the pytest process stays free of it. Prints `{page: {"metrics": [[label, value]], "tables": [[row, ...]],
"expanders": [label], "exceptions": [...], "errors": [...]}}`. With `--decide CONFIRMED|REJECTED --who NAME`,
the Conciliação page also picks the first proposed match (`--match` to pick one) and presses the button.
"""

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

APP = REPO / "cockpit" / "app.py"


def shown(at) -> dict:
    return {
        "metrics": [[metric.label, metric.value] for metric in at.metric],
        "tables": [frame.value.astype(str).values.tolist() for frame in at.dataframe],
        "columns": [list(frame.value.columns) for frame in at.dataframe],
        "expanders": [expander.label for expander in at.expander],
        "exceptions": [str(exception.value) for exception in at.exception],
        "errors": [str(error.value) for error in at.error],
        "successes": [str(success.value) for success in at.success],
    }


def main() -> None:
    from streamlit.testing.v1 import AppTest

    from cockpit.i18n import PAGES

    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir")
    parser.add_argument("--language", default="pt")
    parser.add_argument("--decide", choices=["CONFIRMED", "REJECTED"])
    parser.add_argument("--who", default="")
    parser.add_argument("--match", default="")
    args = parser.parse_args()
    os.environ["IMPORTAU_DATA_DIR"] = args.data_dir
    result = {}
    for page in PAGES:
        at = AppTest.from_file(str(APP), default_timeout=300)
        at.query_params["page"] = page
        at.query_params["lang"] = args.language
        at.run()
        if page == "conciliacao" and args.decide:
            if args.match:
                at.selectbox(key="match").set_value(args.match)
            at.text_input(key="who").input(args.who)
            at.button(key="confirm" if args.decide == "CONFIRMED" else "reject").click()
            at.run()
            result["decided_match"] = at.selectbox(key="match").value
        result[page] = shown(at)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
