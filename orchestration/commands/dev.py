"""`importau dev`: the Dagster UI (dagster dev -w workspace.yaml) on the embedded default's data."""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT_SECONDS = 60


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dev", help="open the Dagster UI on the embedded default")
    parser.add_argument("--port", default="3000")
    parser.add_argument("--live", action="store_true", help="the live BCB APIs instead of the replay server")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from orchestration.commands.demo_services import demo_services_env
    from orchestration.commands.history_range import use_recorded_range
    from orchestration.commands.local_instance import prepare_local_instance
    from orchestration.dbt_manifest import ManifestError, build_manifest

    prepare_local_instance()
    for name, value in use_recorded_range().items():
        print(f"{name}={value} (where this instance's data starts; partitions start there)")
    with demo_services_env(live=args.live) as service_env:
        os.environ.update(service_env)
        # The one parse of this session: the webserver, daemon, run workers and step processes only read it.
        try:
            print(f"dbt manifest: {build_manifest()}")
        except ManifestError as error:
            print(f"importau dev: {error}", file=sys.stderr)
            return 1
        dagster = Path(sys.executable).with_name("dagster")
        command = [str(dagster), "dev", "-w", str(REPO_ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", args.port]

        # Its own process group, stopped as a whole: SIGINT to the group is what Ctrl-C in a terminal does (seen
        # here: a SIGTERM or a SIGINT to `dagster dev` alone left its webserver, daemon and code servers running).
        # So stopping this command (Ctrl-C, or SIGTERM from a supervisor) stops everything it started.
        def stop(*_):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)  # before the group exists: a SIGTERM from then on stops it too
        dagster_dev = None
        try:
            dagster_dev = start_stoppable_group(command, cwd=REPO_ROOT)
            return dagster_dev.wait()
        except KeyboardInterrupt:
            if dagster_dev is not None:
                stop_group(dagster_dev)
            return 0


def start_stoppable_group(command: list[str], **popen) -> subprocess.Popen:
    """`command` in a new process group whose SIGINT is at its default, whatever this process's is.

    An ignored signal stays ignored across exec, and a shell starts a background job (`importau dev &` in a script,
    under nohup) with SIGINT ignored: `dagster dev` then ignored `stop_group`'s SIGINT and was SIGKILLed, webserver
    and daemon with it, after STOP_TIMEOUT_SECONDS. A Python handler (not SIG_IGN) while the child is started makes
    the child start at SIG_DFL; it does nothing, so a SIGINT in that moment is still ignored here, and this process's
    own disposition is put back at once."""
    previous = signal.signal(signal.SIGINT, _ignore_here)
    try:
        return subprocess.Popen(command, start_new_session=True, **popen)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


def _ignore_here(*_) -> None:
    pass


def stop_group(process: subprocess.Popen) -> None:
    """SIGINT to the process group (what Ctrl-C does); SIGKILL to whatever of it is left after STOP_TIMEOUT_SECONDS."""
    group = process.pid
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    try:
        os.killpg(group, signal.SIGINT)
        while time.monotonic() < deadline:
            os.killpg(group, 0)  # raises ProcessLookupError once no process of the group is left
            process.poll()  # reap `dagster dev` itself when it exits
            time.sleep(0.5)
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=STOP_TIMEOUT_SECONDS)
