"""BcbClient against the replay server: windows, retries, faults, quarantine and empty days."""

import csv
import logging
from datetime import date
from decimal import Decimal
from urllib.parse import unquote

import pytest

from ingestion.bcb.client import SgsWindowError
from ingestion.common.quarantine import SourcePayloadError
from ingestion.common.retry import SourceHTTPError
from sandboxes.bcb_replay import layout

JAN_2024 = (date(2024, 1, 1), date(2024, 1, 31))


def recorded_sgs(code: int) -> dict[date, Decimal]:
    with open(layout.DEFAULT_DATA_DIR / layout.SGS_DIR / f"{code}.csv", newline="") as handle:
        return {date.fromisoformat(row["date"]): Decimal(row["value"]) for row in csv.DictReader(handle)}


# -- SGS ---------------------------------------------------------------------------------------------------


def test_sgs_long_range_is_split_into_ten_year_windows(client, replay):
    result = client.fetch_sgs(11, date(2000, 1, 1), date(2024, 12, 31))
    windows = [unquote(path).split("dataInicial=")[1] for path in replay.requests]
    assert windows == [
        "01/01/2000&dataFinal=31/12/2009",
        "01/01/2010&dataFinal=31/12/2019",
        "01/01/2020&dataFinal=31/12/2024",
    ]
    expected = recorded_sgs(11)
    assert result.table.num_rows == len(expected) == 2508
    assert (
        dict(zip(result.table["reference_date"].to_pylist(), result.table["value"].to_pylist(), strict=True))
        == expected
    )


def test_sgs_monthly_series_is_not_split(client, replay):
    result = client.fetch_sgs(433, date(2000, 1, 1), date(2024, 12, 31))
    assert len(replay.requests) == 1
    assert result.table.num_rows == 12


def test_sgs_window_over_ten_years_gets_a_clear_error(make_client):
    client = make_client()
    client.sgs_window_years = 30  # pretend we forgot the API's limit
    with pytest.raises(SgsWindowError) as raised:
        client.fetch_sgs(1, date(2000, 1, 1), date(2024, 12, 31))
    message = str(raised.value)
    assert "SGS series 1 window 2000-01-01..2024-12-31" in message and "HTTP 406" in message
    assert "at most 10 years" in message and "10 anos" in message


def test_sgs_value_is_decimal_and_exact(client):
    table = client.fetch_sgs(1, date(2024, 1, 2), date(2024, 1, 2)).table
    assert table.to_pylist() == [{"series_code": 1, "reference_date": date(2024, 1, 2), "value": Decimal("4.8916")}]


def test_sgs_weekend_is_a_valid_empty_result(client, replay):
    result = client.fetch_sgs(1, date(2024, 1, 6), date(2024, 1, 7))
    assert result.table.num_rows == 0 and result.quarantine == []
    assert len(replay.requests) == 1  # a 404 "Value(s) not found" is an answer, not something to retry


def test_sgs_429_then_success(client, replay):
    replay.inject("429", count=2)
    result = client.fetch_sgs(1, *JAN_2024)
    assert result.table.num_rows == 22
    assert len(replay.requests) == 3


def test_sgs_429_retry_after_is_honoured_within_the_cap(make_client, replay):
    client = make_client(wait_max=0.05)
    replay.inject("429", count=1, retry_after=30)  # capped at wait_max: the test stays fast
    assert client.fetch_sgs(1, *JAN_2024).table.num_rows == 22


def test_sgs_500_until_the_last_attempt_names_series_window_and_status(client, replay):
    replay.inject("500", count=3)
    with pytest.raises(SourceHTTPError) as raised:
        client.fetch_sgs(1, *JAN_2024)
    error = raised.value
    assert (error.status, error.attempts) == (500, 3)
    assert str(error).startswith("bcb: SGS series 1 window 2024-01-01..2024-01-31 failed after 3 attempts: HTTP 500")
    assert len(replay.requests) == 3


