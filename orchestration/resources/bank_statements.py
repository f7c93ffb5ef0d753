"""Where the banks' statement files (OFX, CNAB 240) are dropped, and the file registry's folder."""

import os
from typing import ClassVar

import dagster as dg

from orchestration.resources.settings import FromEnvironment, resolve_data_dir


class BankStatementsResource(FromEnvironment, dg.ConfigurableResource):
    """The bank statements inbox (`processed/`, `quarantine/`, `skipped/` live inside it)."""

    ENV: ClassVar[dict[str, str]] = {"inbox_dir": "BANK_STATEMENTS_INBOX"}

    inbox_dir: str | None = None  # None: BANK_STATEMENTS_INBOX; empty: $IMPORTAU_DATA_DIR/bank_statements/inbox
    data_dir: str = ""

    def inbox(self) -> str:
        return self.setting("inbox_dir") or os.path.join(resolve_data_dir(self.data_dir), "bank_statements", "inbox")

    def state_dir(self) -> str:
        path = os.path.join(resolve_data_dir(self.data_dir), "bank_statements", "state")
        os.makedirs(path, exist_ok=True)
        return path
