"""The replay server answers in the live formats: byte-identical to real recordings where they exist."""

import json
import os
import signal
import subprocess
import sys

import httpx
import pytest

from sandboxes.bcb_replay import layout, render

PTAX = "/olinda/servico/PTAX/versao/v1/odata"
FOCUS = "/olinda/servico/Expectativas/versao/v1/odata"


def get(replay, target: str) -> httpx.Response:
    return httpx.get(replay.base_url + target, timeout=5)


@pytest.mark.parametrize(
    ("sample_name", "target"),
    [
        (
            "sgs_0001_usd_sell_2024-01-02_2024-01-10.json",
            "/dados/serie/bcdata.sgs.1/dados?formato=json&dataInicial=01/01/2024&dataFinal=10/01/2024",
        ),
        (
            "olinda_ptax_CotacaoMoedaPeriodo_USD_fechamento_select_2024-01-02_2024-01-05.json",
            f"{PTAX}/CotacaoMoedaPeriodo(moeda=@moeda,dataInicial=@dataInicial,dataFinalCotacao=@dataFinalCotacao)"
            "?@moeda='USD'&@dataInicial='01-02-2024'&@dataFinalCotacao='01-05-2024'"
            "&$filter=tipoBoletim%20eq%20'Fechamento'&$select=cotacaoCompra,cotacaoVenda,dataHoraCotacao&$format=json",
        ),
        ("olinda_ptax_Moedas.json", f"{PTAX}/Moedas?$format=json"),
        ("bcb_fechamento_all_currencies_20260731.csv", "/Download/fechamento/20260731.csv"),
    ],
)
def test_answers_are_byte_identical_to_real_recordings(replay, sample, sample_name, target):
    response = get(replay, target)
    assert response.status_code == 200
    assert response.text.strip() == sample(sample_name).strip()


@pytest.mark.parametrize(
    ("sample_name", "target"),
    [
        (
            "sgs_0011_selic_daily_2020-01-02_2020-03-31.json",
            "/dados/serie/bcdata.sgs.11/dados?formato=json&dataInicial=01/01/2020&dataFinal=31/03/2020",
        ),
        (
            "sgs_0432_selic_target_2016-10-01_2016-11-30.json",
            "/dados/serie/bcdata.sgs.432/dados?formato=json&dataInicial=01/10/2016&dataFinal=30/11/2016",
        ),
        (
            "sgs_0433_ipca_monthly_2024-01_2024-12.json",
            "/dados/serie/bcdata.sgs.433/dados?formato=json&dataInicial=01/01/2024&dataFinal=31/12/2024",
        ),
        (
            # its recorder shortened the @odata.context host, so only `value` is compared
            "olinda_ptax_CotacaoMoedaDia_EUR_2018-03-05_all_bulletins.json",
            f"{PTAX}/CotacaoMoedaDia(moeda=@moeda,dataCotacao=@dataCotacao)?@moeda='EUR'&@dataCotacao='03-05-2018'"
            "&$format=json",
        ),
        (
            "olinda_focus_ExpectativasMercadoTop5Selic_2026-06-05.json",
            f"{FOCUS}/ExpectativasMercadoTop5Selic?$filter=Data%20eq%20'2026-06-05'&$format=json",
        ),
    ],
)
def test_answers_carry_the_recorded_values(replay, sample, sample_name, target):
    answer = json.loads(get(replay, target).text)
    recorded = json.loads(sample(sample_name))
    if isinstance(recorded, dict):
        answer, recorded = answer["value"], recorded["value"]
    assert answer == recorded


def test_sgs_csv_format(replay):
    response = get(
        replay, "/dados/serie/bcdata.sgs.10813/dados?formato=csv&dataInicial=02/01/2024&dataFinal=03/01/2024"
    )
    assert response.content == b'"data";"valor"\r\n"02/01/2024";"4,8910"\r\n"03/01/2024";"4,9206"\r\n'


