"""The Open Finance sandbox institution for the offline demo and the local UI: mutual TLS on 127.0.0.1.

It serves the demo company's bank truth when the ERP demo stand-in has written it (`DEMO_BANK_TRUTH_DIR`, set by
`erp_demo_env`, which runs first; else `$IMPORTAU_DATA_DIR/demo/bank`), one institution per bank, else the
sandbox's built-in dataset. For each institution it creates an AUTHORISED consent and yields the environment the
`open_finance` resource reads: the institutions list pointing at the sandbox URLs, the temporary certificate paths,
the one-time authorization code, a token store and call budget in a temporary folder (they die with the sandbox,
so a new demo never meets an old refresh token), the bank's calendar day, and monthly pulls for ranged runs.

Key material (the sandbox PKI with its private keys in `open-finance-sandbox-*`, the tokens in
`importau-open-finance-*`) lives in owner-tagged private folders (ingestion/common/private_temp.py): removed when
the block ends normally, by an exception, by Ctrl-C (SIGINT) or by SIGTERM (turned into SystemExit while the
sandbox runs, unless the process already handles SIGTERM); a SIGKILLed run's folders are removed at the next start.

The bank's "today" is `OPEN_FINANCE_SANDBOX_TODAY`, else the business clock when `IMPORTAU_TODAY` moves it (replays,
`importau soak`), else the last demo day (DEMO_END_DATE 2024-12-31): the truth spans the demo year and shows
everything as of that day; the built-in dataset is anchored on it (its transactions are booked in the last 12 days
before it, its FX contracts are listed by every pull).
"""

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path

from ingestion.common.clock import TODAY_ENV, sao_paulo_today
from ingestion.common.private_temp import private_temp_dir, terminate_unwinds
from orchestration.constants import DEMO_END_DATE
from orchestration.resources.settings import default_data_dir
from sandboxes.open_finance_bank.bank import INSTITUTION_NAME, SandboxBank
from sandboxes.open_finance_bank.data import BankData

# A ranged run pulls once per this many days (one pull per month over the demo year instead of 366).
DEMO_BACKFILL_CHUNK_DAYS = 31
# The sandbox's own limit; the real institutions' budgets come from their config.
SANDBOX_MONTHLY_CALL_BUDGET = 1_000_000
STATE_PREFIX = "importau-open-finance-"  # the token store and call budget of the demo's institutions


def demo_banks(truth_dir: Path) -> dict[str, BankData | None]:
    """Institution name -> data: one per bank of the ERP demo truth, else the built-in dataset (None)."""
    if not (truth_dir / "bank_accounts.parquet").exists():
        return {INSTITUTION_NAME: None}
    from sandboxes.open_finance_bank.erp_truth import bank_data_from_truth, read_truth

    return {f"bank_{compe}": data for compe, data in sorted(bank_data_from_truth(read_truth(truth_dir)).items())}


def sandbox_today() -> date:
    """The bank's calendar day: OPEN_FINANCE_SANDBOX_TODAY, else the moved business clock, else the demo's end."""
    if os.environ.get("OPEN_FINANCE_SANDBOX_TODAY"):
        return date.fromisoformat(os.environ["OPEN_FINANCE_SANDBOX_TODAY"])
    if os.environ.get(TODAY_ENV):
        return sao_paulo_today()
    return date.fromisoformat(DEMO_END_DATE)


@contextmanager
def sandbox_banks(today: date | None = None) -> Iterator[tuple[dict[str, str], dict[str, SandboxBank]]]:
    """Start the sandbox institution(s); yield (the OPEN_FINANCE_* variables pointing at them, name -> bank)."""
    today = today or sandbox_today()
    truth = os.environ.get("DEMO_BANK_TRUTH_DIR") or str(Path(default_data_dir()) / "demo" / "bank")
    banks = demo_banks(Path(truth))
    with ExitStack() as stack:
        stack.enter_context(terminate_unwinds())
        state_dir = stack.enter_context(private_temp_dir(STATE_PREFIX))
        entries: list[dict] = []
        env: dict[str, str] = {}
        started: dict[str, SandboxBank] = {}
        for name, data in banks.items():
            bank = started[name] = stack.enter_context(SandboxBank(data=data, today=today))
            consent_id, code = bank.create_authorised_consent()
            bank_env = bank.env(consent_id, code, name=name)
            for entry in json.loads(bank_env.pop("OPEN_FINANCE_INSTITUTIONS")):
                entries.append({**entry, "monthly_call_budget": {"default": SANDBOX_MONTHLY_CALL_BUDGET}})
            env.update(bank_env)
        env.update(
            OPEN_FINANCE_INSTITUTIONS=json.dumps(entries),
            OPEN_FINANCE_STATE_DIR=state_dir,
            OPEN_FINANCE_TODAY=today.isoformat(),
            OPEN_FINANCE_BACKFILL_CHUNK_DAYS=str(DEMO_BACKFILL_CHUNK_DAYS),
            OPEN_FINANCE_SANDBOX_URL=", ".join(entry["api_base_url"] for entry in entries),
        )
        yield env, started


@contextmanager
def sandbox_bank_env() -> Iterator[dict[str, str]]:
    """Start the sandbox institution(s) and yield the OPEN_FINANCE_* variables pointing at them."""
    with sandbox_banks() as (env, _):
        yield env