def test_connection_dropped_then_success(client, replay):
    replay.inject("reset", count=1)
    assert client.fetch_sgs(1, *JAN_2024).table.num_rows == 22


def test_timeouts_are_retried_then_reported(make_client, replay):
    client = make_client(timeout=0.2, max_attempts=2)
    replay.inject("delay", count=2, seconds=0.5)
    with pytest.raises(SourceHTTPError, match="after 2 attempts: no HTTP response: ReadTimeout"):
        client.fetch_sgs(1, *JAN_2024)


def test_retries_are_logged_at_warning_and_counted_by_reason(make_client, replay, caplog):
    client = make_client(max_attempts=4)
    for kind in ("429", "500", "truncated"):  # taken by the next three requests, in that order
        replay.inject(kind, count=1)
    with caplog.at_level(logging.WARNING, logger="ingestion.common.retry"):
        assert client.fetch_sgs(1, *JAN_2024).table.num_rows == 22
    assert client.retries.by_reason() == {"HTTP 429": 1, "HTTP 500": 1, "bad body": 1}
    assert str(client.retries) == "3 retries (HTTP 429 x1, HTTP 500 x1, bad body x1)"
    lines = [r.getMessage() for r in caplog.records if r.name == "ingestion.common.retry"]
    assert [r.levelname for r in caplog.records if r.name == "ingestion.common.retry"] == ["WARNING"] * 3
    window = "bcb: SGS series 1 window 2024-01-01..2024-01-31"
    assert lines[0].startswith(f"{window}: attempt 1 of 4 failed (HTTP 429); retrying in ")
    assert lines[1].startswith(f"{window}: attempt 2 of 4 failed (HTTP 500); retrying in ")
    assert lines[2].startswith(f"{window}: attempt 3 of 4 failed (bad body: ") and "not valid JSON" in lines[2]
    caplog.clear()
    assert client.fetch_sgs(1, *JAN_2024).table.num_rows == 22  # no fault: nothing logged, nothing added
    assert client.retries.total == 3 and not caplog.records


@pytest.mark.parametrize(("kind", "reason"), [("html", "HTML/XML page"), ("truncated", "not valid JSON")])
def test_unreadable_body_is_quarantined_whole_and_fails_the_call(client, replay, kind, reason):
    replay.inject(kind, count=3)
    with pytest.raises(SourcePayloadError) as raised:
        client.fetch_sgs(1, *JAN_2024)
    [record] = raised.value.quarantine
    assert record.entity == "sgs_observations"
    assert record.record_key == "sgs series=1 window=2024-01-01..2024-01-31"
    assert reason in record.reason and "after 3 attempts" in record.reason
    assert record.payload  # the whole body as received
    if kind == "truncated":
        assert record.payload.startswith('[{"data":"02/01/2024","valor":"4.8916"}')
    assert "body quarantined" in str(raised.value)


@pytest.mark.parametrize("kind", ["html", "truncated"])
def test_unreadable_body_once_is_retried_away(client, replay, kind):
    replay.inject(kind, count=1)
    result = client.fetch_sgs(1, *JAN_2024)
    assert result.table.num_rows == 22 and result.quarantine == []


def test_non_numeric_value_quarantines_only_that_row(client, replay):
    replay.inject("non_numeric", count=1)
    result = client.fetch_sgs(1, *JAN_2024)
    assert result.table.num_rows == 21
    assert date(2024, 1, 2) not in result.table["reference_date"].to_pylist()
    [record] = result.quarantine
    assert record.record_key == "sgs series=1 date=02/01/2024"
    assert record.reason == "bcb sgs series=1 date=02/01/2024: valor 'n/d' is not a number"
    assert record.payload == '{"data": "02/01/2024", "valor": "n/d"}'


def test_empty_value_quarantines_only_that_row(client, replay):
    replay.inject("empty_value", count=1)
    result = client.fetch_sgs(1, *JAN_2024)
    assert result.table.num_rows == 21 and "valor is empty" in result.quarantine[0].reason