def test_sgs_errors(replay, broken):
    base = "/dados/serie/bcdata.sgs.1/dados?formato=json"
    too_long = get(replay, f"{base}&dataInicial=01/01/2014&dataFinal=02/01/2024")
    assert too_long.status_code == 406 and too_long.json() == json.loads(broken("sgs_window_error_406.json"))
    assert get(replay, f"{base}&dataInicial=01/01/2014&dataFinal=01/01/2024").status_code == 200  # exactly 10 years
    assert get(replay, base).status_code == 406  # a daily series needs dataInicial
    weekend = get(replay, f"{base}&dataInicial=06/01/2024&dataFinal=07/01/2024")
    assert weekend.status_code == 404 and weekend.json() == json.loads(broken("sgs_not_found_404.json"))
    last = get(replay, "/dados/serie/bcdata.sgs.1/dados/ultimos/21?formato=json")
    assert last.status_code == 400 and "A quantidade máxima de valores deve ser 20" in last.text
    assert len(get(replay, "/dados/serie/bcdata.sgs.1/dados/ultimos/3?formato=json").json()) == 3


def test_olinda_unknown_currency_and_empty_day(replay, broken):
    call = f"{PTAX}/CotacaoMoedaPeriodo(moeda=@moeda,dataInicial=@dataInicial,dataFinalCotacao=@dataFinalCotacao)"
    unknown = get(replay, f"{call}?@moeda='GBPS'&@dataInicial='12-24-2021'&@dataFinalCotacao='12-24-2021'&$format=json")
    assert unknown.status_code == 500 and unknown.text == broken("olinda_error_500.txt")
    inline = "(moeda='USD',dataInicial='01-06-2024',dataFinalCotacao='01-07-2024')"
    empty = get(replay, f"{PTAX}/CotacaoMoedaPeriodo{inline}?$format=json")
    assert empty.status_code == 200
    assert empty.text == (
        '{"@odata.context":"https://was-p.bcnet.bcb.gov.br/olinda/servico/PTAX/versao/v1/odata'
        '$metadata#_CotacaoMoedaPeriodo","value":[]}'
    )


def test_closing_file_is_assembled_for_recorded_days_and_404_otherwise(replay):
    lines = get(replay, "/Download/fechamento/20241118.csv").text.splitlines()
    assert [line.split(";")[3] for line in lines] == [
        "CAD",
        "USD",
        "CHF",
        "JPY",
        "GBP",
        "CNY",
        "EUR",
    ]  # by code
    usd = next(line for line in lines if ";USD;" in line)
    assert usd.startswith("18/11/2024;220;A;USD;") and usd.endswith(";1,00000000;1,00000000")
    assert get(replay, "/Download/fechamento/20241116.csv").status_code == 404  # Saturday


def test_focus_odata_options(replay):
    query = "$filter=Indicador%20eq%20'IPCA'%20and%20Data%20ge%20'2024-01-01'&$orderby=Data%20desc&$top=3&$format=json"
    rows = get(replay, f"{FOCUS}/ExpectativasMercadoAnuais?{query}").json()["value"]
    assert len(rows) == 3 and rows[0]["Data"] >= rows[-1]["Data"] and {r["Indicador"] for r in rows} == {"IPCA"}
    bad = get(replay, f"{FOCUS}/ExpectativasMercadoAnuais?$filter=Nope%20eq%201&$format=json")
    assert bad.status_code == 400 and bad.text.startswith("/*{")
    assert get(replay, f"{FOCUS}/ExpectativasMercadoTop5Mensais?$format=json").json()["value"] == []


