"""`importau metrics`: a Prometheus exporter of pipeline health, read from the Dagster instance.

Serves `/metrics` on 127.0.0.1:9108 by default (`--host 0.0.0.0` to let a Prometheus on another machine scrape
it) until SIGTERM or Ctrl-C. It reads the instance of DAGSTER_HOME (default: the embedded one under
IMPORTAU_DATA_DIR) at most once per `--interval` seconds, when a scrape comes; the metrics are listed in
README.md (Monitoring) and computed in `orchestration/pipeline_metrics.py`.
"""

import argparse
import logging
import os
import signal
import sys
import threading

LOG = logging.getLogger("importau.metrics")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "metrics",
        help="serve pipeline health as Prometheus metrics (/metrics), read from the Dagster instance",
        description="Reads the Dagster instance of DAGSTER_HOME (default: the embedded one under IMPORTAU_DATA_DIR).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9108, help="port to listen on (default 9108)")
    parser.add_argument(
        "--interval", type=float, default=15.0, help="read the instance at most once per this many seconds"
    )
    parser.add_argument("--max-runs", type=int, default=1000, help="finished runs read to find each job's last one")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from dagster import DagsterInstance
    from prometheus_client import CollectorRegistry, start_http_server

    from ingestion.common.redact import redact_text
    from orchestration.pipeline_metrics import PipelineHealthCollector
    from orchestration.resources.settings import resolve_data_dir

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in (LOG.name, "orchestration.pipeline_metrics"):  # ours at INFO, libraries' (alembic...) at WARNING
        logging.getLogger(name).setLevel(logging.INFO)
    if not os.environ.get("DAGSTER_HOME"):
        os.environ["DAGSTER_HOME"] = os.path.join(resolve_data_dir(os.environ.get("IMPORTAU_DATA_DIR")), "dagster_home")
    home = os.environ["DAGSTER_HOME"]
    if not os.path.isdir(home):
        print(f"importau metrics: no Dagster instance at {home} (DAGSTER_HOME)", file=sys.stderr)
        return 1
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        instance = DagsterInstance.get()  # the deployed instance connects to PostgreSQL here
    except Exception as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        first = redact_text(first, [os.environ.get("DAGSTER_PG_PASSWORD", "")])
        print(f"importau metrics: cannot open the Dagster instance at {home}: {first}", file=sys.stderr)
        return 1
    with instance:
        collector = PipelineHealthCollector(instance, interval=args.interval, max_runs=args.max_runs)
        snapshot = collector.refresh()  # a first read now: an unreadable instance shows at start, not at a scrape
        if snapshot is not None:
            LOG.info("read %s: %d assets materialized, %d jobs", home, len(snapshot.assets), len(snapshot.jobs))
        registry = CollectorRegistry(auto_describe=False)
        registry.register(collector)
        try:
            server, thread = start_http_server(args.port, addr=args.host, registry=registry)
        except OSError as error:
            print(f"importau metrics: cannot listen on {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
            return 1
        LOG.info("serving http://%s:%d/metrics (reads at most every %.0f s)", args.host, args.port, args.interval)
        try:
            while not stop.wait(1.0):
                pass
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
    LOG.info("stopped")
    return 0
