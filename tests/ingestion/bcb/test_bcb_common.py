"""The shared pieces the BCB client stands on: the retrying GET, quarantine records, the lake schemas."""

from datetime import date
from decimal import Decimal

import httpx
import pyarrow as pa
import pytest

from ingestion.bcb import schemas
from ingestion.bcb.values import parse_decimal
from ingestion.common.quarantine import QUARANTINE_SCHEMA, QuarantineRecord, to_arrow
from ingestion.common.retry import RetrySettings, SourceHTTPError, get_with_retry

FAST = RetrySettings(max_attempts=4, wait_initial=0.001, wait_max=0.01)
WEEKDAY = "/dados/serie/bcdata.sgs.1/dados?formato=json&dataInicial=02/01/2024&dataFinal=02/01/2024"


def fetch(replay, target: str, settings: RetrySettings = FAST, sleeps: list | None = None, **options):
    with httpx.Client(timeout=5) as http:
        return get_with_retry(
            http,
            replay.base_url + target,
            source="test",
            request="series 1 window 2024-01-02",
            settings=settings,
            sleep=(sleeps.append if sleeps is not None else lambda _: None),
            **options,
        )


def test_retry_waits_grow_and_stay_under_the_cap(replay):
    replay.inject("503", count=3)
    sleeps: list[float] = []
    settings = RetrySettings(max_attempts=4, wait_initial=1.0, wait_max=3.0)
    assert fetch(replay, WEEKDAY, settings, sleeps).status_code == 200
    assert len(sleeps) == 3 and len(replay.requests) == 4
    assert 1.0 <= sleeps[0] <= 2.0 and 2.0 <= sleeps[1] <= 3.0 and sleeps[2] == 3.0  # exponential + jitter, capped


def test_retry_after_raises_the_wait(replay):
    replay.inject("429", count=1, retry_after=2)
    sleeps: list[float] = []
    fetch(replay, WEEKDAY, RetrySettings(max_attempts=2, wait_initial=0.001, wait_max=5.0), sleeps)
    assert sleeps == [2.0]


def test_other_4xx_is_not_retried(replay):
    with pytest.raises(SourceHTTPError) as raised:
        fetch(replay, "/Download/fechamento/20240106.csv")  # a Saturday: 404, unexpected here
    assert raised.value.status == 404 and raised.value.attempts == 1
    assert len(replay.requests) == 1
    assert str(raised.value).startswith("test: series 1 window 2024-01-02 failed after 1 attempt: HTTP 404: <!DOCTYPE")


def test_expected_statuses_are_returned_not_raised(replay):
    response = fetch(replay, "/Download/fechamento/20240106.csv", expected_statuses=(200, 404))
    assert response.status_code == 404 and len(replay.requests) == 1


def test_connection_refused_is_retried_then_reported():
    with httpx.Client(timeout=1) as http, pytest.raises(SourceHTTPError) as raised:
        get_with_retry(
            http,
            "http://127.0.0.1:9/nothing",
            source="bcb",
            request="SGS series 1",
            settings=FAST,
            sleep=lambda _: None,
        )
    assert raised.value.status is None and raised.value.attempts == 4
    assert "no HTTP response: ConnectError" in str(raised.value)


def test_retry_settings_are_validated():
    with pytest.raises(ValueError):
        RetrySettings(max_attempts=0)


def test_quarantine_records_to_arrow():
    records = [QuarantineRecord("bcb", "sgs_observations", "sgs series=1 date=03/01/2024", "valor is empty", "{}")]
    table = to_arrow(records)
    assert table.schema == QUARANTINE_SCHEMA and table.to_pylist()[0]["reason"] == "valor is empty"
    assert to_arrow([]).num_rows == 0


def test_schemas_follow_the_architecture_contract():
    dec = pa.decimal128(38, 15)
    assert schemas.SGS_OBSERVATIONS.names == ["series_code", "reference_date", "value"]
    assert [f.type for f in schemas.SGS_OBSERVATIONS] == [pa.int32(), pa.date32(), dec]
    assert schemas.PTAX_QUOTES.names == [
        "currency",
        "quote_date",
        "quoted_at",
        "bulletin_type",
        "is_closing",
        "buy",
        "sell",
        "parity_buy",
        "parity_sell",
    ]
    assert schemas.PTAX_QUOTES.field("quoted_at").type == pa.timestamp("ms", tz="UTC")
    assert schemas.CLOSING_RATES.names == [
        "quote_date",
        "bcb_currency_code",
        "currency_type",
        "currency",
        "buy",
        "sell",
        "parity_buy",
        "parity_sell",
    ]
    focus = schemas.FOCUS_EXPECTATIONS
    assert focus.names == [
        "entity_set",
        "indicator",
        "indicator_detail",
        "computed_on",
        "reference_period",
        "calc_basis",
        "calc_type",
        "smoothed",
        "mean",
        "median",
        "std_dev",
        "minimum",
        "maximum",
        "respondents",
    ]
    nullable = {f.name for f in focus if f.nullable}
    assert nullable == {
        "indicator_detail",
        "calc_basis",
        "calc_type",
        "smoothed",
        "mean",
        "median",
        "std_dev",
        "minimum",
        "maximum",
        "respondents",
    }
    for schema in schemas.DATASETS.values():
        assert all(f.type == dec for f in schema if pa.types.is_decimal(f.type))
        assert not any(pa.types.is_floating(f.type) for f in schema)


def test_decimals_the_lake_cannot_hold_are_refused():
    assert parse_decimal("0.000000000000001") == Decimal("1E-15")
    for bad in ("0.0000000000000001", "1e30", "NaN", "Infinity", " "):
        with pytest.raises(ValueError):
            parse_decimal(bad)


def test_extraction_table_keeps_decimal_exactness():
    table = schemas.rows_to_table(
        [{"series_code": 1, "reference_date": date(2024, 1, 2), "value": Decimal("4.891600000000001")}],
        schemas.SGS_OBSERVATIONS,
    )
    assert table["value"].to_pylist() == [Decimal("4.891600000000001")]
