"""The business clock: São Paulo's date, moved only by IMPORTAU_TODAY (replays and the soak)."""

from datetime import date, datetime

import pytest

from ingestion.common import clock


def test_today_is_sao_paulo_date_without_override(monkeypatch):
    monkeypatch.delenv(clock.TODAY_ENV, raising=False)
    assert clock.sao_paulo_today() == datetime.now(clock.SAO_PAULO).date()


def test_override_moves_every_today(monkeypatch):
    from orchestration.defs import metadata
    from orchestration.resources.open_finance import OpenFinanceResource

    monkeypatch.setenv(clock.TODAY_ENV, "2024-11-06")
    assert clock.sao_paulo_today() == metadata.sao_paulo_today() == date(2024, 11, 6)
    assert OpenFinanceResource(institutions="[]").current_day() == date(2024, 11, 6)


def test_bad_override_says_what_it_expects(monkeypatch):
    monkeypatch.setenv(clock.TODAY_ENV, "06/11/2024")
    with pytest.raises(ValueError, match="IMPORTAU_TODAY='06/11/2024' is not a date"):
        clock.sao_paulo_today()
