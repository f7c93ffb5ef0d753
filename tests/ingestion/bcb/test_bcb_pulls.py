"""The per-dataset pulls the Dagster assets call, with the default configuration, on the replay server."""

from datetime import date

import pyarrow.compute as pc
import pytest

from ingestion.bcb import pulls, schemas
from ingestion.bcb.series import DEFAULT_PTAX_CURRENCIES, DEFAULT_SGS_SERIES, SGS_CATALOG
from ingestion.common.partitioning import split_by_day
from ingestion.common.quarantine import SourcePayloadError

NOV = (date(2024, 11, 11), date(2024, 11, 22))  # two weekends, holidays on Fri 15 and Wed 20


def test_default_series_are_catalogued_with_frequency_and_unit():
    assert DEFAULT_SGS_SERIES == (1, 10813, 432, 11, 12, 433, 189)
    assert [SGS_CATALOG[code].frequency.value for code in DEFAULT_SGS_SERIES] == [
        "business_day",
        "business_day",
        "calendar_day",
        "business_day",
        "business_day",
        "monthly",
        "monthly",
    ]


def test_pull_sgs_defaults(client):
    result = pulls.pull_sgs(client, DEFAULT_SGS_SERIES, date(2024, 11, 1), date(2024, 11, 30))
    counts = {code: 0 for code in DEFAULT_SGS_SERIES}
    for code in result.table["series_code"].to_pylist():
        counts[code] += 1
    assert counts == {1: 19, 10813: 19, 432: 30, 11: 19, 12: 19, 433: 1, 189: 1}
    assert result.table.schema == schemas.SGS_OBSERVATIONS


def test_pull_ptax_defaults_fits_the_partition_split(client):
    result = pulls.pull_ptax(client, DEFAULT_PTAX_CURRENCIES, *NOV)
    assert set(result.table["currency"].to_pylist()) == set(DEFAULT_PTAX_CURRENCIES)
    days = split_by_day(result.table, "quote_date", *NOV)
    with_rows = [day for day, table in days.items() if table.num_rows]
    assert len(with_rows) == 8 and date(2024, 11, 15) not in with_rows
    assert all(days[day].num_rows == 6 for day in with_rows)  # one closing bulletin per currency


def test_pull_closing_rates_skips_weekends_and_returns_cny(client, replay):
    result = pulls.pull_closing_rates(client, *NOV)
    assert len(replay.requests) == 10  # weekdays only
    assert set(result.table["currency"].to_pylist()) == {"CNY"}
    assert result.table.num_rows == 8
    everything = pulls.pull_closing_rates(client, date(2024, 11, 18), date(2024, 11, 18), currencies=None)
    assert everything.table.num_rows == 7


def test_pull_focus_defaults(client):
    result = pulls.pull_focus(client, date(2024, 11, 1), date(2024, 11, 30))
    pairs = set(zip(result.table["entity_set"].to_pylist(), result.table["indicator"].to_pylist(), strict=True))
    assert pairs == {
        ("ExpectativasMercadoAnuais", "IPCA"),
        ("ExpectativasMercadoAnuais", "Selic"),
        ("ExpectativasMercadoAnuais", "Câmbio"),
        ("ExpectativasMercadoAnuais", "IGP-M"),
        ("ExpectativasMercadoInflacao12Meses", "IPCA"),
        ("ExpectativasMercadoSelic", "Selic"),
        ("ExpectativaMercadoMensais", "IPCA"),
        ("ExpectativaMercadoMensais", "Câmbio"),
    }
    assert pc.min(result.table["computed_on"]).as_py() >= date(2024, 11, 1)
    assert pc.max(result.table["computed_on"]).as_py() <= date(2024, 11, 30)


def test_a_failing_dataset_fails_the_whole_pull(client, replay):
    replay.inject("html", count=3, match="bcdata.sgs.432/")
    with pytest.raises(SourcePayloadError):
        pulls.pull_sgs(client, DEFAULT_SGS_SERIES, *NOV)


def test_pull_refuses_a_reversed_window(client):
    with pytest.raises(ValueError):
        pulls.pull_focus(client, date(2024, 2, 1), date(2024, 1, 1))
