"""`python -m sandboxes.pluggy --truth data/demo/bank --today 2024-12-31`: serve the demo company's banks as
Pluggy would, print the PLUGGY_* variables to export, and run until Ctrl-C."""

import argparse
import sys
import threading
from datetime import date
from pathlib import Path

from sandboxes.open_finance_bank.erp_truth import read_truth
from sandboxes.pluggy.server import PluggyStandIn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.pluggy", description=__doc__.splitlines()[0])
    parser.add_argument("--truth", type=Path, required=True, help="a write_bank_truth folder (data/demo/bank)")
    parser.add_argument("--today", type=date.fromisoformat, default=date(2024, 12, 31))
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    with PluggyStandIn(read_truth(args.truth), args.today, port=args.port) as pluggy:
        for name, value in pluggy.env().items():
            print(f"export {name}='{value}'")
        print(f"# Pluggy stand-in on {pluggy.url} (today {args.today}); Ctrl-C stops it", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
