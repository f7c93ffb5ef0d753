"""Where the customs broker drops the declarations (DI XML, DUIMP JSON), and the file registry's folder."""

import os
from typing import ClassVar

import dagster as dg

from orchestration.resources.settings import FromEnvironment, resolve_data_dir


class CustomsResource(FromEnvironment, dg.ConfigurableResource):
    """The customs declarations inbox (`processed/`, `quarantine/`, `skipped/` live inside it)."""

    ENV: ClassVar[dict[str, str]] = {"inbox_dir": "CUSTOMS_INBOX_DIR"}

    inbox_dir: str | None = None  # None: CUSTOMS_INBOX_DIR; empty: $IMPORTAU_DATA_DIR/customs/inbox
    data_dir: str = ""

    def inbox(self) -> str:
        return self.setting("inbox_dir") or os.path.join(resolve_data_dir(self.data_dir), "customs", "inbox")

    def state_dir(self) -> str:
        path = os.path.join(resolve_data_dir(self.data_dir), "customs", "state")
        os.makedirs(path, exist_ok=True)
        return path
