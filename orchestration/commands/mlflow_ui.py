"""`importau mlflow`: the MLflow UI on the embedded store, lean and offline.

Plain `mlflow ui` starts 4 uvicorn workers plus MLflow 3's job runner (huey consumers), about 15 processes and
3.4 GB on this project's machine, for one person browsing runs. Here: one worker, the job runner off (nothing of
this project submits MLflow jobs), telemetry off, bound to 127.0.0.1. It prints the experiments page's address:
MLflow 3 otherwise opens on its GenAI landing page. The experiments and registered models carry their
descriptions (written by every training run, `ml_assets.common.tracking.describe_model`).

With `MLFLOW_TRACKING_URI` set to a tracking server, open that server's own UI instead: this command is for the
embedded store.
"""

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

# What the lean server needs in its environment (the caller's values win, except where the UI would be heavier).
LEAN_ENV = {
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",  # no huey job consumers
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
}
STOP_TIMEOUT_SECONDS = 20


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "mlflow",
        help="open the MLflow UI on the embedded store (one worker, no job runner, 127.0.0.1)",
        description="Serves the MLflow UI on <IMPORTAU_DATA_DIR>/mlflow until SIGTERM or Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on (default 5000)")
    parser.set_defaults(handler=run)


def server_command(data_dir: str, host: str, port: int) -> list[str]:
    """The `mlflow server` command line for the embedded store under `data_dir`."""
    store = Path(data_dir) / "mlflow"
    return [
        str(Path(sys.executable).with_name("mlflow")),
        "server",
        "--backend-store-uri",
        f"sqlite:///{store / 'mlflow.db'}",
        "--default-artifact-root",
        (store / "artifacts").as_uri(),
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
    ]


def run(args: argparse.Namespace) -> int:
    from orchestration.resources.settings import resolve_data_dir

    data_dir = resolve_data_dir(os.environ.get("IMPORTAU_DATA_DIR"))
    if not (Path(data_dir) / "mlflow" / "mlflow.db").exists():
        print(f"importau mlflow: no MLflow store at {data_dir}/mlflow (run `importau demo` first)", file=sys.stderr)
        return 1
    env = {**os.environ, **LEAN_ENV}
    server = subprocess.Popen(server_command(data_dir, args.host, args.port), env=env)
    print(f"MLflow UI: http://{args.host}:{args.port}/#/experiments  (Ctrl-C stops it)", flush=True)

    def stop(*_):
        server.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        try:
            return server.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            server.kill()
            return server.wait(timeout=STOP_TIMEOUT_SECONDS)
