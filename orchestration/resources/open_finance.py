"""Open Finance Brasil as a Dagster resource: which institutions, where the token store and call budget live, and
how a partition range is cut into pulls.

Certificate and key paths come from the environment as `ingestion/open_finance/config.py` reads them
(`OPEN_FINANCE_CERT_PATH`, `OPEN_FINANCE_<NAME>_KEY_PATH`, ...) at call time: they are never resource fields, so
they never show in run config, logs or metadata. Tokens live only in the token store (0600 JSON).
"""

import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import ClassVar

import dagster as dg
from pydantic import Field

from ingestion.common.clock import sao_paulo_today
from ingestion.open_finance.auth import TokenStore
from ingestion.open_finance.budget import CallBudget
from ingestion.open_finance.config import (
    Institution,
    budget_file,
    initial_grant,
    load_institutions,
    state_dir,
    token_file,
)
from ingestion.open_finance.extract import OpenFinanceExtract, PullOptions, pull_institutions
from orchestration.resources.settings import FromEnvironment, resolve_data_dir

# Institutions serve 12 months of transactions (and refuse older dates with 422): the oldest date a pull asks for.
HISTORY_DAYS = 365
BILL_LOOKBACK_DAYS = 90  # a bill's transactions are asked for from this many days before its due date


@dataclass(frozen=True)
class PlannedPull:
    """One pull: the bank's view on `day` of the transactions booked in `window_days` days up to `day`."""

    day: date
    window_days: int
    bill_lookback_days: int = BILL_LOOKBACK_DAYS

    @property
    def window(self) -> tuple[date, date]:
        return self.day - timedelta(days=self.window_days - 1), self.day


def plan_pulls(
    start: date, end: date, window_days: int, backfill_chunk_days: int = 0, oldest: date | None = None
) -> list[PlannedPull]:
    """The pulls of a date range (a run's months, up to the institution's today), oldest first.

    By default one pull per day, each re-reading its trailing window. With `backfill_chunk_days` > 1
    the range is cut into chunks of that many days and each chunk is ONE pull on its last day whose window covers
    the whole chunk (never shorter than `window_days`): a year becomes 12 pulls instead of 366, which keeps a
    backfill inside the institutions' monthly call limits. The days between hold no pull (and no lake object).
    Every chunk after the first also re-reads the `window_days - 1` days before it, as a daily pull re-reads its
    trailing window: a movement whose id changed after the earlier pull (ids settle on D+1/D+2) is then seen
    twice, and staging keeps the later pull's view of its date (rule A, `ingestion/open_finance/dedupe.py`).

    `oldest` is the oldest date the institutions still serve (12 months back): windows and bill look-backs are
    cut there, and a pull day before it is left out (the institution has nothing that old any more).
    """
    if end < start:
        raise ValueError(f"empty range {start}..{end}")
    if backfill_chunk_days <= 1:
        pulls = [PlannedPull(start + timedelta(days=i), window_days) for i in range((end - start).days + 1)]
    else:
        pulls, chunk_start = [], start
        while chunk_start <= end:
            chunk_end = min(chunk_start + timedelta(days=backfill_chunk_days - 1), end)
            overlap = window_days - 1 if pulls else 0
            pulls.append(PlannedPull(chunk_end, max(window_days, (chunk_end - chunk_start).days + 1 + overlap)))
            chunk_start = chunk_end + timedelta(days=1)
    if oldest is None:
        return pulls
    return [_within_history(pull, oldest) for pull in pulls if pull.day >= oldest]


def _within_history(pull: PlannedPull, oldest: date) -> PlannedPull:
    window_days = min(pull.window_days, (pull.day - oldest).days + 1)
    window_start = pull.day - timedelta(days=window_days - 1)
    # bills due from the window start on are read; their look-back must not reach before `oldest` either
    lookback = max(0, min(pull.bill_lookback_days, (window_start - oldest).days))
    return PlannedPull(pull.day, window_days, lookback)


