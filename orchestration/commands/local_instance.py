"""The local Dagster instance of the embedded default: DAGSTER_HOME under the data folder, with its pools."""

import os
import shutil
from pathlib import Path

from orchestration.env_defaults import apply_env_defaults

TEMPLATE = Path(__file__).resolve().parents[1] / "instance" / "local_dagster.yaml"


def prepare_local_instance() -> Path:
    """Set the embedded defaults and DAGSTER_HOME (unless given), and install the local instance config."""
    apply_env_defaults()
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(os.environ["IMPORTAU_DATA_DIR"]) / "dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text() != TEMPLATE.read_text():
        shutil.copyfile(TEMPLATE, config)
    return home
