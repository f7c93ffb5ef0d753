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

import dagster as dg
from pydantic import Field

from ingestion.open_finance.auth import TokenStore
from ingestion.open_finance.budget import CallBudget
from ingestion.open_finance.config import DEFAULT_WINDOW_DAYS, Institution, initial_grant, load_institutions
from ingestion.open_finance.extract import OpenFinanceExtract, PullOptions, pull_institutions
from orchestration.resources.settings import resolve_data_dir


@dataclass(frozen=True)
class PlannedPull:
    """One pull: the bank's view on `day` of the transactions booked in `window_days` days up to `day`."""

    day: date
    window_days: int

    @property
    def window(self) -> tuple[date, date]:
        return self.day - timedelta(days=self.window_days - 1), self.day


def plan_pulls(start: date, end: date, window_days: int, backfill_chunk_days: int = 0) -> list[PlannedPull]:
    """The pulls of a partition range, oldest first.

    By default one pull per partition day, each re-reading its trailing window. With `backfill_chunk_days` > 1
    the range is cut into chunks of that many days and each chunk is ONE pull on its last day whose window covers
    the whole chunk (never shorter than `window_days`): a year becomes 12 pulls instead of 366, which keeps a
    backfill inside the institutions' monthly call limits. The days between hold no pull (zero-row partitions).
    """
    if end < start:
        raise ValueError(f"empty range {start}..{end}")
    if backfill_chunk_days <= 1:
        return [PlannedPull(start + timedelta(days=i), window_days) for i in range((end - start).days + 1)]
    pulls, chunk_start = [], start
    while chunk_start <= end:
        chunk_end = min(chunk_start + timedelta(days=backfill_chunk_days - 1), end)
        pulls.append(PlannedPull(chunk_end, max(window_days, (chunk_end - chunk_start).days + 1)))
        chunk_start = chunk_end + timedelta(days=1)
    return pulls


class OpenFinanceResource(dg.ConfigurableResource):
    """The institutions the company has consents with, and the state the client keeps between runs."""

    institutions: str = Field(
        default="",
        description="OPEN_FINANCE_INSTITUTIONS: a YAML/JSON file path or inline JSON listing the institutions "
        "(format in ingestion/open_finance/config.py); empty = no institution (the assets write empty partitions)",
    )
    data_dir: str = Field(default="", description="IMPORTAU_DATA_DIR")
    state_dir: str = Field(
        default="",
        description="OPEN_FINANCE_STATE_DIR: token store and call budget; empty = <data_dir>/open_finance",
    )
    window_days: int = Field(default=DEFAULT_WINDOW_DAYS, description="trailing window of each daily pull")
    backfill_chunk_days: int = Field(
        default=0,
        description="0/1 = one pull per partition day; N > 1 = a ranged run pulls once per N days (wider window)",
    )
    today: str = Field(
        default="",
        description="the institution's current day (YYYY-MM-DD) for sandboxes; empty = today in São Paulo",
    )
    max_workers: int = Field(default=2, description="institutions pulled in parallel")

    def _environ(self) -> dict[str, str]:
        return {**os.environ, "OPEN_FINANCE_INSTITUTIONS": self.institutions}

    def get_institutions(self) -> tuple[Institution, ...]:
        return load_institutions(self._environ())

    def state_path(self) -> Path:
        return Path(self.state_dir) if self.state_dir else Path(resolve_data_dir(self.data_dir)) / "open_finance"

    def plan(self, start: date, end: date) -> list[PlannedPull]:
        return plan_pulls(start, end, self.window_days, self.backfill_chunk_days)

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
            token_store=TokenStore(environ.get("OPEN_FINANCE_TOKEN_FILE") or state / "tokens.json"),
            budget=CallBudget(environ.get("OPEN_FINANCE_BUDGET_FILE") or state / "call_budget.json"),
            options=PullOptions(window_days=planned.window_days),
            today=date.fromisoformat(self.today) if self.today else None,
        )
