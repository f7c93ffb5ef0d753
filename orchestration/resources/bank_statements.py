"""Where the banks' statement files (OFX, CNAB 240) are dropped, and the file registry's folder."""

import os

import dagster as dg

from orchestration.resources.settings import resolve_data_dir


class BankStatementsResource(dg.ConfigurableResource):
    """The bank statements inbox (`processed/`, `quarantine/`, `skipped/` live inside it)."""

    inbox_dir: str = ""  # empty: $IMPORTAU_DATA_DIR/bank_statements/inbox
    data_dir: str = ""

    def inbox(self) -> str:
        return self.inbox_dir or os.path.join(resolve_data_dir(self.data_dir), "bank_statements", "inbox")

    def state_dir(self) -> str:
        path = os.path.join(resolve_data_dir(self.data_dir), "bank_statements", "state")
        os.makedirs(path, exist_ok=True)
        return path