# -- PTAX --------------------------------------------------------------------------------------------------


def test_ptax_period_sends_literal_parameters_and_returns_every_bulletin(client, replay):
    result = client.fetch_ptax("EUR", date(2018, 3, 1), date(2018, 3, 9))
    [path] = replay.requests
    assert "?@moeda='EUR'&@dataInicial='03-01-2018'&@dataFinalCotacao='03-09-2018'&$format=json" in path
    rows = result.table.to_pylist()
    on_5th = [row for row in rows if row["quote_date"] == date(2018, 3, 5)]
    assert len(on_5th) == 5 and [row["is_closing"] for row in on_5th] == [False] * 4 + [True]
    assert on_5th[-1]["bulletin_type"] == "Fechamento"  # CotacaoMoedaPeriodo's label
    assert sum(row["is_closing"] for row in rows) == 7  # one closing per business day


def test_ptax_day_resource_labels_the_closing_fechamento_ptax(client):
    rows = client.fetch_ptax_day("EUR", date(2018, 3, 5)).table.to_pylist()
    assert [row["bulletin_type"] for row in rows][-1] == "Fechamento PTAX"
    assert [row["sell"] for row in rows if row["is_closing"]] == [Decimal("4.0174")]


def test_ptax_usd_closing_matches_sgs_1(client):
    rows = client.fetch_ptax("USD", date(2022, 1, 3), date(2022, 1, 3)).table.to_pylist()
    assert [(row["sell"], row["is_closing"]) for row in rows] == [(Decimal("5.6309"), True)]


def test_ptax_short_day(client):
    rows = client.fetch_ptax("GBP", date(2021, 12, 24), date(2021, 12, 24)).table.to_pylist()
    assert [row["bulletin_type"] for row in rows] == ["Abertura", "Intermediário", "Fechamento"]
    assert rows[-1]["sell"] == Decimal("7.5866")


def test_ptax_weekend_is_empty(client, replay):
    result = client.fetch_ptax_day("USD", date(2024, 1, 6))
    assert result.table.num_rows == 0 and result.quarantine == [] and len(replay.requests) == 1


def test_ptax_olinda_500_names_currency_window_status_and_message(client, replay):
    replay.inject("500", count=3, match="/PTAX/")
    with pytest.raises(SourceHTTPError) as raised:
        client.fetch_ptax("USD", *JAN_2024)
    assert str(raised.value) == (
        "bcb: Olinda PTAX currency USD window 2024-01-01..2024-01-31 failed after 3 attempts: "
        "HTTP 500: Olinda says 'Erro desconhecido' (codigo 500)"
    )


def test_ptax_currency_olinda_does_not_serve_fails_before_any_request(client, replay):
    with pytest.raises(ValueError, match="does not serve 'CNY'.*closing file"):
        client.fetch_ptax("CNY", *JAN_2024)
    assert replay.requests == []


def test_ptax_non_numeric_rate_quarantines_only_that_bulletin(client, replay):
    replay.inject("non_numeric", match="/PTAX/")
    result = client.fetch_ptax("USD", *JAN_2024)
    assert result.table.num_rows == 21
    [record] = result.quarantine
    assert record.entity == "ptax_quotes" and "cotacaoVenda 'n/d' is not a JSON number" in record.reason


def test_ptax_long_range_is_fetched_a_year_at_a_time(client, replay):
    result = client.fetch_ptax("USD", date(2022, 7, 1), date(2024, 6, 30))
    assert len(replay.requests) == 2
    assert result.table.num_rows == len([d for d in recorded_sgs(1) if date(2022, 7, 1) <= d <= date(2024, 6, 30)])


# -- closing file ------------------------------------------------------------------------------------------


def test_closing_file_real_day_cny(client):
    rows = client.fetch_closing_file(date(2026, 7, 31)).table.to_pylist()
    assert [(row["currency"], row["bcb_currency_code"], row["sell"]) for row in rows] == [
        ("CNY", "795", Decimal("0.7521"))
    ]


