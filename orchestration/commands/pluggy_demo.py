"""The aggregator (Pluggy) stand-in for `importau demo --bank-source pluggy`: `sandboxes.pluggy` on 127.0.0.1,
serving the demo company's bank truth (`DEMO_BANK_TRUTH_DIR`, written by `erp_demo_env`, which runs first) as of the
sandbox bank's "today" (`sandbox_bank.sandbox_today`), one item per bank named `bank_<COMPE>` like the Open Finance
demo. It yields the PLUGGY_* variables `ingest_pluggy` reads (ingestion/pluggy/README.md); its client credentials
are random per start and live only in this process's environment."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestration.commands.sandbox_bank import sandbox_today
from orchestration.resources.settings import default_data_dir


@contextmanager
def pluggy_demo_env() -> Iterator[dict[str, str]]:
    from sandboxes.open_finance_bank.erp_truth import read_truth
    from sandboxes.pluggy.server import PluggyStandIn

    truth = Path(os.environ.get("DEMO_BANK_TRUTH_DIR") or Path(default_data_dir()) / "demo" / "bank")
    with PluggyStandIn(read_truth(truth), sandbox_today()) as pluggy:
        yield pluggy.env()
