"""Where the embedded default keeps its state: `$IMPORTAU_DATA_DIR`, else `<repo>/data`. No Dagster.

One definition for the resources and the `importau` command (orchestration/resources/settings.py re-exports
it) and for the ML code's embedded MLflow store (ml_assets/common/tracking.py), which may not import
orchestration.
"""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def default_data_dir() -> str:
    """$IMPORTAU_DATA_DIR, else `<repo>/data`."""
    return os.environ.get("IMPORTAU_DATA_DIR") or str(REPO_ROOT / "data")


def resolve_data_dir(data_dir: str | None) -> str:
    """A configured data dir, or the default when it is empty."""
    return str(Path(data_dir).expanduser()) if data_dir else default_data_dir()