class OpenFinanceResource(FromEnvironment, dg.ConfigurableResource):
    """The institutions the company has consents with, and the state the client keeps between runs. A field left
    None is read from its variable (`ENV`) when used."""

    ENV: ClassVar[dict[str, str]] = {
        "institutions": "OPEN_FINANCE_INSTITUTIONS",
        "state_dir": "OPEN_FINANCE_STATE_DIR",
        "window_days": "OPEN_FINANCE_WINDOW_DAYS",
        "backfill_chunk_days": "OPEN_FINANCE_BACKFILL_CHUNK_DAYS",
        "today": "OPEN_FINANCE_TODAY",
    }

    institutions: str | None = Field(
        default=None,
        description="OPEN_FINANCE_INSTITUTIONS: a YAML/JSON file path or inline JSON listing the institutions "
        "(format in ingestion/open_finance/config.py); empty = no institution (the assets write empty partitions)",
    )
    data_dir: str = Field(default="", description="IMPORTAU_DATA_DIR")
    state_dir: str | None = Field(
        default=None,
        description="OPEN_FINANCE_STATE_DIR: token store and call budget; empty = <data_dir>/open_finance",
    )
    window_days: int | None = Field(default=None, description="trailing window of each daily pull")
    backfill_chunk_days: int | None = Field(
        default=None,
        description="0/1 = one pull per partition day; N > 1 = a ranged run pulls once per N days (wider window)",
    )
    today: str | None = Field(
        default=None,
        description="the institution's current day (YYYY-MM-DD) for sandboxes; empty = today in São Paulo",
    )
    max_workers: int = Field(default=2, description="institutions pulled in parallel")

    def _environ(self) -> dict[str, str]:
        # the resource's own values (a run config, a test) stand in for their variables, so the shared path rules
        # (ingestion/open_finance/config.py state_dir, token_file, budget_file) see them too
        return {
            **os.environ,
            "OPEN_FINANCE_INSTITUTIONS": self.setting("institutions"),
            "OPEN_FINANCE_STATE_DIR": self.setting("state_dir"),
        }

    def get_institutions(self) -> tuple[Institution, ...]:
        """The institutions file, each entry completed by what `importau open-finance connect` stored for it."""
        return load_institutions(self._environ(), TokenStore(self.token_file()))

    def state_path(self) -> Path:
        return state_dir(self._environ(), resolve_data_dir(self.data_dir))

    def token_file(self) -> Path:
        """OPEN_FINANCE_TOKEN_FILE, else tokens.json in the state folder: where `connect` stores refresh tokens."""
        return token_file(self._environ(), resolve_data_dir(self.data_dir))

    def current_day(self) -> date:
        today = self.setting("today")
        return date.fromisoformat(today) if today else sao_paulo_today()

    def plan(self, start: date, end: date) -> list[PlannedPull]:
        oldest = self.current_day() - timedelta(days=HISTORY_DAYS)
        window_days, chunk_days = self.setting("window_days", int), self.setting("backfill_chunk_days", int)
        return plan_pulls(start, end, window_days, chunk_days, oldest)

    def pull(self, planned: PlannedPull, institutions: tuple[Institution, ...]) -> dict[str, OpenFinanceExtract]:
        """Every institution's view for one planned pull; raises `InstitutionsFailed` if any failed."""
        environ = self._environ()
        state = self.state_path()
        state.mkdir(parents=True, exist_ok=True)
        return pull_institutions(
            institutions,
            planned.day,
            max_workers=self.max_workers,
            grants={institution.name: initial_grant(institution, environ) for institution in institutions},
            token_store=TokenStore(self.token_file()),
            budget=CallBudget(budget_file(environ, resolve_data_dir(self.data_dir))),
            options=PullOptions(window_days=planned.window_days, bill_lookback_days=planned.bill_lookback_days),
            today=self.current_day(),
        )
