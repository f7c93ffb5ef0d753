"""Default environment of the embedded setup, so a fresh clone runs with no configuration at all.

The defaults are the settings registry's (`ingestion/common/settings_registry.py`, the `applied` ones), plus the data
folder `<repo>/data`. Every value is only a default (`os.environ.setdefault`): anything set in the environment or
in `.env` wins. Applied by the entry points that start processes expecting them set (`importau`, the dbt bridge,
`importau dev`'s instance); never at import: the Dagster definitions read their settings through the registry when
a resource is used.
"""

import os

from ingestion.common.data_dir import REPO_ROOT
from ingestion.common.settings_registry import applied_defaults


def defaults() -> dict[str, str]:
    return {**applied_defaults(), "IMPORTAU_DATA_DIR": str(REPO_ROOT / "data")}


def apply_env_defaults() -> None:
    for name, value in defaults().items():
        os.environ.setdefault(name, value)
