"""Shared state of one generator run: the knobs, named random streams, the tables being built, id helpers.

Every step draws from its own stream (`ctx.rng("suppliers")`), seeded by the run seed and the stream name,
so adding draws to one step never shifts the numbers of another, and a run is reproducible byte for byte.
"""

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sandboxes.demo_company.calendar_fx import is_business_day, next_business_day

# São Paulo has had no daylight saving time since 2019: local business hours are UTC-3 all year.
SAO_PAULO_OFFSET = timedelta(hours=-3)


@dataclass
class Context:
    seed: int
    scale: float
    start: date
    end: date
    tables: dict[str, list[dict]] = field(default_factory=dict)
    truth: dict[str, list[dict]] = field(default_factory=dict)
    catalog: dict = field(default_factory=dict)  # internal lookups between steps, never written
    _streams: dict[str, random.Random] = field(default_factory=dict)
    _counters: dict[str, int] = field(default_factory=dict)

    @property
    def start_business(self) -> date:
        return next_business_day(self.start)

    def rng(self, name: str) -> random.Random:
        if name not in self._streams:
            self._streams[name] = random.Random(f"importau-demo:{self.seed}:{name}")
        return self._streams[name]

    def count(self, base: float, minimum: int = 1) -> int:
        """A volume that grows linearly with the scale factor."""
        return max(minimum, round(base * self.scale))

    def next_id(self, prefix: str, width: int = 6) -> str:
        self._counters[prefix] = self._counters.get(prefix, 0) + 1
        return f"{prefix}{self._counters[prefix]:0{width}d}"

    def rows(self, table: str) -> list[dict]:
        return self.tables.setdefault(table, [])

    def truth_rows(self, table: str) -> list[dict]:
        return self.truth.setdefault(table, [])

    def in_range(self, day: date | None) -> bool:
        return day is not None and day <= self.end

    def stamp(self, day: date, rng: random.Random, first_hour: int = 8, last_hour: int = 18) -> datetime:
        """A UTC timestamp at a random São Paulo business hour of `day` (millisecond precision)."""
        local = time(rng.randint(first_hour, last_hour - 1), rng.randint(0, 59), rng.randint(0, 59))
        moment = datetime.combine(day, local) - SAO_PAULO_OFFSET
        return moment.replace(tzinfo=UTC, microsecond=rng.randint(0, 999) * 1000)

    def random_business_day(self, rng: random.Random, low: date, high: date) -> date:
        span = (high - low).days
        while True:
            day = low + timedelta(days=rng.randint(0, max(span, 0)))
            if is_business_day(day):
                return day


def lognormal_amount(rng: random.Random, median: float, sigma: float, low: float, high: float) -> Decimal:
    """A positive amount drawn around `median`, clipped to [low, high], with 2 decimal places."""
    value = min(max(median * rng.lognormvariate(0, sigma), low), high)
    return Decimal(f"{value:.2f}")
