"""Where the customs broker drops the declarations (DI XML, DUIMP JSON), and the file registry's folder."""

import os

import dagster as dg

from orchestration.resources.settings import resolve_data_dir


class CustomsResource(dg.ConfigurableResource):
    """The customs declarations inbox (`processed/`, `quarantine/`, `skipped/` live inside it)."""

    inbox_dir: str = ""  # empty: $IMPORTAU_DATA_DIR/customs/inbox
    data_dir: str = ""

    def inbox(self) -> str:
        return self.inbox_dir or os.path.join(resolve_data_dir(self.data_dir), "customs", "inbox")

    def state_dir(self) -> str:
        path = os.path.join(resolve_data_dir(self.data_dir), "customs", "state")
        os.makedirs(path, exist_ok=True)
        return path
