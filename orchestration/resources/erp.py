"""Where the ERP drops its exports and where the adapters keep their small state (file registry, cursors)."""

import os

import dagster as dg

from orchestration.resources.settings import resolve_data_dir


class ErpResource(dg.ConfigurableResource):
    """The ERP file-drop inbox (a folder; `processed/`, `quarantine/`, `skipped/` live inside it)."""

    inbox_dir: str = ""  # empty: $IMPORTAU_DATA_DIR/erp/inbox
    data_dir: str = ""

    def inbox(self) -> str:
        return self.inbox_dir or os.path.join(resolve_data_dir(self.data_dir), "erp", "inbox")

    def state_dir(self) -> str:
        path = os.path.join(resolve_data_dir(self.data_dir), "erp", "state")
        os.makedirs(path, exist_ok=True)
        return path
