"""Where the official declarations come from (the broker's inbox of DI XML / DUIMP JSON files, or the Portal Único
API), and the registry's folder. The portal's certificate and key paths are read from the environment at run time
(`PortalConfig.from_env`), never config fields."""

import os

import dagster as dg

from orchestration.resources.settings import resolve_data_dir


class CustomsResource(dg.ConfigurableResource):
    """The customs declarations inbox (`processed/`, `quarantine/`, `skipped/` live inside it)."""

    inbox_dir: str = ""  # empty: $IMPORTAU_DATA_DIR/customs/inbox
    data_dir: str = ""
    source: str = "files"  # CUSTOMS_SOURCE: files | portal

    def use_portal(self) -> bool:
        if self.source not in ("files", "portal"):
            raise ValueError(f"CUSTOMS_SOURCE must be 'files' or 'portal', not {self.source!r}")
        return self.source == "portal"

    def inbox(self) -> str:
        return self.inbox_dir or os.path.join(resolve_data_dir(self.data_dir), "customs", "inbox")

    def state_dir(self) -> str:
        path = os.path.join(resolve_data_dir(self.data_dir), "customs", "state")
        os.makedirs(path, exist_ok=True)
        return path
