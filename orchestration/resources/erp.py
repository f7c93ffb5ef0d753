"""Where the ERP drops its exports and where the adapters keep their small state (file registry, cursors)."""

import os

import dagster as dg

from orchestration.resources.settings import resolve_data_dir


class ErpResource(dg.ConfigurableResource):
    """The ERP file-drop inbox (`processed/`, `quarantine/`, `skipped/` live inside it) and its event broker."""

    inbox_dir: str = ""  # empty: $IMPORTAU_DATA_DIR/erp/inbox
    data_dir: str = ""
    rabbitmq_url: str = ""  # the ERP's event broker; empty: the events sensor skips
    events_queue: str = "importau.erp.events"
    events_exchange: str = "erp.events"
    dead_letter_exchange: str = "erp.events.dlx"
    dead_letter_queue: str = "importau.erp.events.dead"

    def event_topology(self) -> dict[str, str]:
        return {
            "queue": self.events_queue,
            "exchange": self.events_exchange,
            "dead_letter_exchange": self.dead_letter_exchange,
            "dead_letter_queue": self.dead_letter_queue,
        }

    def inbox(self) -> str:
        return self.inbox_dir or os.path.join(resolve_data_dir(self.data_dir), "erp", "inbox")

    def state_dir(self) -> str:
        path = os.path.join(resolve_data_dir(self.data_dir), "erp", "state")
        os.makedirs(path, exist_ok=True)
        return path
