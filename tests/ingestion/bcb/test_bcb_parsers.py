"""Parsers on the real recorded answers (data/bcb_replay/sources/samples/) and on hand-broken variants."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ingestion.bcb import closing, focus, olinda, ptax, sgs
from ingestion.bcb.values import UnparseableBody

JAN = (date(2024, 1, 1), date(2024, 1, 31))


# -- SGS ---------------------------------------------------------------------------------------------------


def test_sgs_json_values_are_exact_decimals(sample):
    result = sgs.parse_sgs_json(sample("sgs_0001_usd_sell_2024-01-02_2024-01-10.json"), 1, *JAN)
    rows = result.table.to_pylist()
    assert len(rows) == 7 and result.quarantine == []
    assert rows[0] == {"series_code": 1, "reference_date": date(2024, 1, 2), "value": Decimal("4.8916")}
    assert isinstance(rows[0]["value"], Decimal)
    assert rows[-1]["reference_date"] == date(2024, 1, 10)


def test_sgs_rows_outside_the_window_are_dropped(sample):
    body = sample("sgs_0432_selic_target_2016-10-01_2016-11-30.json")
    result = sgs.parse_sgs_json(body, 432, date(2016, 10, 19), date(2016, 10, 20))
    assert [(r["reference_date"].day, r["value"]) for r in result.table.to_pylist()] == [
        (19, Decimal("14.25")),
        (20, Decimal("14.00")),
    ]


def test_sgs_monthly_series_is_dated_on_the_first(sample):
    result = sgs.parse_sgs_json(
        sample("sgs_0433_ipca_monthly_2024-01_2024-12.json"), 433, date(2024, 1, 1), date(2024, 12, 31)
    )
    values = {row["reference_date"]: row["value"] for row in result.table.to_pylist()}
    assert len(values) == 12 and values[date(2024, 8, 1)] == Decimal("-0.02")


def test_sgs_csv_style_keeps_the_1986_redenomination(sample):
    body = sample("sgs_10813_usd_buy_csvstyle_1986-02_redenomination.csv")
    result = sgs.parse_sgs_csv(body, 10813, date(1986, 1, 1), date(1986, 12, 31))
    values = {row["reference_date"]: row["value"] for row in result.table.to_pylist()}
    assert len(values) == 21 and result.quarantine == []
    assert values[date(1986, 2, 27)] == Decimal("13680.0000")
    assert values[date(1986, 3, 3)] == Decimal("13.7700")


def test_sgs_bad_rows_are_quarantined_one_by_one(broken):
    result = sgs.parse_sgs_json(broken("sgs_0001_bad_rows.json"), 1, *JAN)
    landed = {row["reference_date"]: row["value"] for row in result.table.to_pylist()}
    assert landed == {
        date(2024, 1, 2): Decimal("4.8916"),
        date(2024, 1, 8): Decimal("4.8850"),
        date(2024, 1, 9): Decimal("4.8937"),  # the first of the duplicate pair is kept
    }
    reasons = {record.record_key: record.reason for record in result.quarantine}
    assert "valor is empty" in reasons["sgs series=1 date=03/01/2024"]
    assert "'n/d' is not a number" in reasons["sgs series=1 date=04/01/2024"]
    assert "missing: data" in reasons["sgs series=1 row=3"]
    assert "dd/MM/yyyy" in reasons["sgs series=1 date=2024-01-10"]
    assert any("duplicate date" in reason for reason in reasons.values())
    for record in result.quarantine:
        assert record.source == "bcb" and record.entity == "sgs_observations"
        assert record.reason.startswith(f"bcb {record.record_key}: ")


def test_sgs_unknown_fields_keep_the_row_and_lose_nothing(broken):
    result = sgs.parse_sgs_json(broken("sgs_0001_bad_rows.json"), 1, *JAN)
    [record] = [r for r in result.quarantine if "unknown field" in r.reason]
    assert "fonte" in record.reason and "rows landed" in record.reason
    assert json.loads(record.payload) == {"sgs series=1 date=08/01/2024": {"fonte": "PTAX800"}}


@pytest.mark.parametrize(
    "body",
    ["<html><body>Erro</body></html>", '[{"data":"02/01/2024","valor":"4.89', '{"erro": "x"}', ""],
    ids=["html", "truncated", "object", "empty"],
)
def test_sgs_unreadable_bodies_raise(body):
    with pytest.raises(UnparseableBody):
        sgs.parse_sgs_json(body, 1, *JAN)


def test_sgs_error_bodies_are_recognised(broken):
    assert sgs.is_not_found(broken("sgs_not_found_404.json"))
    assert not sgs.is_window_error(broken("sgs_not_found_404.json"))
    assert sgs.is_window_error(broken("sgs_window_error_406.json"))
    assert not sgs.is_not_found(broken("sgs_window_error_406.json"))
    assert not sgs.is_not_found(broken("gateway_error.html"))


def test_sgs_windows_never_exceed_ten_years():
    windows = sgs.split_windows(date(2000, 1, 1), date(2024, 12, 31))
    assert windows == [
        (date(2000, 1, 1), date(2009, 12, 31)),
        (date(2010, 1, 1), date(2019, 12, 31)),
        (date(2020, 1, 1), date(2024, 12, 31)),
    ]
    assert sgs.split_windows(date(2024, 1, 1), date(2024, 1, 1)) == [(date(2024, 1, 1), date(2024, 1, 1))]
    with pytest.raises(ValueError):
        sgs.split_windows(date(2024, 1, 2), date(2024, 1, 1))


# -- PTAX --------------------------------------------------------------------------------------------------


def test_ptax_day_keeps_every_bulletin_and_flags_the_closing_by_type(sample):
    body = sample("olinda_ptax_CotacaoMoedaDia_EUR_2018-03-05_all_bulletins.json")
    rows = ptax.parse_ptax(body, "EUR", date(2018, 3, 5), date(2018, 3, 5)).table.to_pylist()
    assert [row["bulletin_type"] for row in rows] == ["Abertura", *["Intermediário"] * 3, "Fechamento PTAX"]
    closing_rows = [row for row in rows if row["is_closing"]]
    assert len(closing_rows) == 1 and closing_rows[0]["sell"] == Decimal("4.0174")
    # the last intermediate shares the closing's second: the latest timestamp alone would not tell them apart
    last_intermediate = rows[3]
    assert last_intermediate["quoted_at"].replace(microsecond=0) == closing_rows[0]["quoted_at"].replace(microsecond=0)
    assert last_intermediate["sell"] == Decimal("4.0134") and not last_intermediate["is_closing"]


def test_ptax_times_are_brasilia_local_converted_to_utc(sample):
    body = sample("olinda_ptax_CotacaoMoedaDia_EUR_2018-03-05_all_bulletins.json")
    rows = ptax.parse_ptax(body, "EUR", date(2018, 3, 5), date(2018, 3, 5)).table.to_pylist()
    assert rows[0]["quote_date"] == date(2018, 3, 5)
    assert rows[0]["quoted_at"] == datetime(2018, 3, 5, 13, 2, 47, 732000, tzinfo=UTC)  # 10:02:47.732 BRT
    assert rows[3]["quoted_at"].microsecond == 460000  # ".46" means 460 ms


def test_ptax_short_day_closing_is_the_mean_of_two_windows(sample):
    recorded = json.loads(sample("olinda_ptax_CotacaoMoedaPeriodo_USD_EUR_GBP_2021-12-24_RECONSTRUCTED.json"))
    day = date(2021, 12, 24)
    rows = ptax.parse_ptax(json.dumps(recorded["USD"]), "USD", day, day).table.to_pylist()
    assert [row["bulletin_type"] for row in rows] == ["Abertura", "Intermediário", "Fechamento"]
    windows = [row["sell"] for row in rows if not row["is_closing"]]
    closing_sell = next(row["sell"] for row in rows if row["is_closing"])
    assert closing_sell == Decimal("5.6591") == (sum(windows) / 2).quantize(Decimal("0.0001"))


def test_ptax_select_answer_without_parities_is_quarantined_not_guessed(sample):
    body = sample("olinda_ptax_CotacaoMoedaPeriodo_USD_fechamento_select_2024-01-02_2024-01-05.json")
    result = ptax.parse_ptax(body, "USD", *JAN)
    assert result.table.num_rows == 0 and len(result.quarantine) == 4
    assert "paridadeCompra" in result.quarantine[0].reason and "tipoBoletim" in result.quarantine[0].reason


def test_ptax_bad_rows_are_quarantined(broken):
    result = ptax.parse_ptax(broken("olinda_ptax_bad_rows.json"), "EUR", date(2018, 3, 5), date(2018, 3, 5))
    assert [row["sell"] for row in result.table.to_pylist()] == [Decimal("4.0164"), Decimal("4.0174")]
    reasons = " | ".join(record.reason for record in result.quarantine)
    assert "cotacaoVenda '4,0092' is not a JSON number" in reasons
    assert "missing: tipoBoletim" in reasons
    assert "'05/03/2018 13:05' is not a 'YYYY-MM-DD HH:MM:SS[.fff]' timestamp" in reasons
    assert "unknown field(s) fonte" in reasons


def test_olinda_error_body_is_read(broken):
    assert olinda.error_message(broken("olinda_error_500.txt")) == "Olinda says 'Erro desconhecido' (codigo 500)"
    assert olinda.error_message("<html/>") is None
    with pytest.raises(UnparseableBody):
        olinda.parse_envelope(broken("olinda_error_500.txt"))


def test_olinda_urls_send_parameters_literally():
    url = ptax.period_url("https://olinda.bcb.gov.br/olinda/servico", "EUR", date(2024, 2, 1), date(2024, 2, 29))
    assert url == (
        "https://olinda.bcb.gov.br/olinda/servico/PTAX/versao/v1/odata/CotacaoMoedaPeriodo(moeda=@moeda,"
        "dataInicial=@dataInicial,dataFinalCotacao=@dataFinalCotacao)?@moeda='EUR'&@dataInicial='02-01-2024'"
        "&@dataFinalCotacao='02-29-2024'&$format=json"
    )


# -- closing file ------------------------------------------------------------------------------------------


def test_closing_file_cny_row(sample):
    text = sample("bcb_fechamento_all_currencies_20260731.csv")
    result = closing.parse_closing_file(text, date(2026, 7, 31), ["CNY"])
    assert result.table.to_pylist() == [
        {
            "quote_date": date(2026, 7, 31),
            "bcb_currency_code": "795",
            "currency_type": "A",
            "currency": "CNY",
            "buy": Decimal("0.7519"),
            "sell": Decimal("0.7521"),
            "parity_buy": Decimal("6.7509"),
            "parity_sell": Decimal("6.7517"),
        }
    ]


def test_closing_file_all_currencies(sample):
    result = closing.parse_closing_file(sample("bcb_fechamento_all_currencies_20260731.csv"), date(2026, 7, 31))
    codes = {row["currency"]: row["bcb_currency_code"] for row in result.table.to_pylist()}
    assert len(codes) == 156 and result.quarantine == []
    assert (codes["USD"], codes["EUR"], codes["CNH"], codes["AFN"]) == ("220", "978", "796", "005")


def test_closing_file_bad_lines_are_quarantined(broken):
    result = closing.parse_closing_file(broken("fechamento_bad_lines.csv"), date(2026, 7, 31), None)
    assert [row["currency"] for row in result.table.to_pylist()] == ["CNY"]
    reasons = {record.record_key.split("currency=")[1]: record.reason for record in result.quarantine}
    assert "expected 8 columns, got 6" in reasons["USD"]
    assert "sell 'n/d' is not a number" in reasons["EUR"]
    assert "dated 2026-07-30" in reasons["GBP"]


def test_closing_file_html_page_is_unreadable(broken):
    with pytest.raises(UnparseableBody):
        closing.parse_closing_file(broken("gateway_error.html"), date(2026, 7, 31))


# -- Focus -------------------------------------------------------------------------------------------------


def _focus(sample, name: str, entity_set: str, indicator: str):
    rows = olinda.parse_envelope(sample(name))
    return focus.parse_focus_rows(rows, focus.focus_set(entity_set), indicator, date(2024, 1, 1), date(2026, 12, 31))


def test_focus_top5_selic_lower_case_fields(sample):
    result = _focus(
        sample,
        "olinda_focus_ExpectativasMercadoTop5Selic_2026-06-05.json",
        "ExpectativasMercadoTop5Selic",
        "Selic",
    )
    rows = result.table.to_pylist()
    assert result.quarantine == []  # coeficienteVariacao is known (derivable), not reported as unknown
    assert [row["reference_period"] for row in rows] == ["R4/2026", "R5/2026", "R6/2026"]
    assert rows[1]["median"] == Decimal("14.0000") and rows[1]["std_dev"] == Decimal("0.1541")
    assert rows[1]["calc_type"] == "C" and rows[1]["respondents"] is None and rows[1]["calc_basis"] is None


def test_focus_lower_case_rows_under_a_capitalised_set_are_quarantined(sample):
    result = _focus(
        sample,
        "olinda_focus_ExpectativasMercadoTop5Selic_2026-06-05.json",
        "ExpectativasMercadoSelic",
        "Selic",
    )
    assert result.table.num_rows == 0
    assert all("Indicador, Reuniao, Mediana" in record.reason for record in result.quarantine)


def test_focus_annual_rows(sample):
    result = _focus(
        sample,
        "olinda_focus_ExpectativasMercadoAnuais_IPCA_2024-01-02.json",
        "ExpectativasMercadoAnuais",
        "IPCA",
    )
    rows = result.table.to_pylist()
    assert len(rows) == 4 and result.quarantine == []
    assert rows[0] == {
        "entity_set": "ExpectativasMercadoAnuais",
        "indicator": "IPCA",
        "indicator_detail": None,
        "computed_on": date(2024, 1, 2),
        "reference_period": "2023",
        "calc_basis": 0,
        "calc_type": None,
        "smoothed": None,
        "mean": Decimal("4.4689"),
        "median": Decimal("4.4590"),
        "std_dev": Decimal("0.0767"),
        "minimum": Decimal("4.2987"),
        "maximum": Decimal("4.7148"),
        "respondents": 149,
    }


def test_focus_selic_uses_the_meeting_and_12_months_a_fixed_horizon(sample):
    selic = _focus(
        sample, "olinda_focus_ExpectativasMercadoSelic_2026-06-05.json", "ExpectativasMercadoSelic", "Selic"
    ).table.to_pylist()
    assert {row["reference_period"] for row in selic} == {"R3/2028", "R2/2028"}
    twelve = _focus(
        sample,
        "olinda_focus_ExpectativasMercadoInflacao12Meses_IPCA_2026-06-05.json",
        "ExpectativasMercadoInflacao12Meses",
        "IPCA",
    ).table.to_pylist()
    assert [(row["reference_period"], row["smoothed"], row["calc_basis"]) for row in twelve] == [
        ("12M", "N", 0),
        ("12M", "N", 1),
        ("12M", "S", 1),
    ]  # sorted by key, whatever order the API used


def test_focus_unknown_entity_set_is_refused():
    with pytest.raises(ValueError, match="unknown Focus entity set"):
        focus.focus_set("ExpectativasMercadoMensais")  # the real name is singular: ExpectativaMercadoMensais
