"""`importau cockpit`: the finance cockpit (Streamlit, `cockpit/app.py`) on http://127.0.0.1:8501.

It reads what `cockpit/data.py` says: the readers' snapshot of the embedded warehouse (never the warehouse a run
is writing), or a ClickHouse server as `IMPORTAU_COCKPIT_CLICKHOUSE_URL` (a user with the `importau_bi` role).
Runs until Ctrl-C or SIGTERM; Streamlit's usage statistics are off, and it opens no browser.
"""

import argparse
import os
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "cockpit" / "app.py"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cockpit",
        help="serve the finance cockpit (Streamlit) on http://127.0.0.1:8501",
        description="The finance team's pages (Hoje, Caixa, Câmbio, Importações, Conciliação, Fornecedores) on "
        "the marts. Embedded default: reads the snapshot published after each dbt build, so it never waits for "
        "a run. Server: set IMPORTAU_COCKPIT_CLICKHOUSE_URL to a user with the importau_bi role.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8501, help="port to listen on (default 8501)")
    parser.set_defaults(handler=run)


def streamlit_command(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "viewer",  # no Deploy button or developer menu for the finance team
    ]


def run(args: argparse.Namespace) -> int:
    from orchestration.resources.settings import resolve_data_dir

    os.environ["IMPORTAU_DATA_DIR"] = resolve_data_dir(os.environ.get("IMPORTAU_DATA_DIR"))
    print(f"importau cockpit: http://{args.host}:{args.port}  (data: {os.environ['IMPORTAU_DATA_DIR']})", flush=True)
    command = streamlit_command(args.host, args.port)
    os.execv(command[0], command)  # Streamlit's own process: Ctrl-C and SIGTERM stop it as they stop Streamlit
