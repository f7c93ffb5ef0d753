"""The local Dagster instance of the embedded default: DAGSTER_HOME under the data folder, with its pools."""

import json
import os
import sys
from pathlib import Path

from orchestration.env_defaults import apply_env_defaults

TEMPLATE = Path(__file__).resolve().parents[1] / "instance" / "local_dagster.yaml"
# The first line of every version of the template: a dagster.yaml that starts with it was written by `importau`.
MARKER = "# Local Dagster instance of the embedded default"
EVENT_LOG_DIR = "__EVENT_LOG_DIR__"
# Dagster hands the event log whole batches of events (a run's planned events) only with this set; the local
# instance's SQLite event log stores a batch in one transaction per file (orchestration/instance/sqlite_event_log.py).
# Larger than the planned events of any job here (`transform`: about 1,200), so a run's are one batch.
EVENT_BATCH_SIZE_ENV, EVENT_BATCH_SIZE = "DAGSTER_EVENT_BATCH_SIZE", "2000"


def local_instance_yaml(home: Path) -> str:
    """The template for the Dagster home `home`: its event log under `<home>/history/runs/`, where Dagster's
    default SQLite instance keeps it (an absolute path, so `DagsterInstance.from_config(home)` reads this home's
    events whatever DAGSTER_HOME says)."""
    event_log_dir = Path(home).resolve() / "history" / "runs"
    return TEMPLATE.read_text().replace(EVENT_LOG_DIR, json.dumps(str(event_log_dir)))


def install_local_instance(home: Path) -> Path:
    """Write the local instance config into `home` (created if needed); returns its path."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    config.write_text(local_instance_yaml(home))
    return config


def prepare_local_instance() -> Path:
    """Set the embedded defaults and DAGSTER_HOME (unless given), and install the local instance config; with it,
    DAGSTER_EVENT_BATCH_SIZE (unless given) for its event log's batches.

    A `dagster.yaml` that `importau` did not write (the deployed PostgreSQL instance, say) is never overwritten:
    it is used as it is, and the command says so.
    """
    apply_env_defaults()
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(os.environ["IMPORTAU_DATA_DIR"]) / "dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if config.exists() and not config.read_text().startswith(MARKER):
        print(
            f"Using the Dagster instance config already at {config} as it is (it is not the local template; "
            f"unset DAGSTER_HOME to use the embedded default's instance under IMPORTAU_DATA_DIR)",
            file=sys.stderr,
        )
        return home
    if not config.exists() or config.read_text() != local_instance_yaml(home):
        install_local_instance(home)  # new, or an older copy of the template, or another home's
    os.environ.setdefault(EVENT_BATCH_SIZE_ENV, EVENT_BATCH_SIZE)
    return home
