"""The local stand-ins the offline demo and the local UI start: each yields the environment pointing at it.

Add a source here when it needs a local server or generated data for the demo (never for production).
"""

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from orchestration.commands.erp_demo import erp_demo_env
from orchestration.commands.pluggy_demo import pluggy_demo_env
from orchestration.commands.replay import bcb_replay_env
from orchestration.commands.sandbox_bank import sandbox_bank_env

# Each entry: a context manager factory yielding {ENV_VAR: value} while its service runs. Later services see the
# environment of earlier ones (the sandbox bank serves the bank truth the ERP demo company wrote).
SERVICES = [erp_demo_env, bcb_replay_env, sandbox_bank_env]
# Started only when the demo's bank source is theirs (`importau demo --bank-source`), after SERVICES.
BANK_SOURCE_SERVICES = {"pluggy": pluggy_demo_env}


@contextmanager
def demo_services_env(live: bool = False, bank_source: str | None = None) -> Iterator[dict[str, str]]:
    """Start every local stand-in (none with --live), and the chosen bank source's own (Pluggy's), and yield the
    merged environment they need."""
    env: dict[str, str] = {}
    with ExitStack() as stack:
        if not live:
            own = [BANK_SOURCE_SERVICES[bank_source]] if bank_source in BANK_SOURCE_SERVICES else []
            for service in [*SERVICES, *own]:
                started = stack.enter_context(service())
                os.environ.update(started)
                env.update(started)
        yield env