def test_control_endpoints(replay):
    injected = httpx.post(f"{replay.base_url}/_replay/faults", json={"kind": "503", "count": 1, "match": "sgs.1/"})
    assert injected.status_code == 200 and injected.json()[0]["kind"] == "503"
    target = "/dados/serie/bcdata.sgs.1/dados?formato=json&dataInicial=02/01/2024&dataFinal=02/01/2024"
    assert get(replay, target).status_code == 503
    assert get(replay, target).status_code == 200
    assert httpx.get(f"{replay.base_url}/_replay/requests").json() == [target, target]
    assert httpx.post(f"{replay.base_url}/_replay/faults", json={"kind": "nope"}).status_code == 400


def test_today_cutoff_serves_nothing_after_that_day(replay):
    """A replayed "today" (importau soak): later SGS values, PTAX quotes, closing files and Focus surveys do not
    exist yet; the clock endpoint moves it, null lifts it."""
    sgs = "/dados/serie/bcdata.sgs.1/dados?formato=json&dataInicial=01/11/2024&dataFinal=30/11/2024"
    ptax = (
        f"{PTAX}/CotacaoMoedaPeriodo(moeda=@moeda,dataInicial=@dataInicial,dataFinalCotacao=@dataFinalCotacao)"
        "?@moeda='USD'&@dataInicial='11-01-2024'&@dataFinalCotacao='11-30-2024'&$format=json"
    )
    focus = f"{FOCUS}/ExpectativasMercadoAnuais?$orderby=Data%20desc&$top=1&$format=json"
    every_day = [row["data"] for row in get(replay, sgs).json()]
    try:
        moved = httpx.post(f"{replay.base_url}/_replay/clock", json={"today": "2024-11-06"}, timeout=5)
        assert moved.json() == {"today": "2024-11-06"}
        assert [row["data"] for row in get(replay, sgs).json()] == [
            "01/11/2024",
            "04/11/2024",
            "05/11/2024",
            "06/11/2024",
        ]
        assert max(row["dataHoraCotacao"][:10] for row in get(replay, ptax).json()["value"]) == "2024-11-06"
        assert get(replay, "/Download/fechamento/20241107.csv").status_code == 404
        assert get(replay, "/Download/fechamento/20241106.csv").status_code == 200
        assert get(replay, focus).json()["value"][0]["Data"] <= "2024-11-06"
        last = "/dados/serie/bcdata.sgs.1/dados/ultimos/2?formato=json"
        assert [row["data"] for row in get(replay, last).json()] == ["05/11/2024", "06/11/2024"]
    finally:
        httpx.post(f"{replay.base_url}/_replay/clock", json={"today": None}, timeout=5)
    assert [row["data"] for row in get(replay, sgs).json()] == every_day and len(every_day) > 4


def test_cli_prints_base_urls_and_serves(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "sandboxes.bcb_replay.server", "--data-dir", str(layout.DEFAULT_DATA_DIR)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=layout.REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(layout.REPO_ROOT)},
    )
    try:
        env = dict(process.stdout.readline().strip().split("=", 1) for _ in range(3))
        assert set(env) == {"BCB_SGS_BASE_URL", "BCB_OLINDA_BASE_URL", "BCB_CLOSING_FILE_BASE_URL"}
        assert env["BCB_SGS_BASE_URL"].startswith("http://127.0.0.1:") and env["BCB_SGS_BASE_URL"].endswith(
            "/dados/serie"
        )
        url = env["BCB_SGS_BASE_URL"] + "/bcdata.sgs.1/dados?formato=json&dataInicial=02/01/2024&dataFinal=02/01/2024"
        assert httpx.get(url, timeout=5).json() == [{"data": "02/01/2024", "valor": "4.8916"}]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_missing_recordings_say_how_to_build_them(tmp_path):
    from sandboxes.bcb_replay.server import ReplayServer

    with pytest.raises(FileNotFoundError, match="build_recordings"):
        ReplayServer(tmp_path)


def test_decimal_json_keeps_trailing_zeros():
    from decimal import Decimal

    assert render.dumps({"a": [Decimal("4.89100"), None, "Câmbio"]}) == '{"a":[4.89100,null,"Câmbio"]}'
