"""The local Dagster instance of the embedded default: DAGSTER_HOME under the data folder, with its pools."""

import os
import shutil
import sys
from pathlib import Path

from orchestration.env_defaults import apply_env_defaults

TEMPLATE = Path(__file__).resolve().parents[1] / "instance" / "local_dagster.yaml"
# The first line of every version of the template: a dagster.yaml that starts with it was written by `importau`.
MARKER = "# Local Dagster instance of the embedded default"


def prepare_local_instance() -> Path:
    """Set the embedded defaults and DAGSTER_HOME (unless given), and install the local instance config.

    A `dagster.yaml` that `importau` did not write (the deployed PostgreSQL instance, say) is never overwritten:
    it is used as it is, and the command says so.
    """
    apply_env_defaults()
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(os.environ["IMPORTAU_DATA_DIR"]) / "dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(TEMPLATE, config)
    elif config.read_text() != TEMPLATE.read_text():
        if config.read_text().startswith(MARKER):  # an older copy of the template
            shutil.copyfile(TEMPLATE, config)
        else:
            print(
                f"Using the Dagster instance config already at {config} as it is (it is not the local template; "
                f"unset DAGSTER_HOME to use the embedded default's instance under IMPORTAU_DATA_DIR)",
                file=sys.stderr,
            )
    return home
