"""Where the official declarations come from (the broker's inbox of DI XML / DUIMP JSON files, or the Portal Único
API), and the registry's folder. The portal's certificate and key paths are read from the environment at run time
(`PortalConfig.from_env`), never config fields."""

import os
from typing import ClassVar

import dagster as dg

from orchestration.resources.settings import FromEnvironment, resolve_data_dir


class CustomsResource(FromEnvironment, dg.ConfigurableResource):
    """The customs declarations inbox (`processed/`, `quarantine/`, `skipped/` live inside it)."""

    ENV: ClassVar[dict[str, str]] = {"inbox_dir": "CUSTOMS_INBOX_DIR", "source": "CUSTOMS_SOURCE"}

    inbox_dir: str | None = None  # None: CUSTOMS_INBOX_DIR; empty: $IMPORTAU_DATA_DIR/customs/inbox
    data_dir: str = ""
    source: str | None = None  # None: CUSTOMS_SOURCE; files | portal

    def use_portal(self) -> bool:
        source = self.setting("source")
        if source not in ("files", "portal"):
            raise ValueError(f"CUSTOMS_SOURCE must be 'files' or 'portal', not {source!r}")
        return source == "portal"

    def inbox(self) -> str:
        return self.setting("inbox_dir") or os.path.join(resolve_data_dir(self.data_dir), "customs", "inbox")

    def state_dir(self) -> str:
        path = os.path.join(resolve_data_dir(self.data_dir), "customs", "state")
        os.makedirs(path, exist_ok=True)
        return path