def test_closing_file_no_quote_day_is_empty(client, replay):
    result = client.fetch_closing_file(date(2024, 11, 20))  # Consciência Negra
    assert result.table.num_rows == 0 and result.quarantine == []
    assert replay.requests == ["/Download/fechamento/20241120.csv"]


def test_closing_file_html_page_is_quarantined(client, replay):
    replay.inject("html", count=3)
    with pytest.raises(SourcePayloadError) as raised:
        client.fetch_closing_file(date(2024, 11, 18))
    assert raised.value.quarantine[0].record_key == "closing file=20241118"


def test_closing_file_cut_short_is_retried_not_read_as_a_shorter_file(make_client, replay):
    # The replay's `truncated` fault answers 200 with the first half of the body: split inside a line, the file
    # used to parse with the cut line quarantined and every currency after it missing (the 30-day soak's BCB day).
    day = date(2026, 7, 31)
    whole = make_client().fetch_closing_file(day, currencies=None)
    assert whole.table.num_rows > 100 and whole.quarantine == []
    client = make_client(max_attempts=3)
    replay.inject("truncated", count=1)
    again = client.fetch_closing_file(day, currencies=None)
    assert again.table.equals(whole.table) and again.quarantine == []
    assert client.retries.by_reason() == {"bad body": 1}


def test_closing_file_always_cut_short_is_quarantined_whole_and_fails(client, replay):
    replay.inject("truncated", count=3)
    with pytest.raises(SourcePayloadError, match="stops inside a line") as raised:
        client.fetch_closing_file(date(2026, 7, 31))
    [record] = raised.value.quarantine
    assert record.record_key == "closing file=20260731" and "after 3 attempts" in record.reason


# -- Focus -------------------------------------------------------------------------------------------------


def test_focus_pages_until_a_short_page(make_client, replay):
    paged = make_client().fetch_focus("ExpectativasMercadoAnuais", "IPCA", *JAN_2024, page_size=10)
    skips = [unquote(path).split("$skip=")[1].split("&")[0] for path in replay.requests]
    assert skips == ["0", "10", "20", "30"]  # 4 real rows of 2 Jan + 4 Fridays x 4 years x 2 bases = 36 rows
    replay.reset_requests()
    whole = make_client().fetch_focus("ExpectativasMercadoAnuais", "IPCA", *JAN_2024)
    assert len(replay.requests) == 1
    assert paged.table.equals(whole.table) and paged.table.num_rows == 36


def test_focus_filter_is_sent_per_entity_set_field_names(client, replay):
    client.fetch_focus("ExpectativasMercadoTop5Selic", "Selic", date(2026, 6, 1), date(2026, 6, 30))
    assert "$filter=indicador eq 'Selic' and Data ge '2026-06-01' and Data le '2026-06-30'" in unquote(
        replay.requests[0]
    )
    client.fetch_focus("ExpectativaMercadoMensais", "Câmbio", *JAN_2024)
    assert "/ExpectativaMercadoMensais?$filter=Indicador%20eq%20'C%C3%A2mbio'" in replay.requests[1]


def test_focus_rows_are_inside_the_window_and_indicator(client):
    table = client.fetch_focus("ExpectativasMercadoSelic", "Selic", date(2024, 3, 1), date(2024, 3, 31)).table
    assert table.num_rows > 0
    assert set(table["indicator"].to_pylist()) == {"Selic"}
    assert all(date(2024, 3, 1) <= day <= date(2024, 3, 31) for day in table["computed_on"].to_pylist())


def test_focus_non_numeric_median_quarantines_one_row(client, replay):
    replay.inject("non_numeric", match="Expectativas")
    result = client.fetch_focus("ExpectativasMercadoInflacao12Meses", "IPCA", *JAN_2024)
    assert len(result.quarantine) == 1 and "Mediana 'n/d'" in result.quarantine[0].reason
    assert result.table.num_rows == 4 * 4 - 1  # four Fridays x (N, S) x (base 0, 1), minus the bad one
