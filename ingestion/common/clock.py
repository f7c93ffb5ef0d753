"""The business clock: today's date in São Paulo, the one "today" every source and stand-in asks for.

`IMPORTAU_TODAY=YYYY-MM-DD` moves it: for replays and `importau soak` only (each replayed day sets it so the ERP
load day, the Open Finance pulls and the sandbox bank all see that day as today). Leave it unset in production.
"""

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

TODAY_ENV = "IMPORTAU_TODAY"
SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def sao_paulo_today() -> date:
    """Today in São Paulo, or the day `IMPORTAU_TODAY` names (replays and the soak)."""
    override = os.environ.get(TODAY_ENV, "").strip()
    if override:
        try:
            return date.fromisoformat(override)
        except ValueError:
            raise ValueError(f"{TODAY_ENV}={override!r} is not a date (YYYY-MM-DD); unset it outside replays") from None
    return datetime.now(SAO_PAULO).date()
