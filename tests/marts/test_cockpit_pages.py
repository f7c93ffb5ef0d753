"""Every cockpit page rendered by `streamlit.testing.v1.AppTest` on the demo company, its numbers equal to direct
SQL on the marts (each expected value below is a query written here, not the cockpit's own, formatted the way a
Brazilian reader reads it: `R$ 1.234,56`, `31/12/2024`).

The app renders in a separate process (`cockpit_apptest_probe.py`), which reads the readers' snapshot that the
session's `dbt build` published; the expected values come from the warehouse itself (`query`).
"""

import json
import subprocess
import sys

import pytest

from cockpit import formatting
from cockpit.i18n import PAGES
from tests.dbt.dbt_harness import HERE, dbt_env, query

PROBE = HERE.parent / "marts" / "cockpit_apptest_probe.py"
LATEST_CASH = "(SELECT max(date) FROM marts.fct_cash_position_daily)"


def render(data_dir, *args: str) -> dict:
    completed = subprocess.run(
        [sys.executable, str(PROBE), str(data_dir), *args],
        env=dbt_env(data_dir),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-5000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def pages(demo_built) -> dict:
    return render(demo_built.data_dir)


@pytest.fixture(scope="module")
def expected(demo_built) -> dict:
    return query(
        demo_built.data_dir,
        recommendations="""
            SELECT max(as_of_date) AS as_of, count() AS n, countIf(priority = 1) AS p1,
                sum(expected_effect_brl) AS effect
            FROM marts.fct_recommendations
            WHERE as_of_date = (SELECT max(as_of_date) FROM marts.fct_recommendations)""",
        cash=f"""
            SELECT
                sumIf(amount_brl, line_type = 'account_balance') AS balances,
                sumIf(amount_brl, line_type = 'scheduled_receivables') AS receivables,
                sumIf(amount_brl, line_type = 'scheduled_payables') AS payables,
                sum(amount_brl) AS projected
            FROM marts.fct_cash_position_daily WHERE date = {LATEST_CASH}""",
        banks=f"""
            SELECT institution, sum(amount_brl) AS balance FROM marts.fct_cash_position_daily
            WHERE line_type = 'account_balance' AND date = {LATEST_CASH}
            GROUP BY institution ORDER BY balance DESC""",
        exposure="""
            SELECT currency, net_exposure_brl, net_brl_due_0_30, net_brl_due_31_60
            FROM marts.fct_fx_exposure_daily
            WHERE date = (SELECT max(date) FROM marts.fct_fx_exposure_daily) ORDER BY currency""",
        fx_gain="""
            SELECT currency, count() AS payables, sum(realised_fx_gain_brl) AS realised,
                sum(unrealised_fx_gain_brl) AS unrealised
            FROM marts.fct_fx_variance
            WHERE invoice_date BETWEEN (SELECT min(date) FROM marts.fct_cash_position_daily)
                AND (SELECT max(date) FROM marts.fct_cash_position_daily)
            GROUP BY currency ORDER BY currency""",
        landed="""
            SELECT declaration_id, sum(landed_cost_brl) AS landed, round(landed / sum(quantity), 2) AS per_unit
            FROM marts.fct_import_landed_cost
            GROUP BY declaration_id, registration_date
            ORDER BY registration_date DESC, declaration_id DESC LIMIT 10""",
        taxes="SELECT sum(ii_brl) AS ii, sum(icms_brl) AS icms FROM marts.fct_import_landed_cost",
        reconciliation="""
            SELECT countIf(match_status = 'MATCHED') AS matched,
                countIf(match_status = 'NEEDS_INVESTIGATION') AS investigate,
                countIf(row_type = 'UNMATCHED_BANK') AS bank_only, countIf(row_type = 'UNMATCHED_ERP') AS erp_only,
                countIf(match_status != 'MATCHED') AS exceptions
            FROM marts.fct_payment_reconciliation""",
        suppliers="""
            SELECT supplier_name, share_of_spend_pct, on_time_rate_pct FROM marts.dim_supplier
            WHERE NOT is_deleted ORDER BY spend_rank""",
    )


def metrics(page: dict) -> dict[str, str]:
    return dict(page["metrics"])


def test_every_page_renders_without_an_error(pages):
    for key in PAGES:
        assert pages[key]["exceptions"] == [], (key, pages[key]["exceptions"])
        assert pages[key]["errors"] == [], (key, pages[key]["errors"])
        assert pages[key]["metrics"] or pages[key]["tables"], key


def test_hoje_shows_the_latest_recommendations(pages, expected):
    row = expected["recommendations"][0]
    assert int(row["n"]) > 0  # the demo's FX exposure recommendations
    assert metrics(pages["hoje"]) == {
        "Posição em": formatting.day(row["as_of"]),
        "Recomendações": str(row["n"]),
        "Prioridade 1": str(row["p1"]),
        "Efeito esperado": formatting.money(row["effect"]),
    }
    assert len(pages["hoje"]["expanders"]) == int(row["n"])


def test_caixa_equals_the_cash_position_mart(pages, expected):
    row = expected["cash"][0]
    assert metrics(pages["caixa"]) == {
        "Saldos bancários": formatting.money(row["balances"]),
        "A receber (90 dias)": formatting.money(row["receivables"]),
        "A pagar (90 dias)": formatting.money(row["payables"]),
        "Posição projetada (90 dias)": formatting.money(row["projected"]),
    }
    banks = pages["caixa"]["tables"][0]
    assert [(r[0], r[2]) for r in banks] == [
        (b["institution"], formatting.money(b["balance"])) for b in expected["banks"]
    ]


def test_cambio_equals_the_exposure_and_variance_marts(pages, expected):
    exposure, gains = pages["cambio"]["tables"]
    assert [(r[0], r[3], r[6], r[7]) for r in exposure] == [
        (
            e["currency"],
            *(formatting.money(e[k]) for k in ("net_exposure_brl", "net_brl_due_0_30", "net_brl_due_31_60")),
        )
        for e in expected["exposure"]
    ]
    assert [(r[0], r[1], r[3], r[5]) for r in gains] == [
        (g["currency"], str(g["payables"]), formatting.money(g["realised"]), formatting.money(g["unrealised"]))
        for g in expected["fx_gain"]
    ]


def test_importacoes_equals_the_landed_cost_mart(pages, expected):
    taxes, declarations, _differences = pages["importacoes"]["tables"]
    by_tax = {r[0]: r[1] for r in taxes}
    assert by_tax["II"] == formatting.money(expected["taxes"][0]["ii"])
    assert by_tax["ICMS"] == formatting.money(expected["taxes"][0]["icms"])
    assert [(r[0], r[5], r[6]) for r in declarations[:10]] == [
        (d["declaration_id"], formatting.money(d["landed"]), formatting.money(d["per_unit"]))
        for d in expected["landed"]
    ]


def test_conciliacao_equals_the_reconciliation_mart(pages, expected):
    row = expected["reconciliation"][0]
    shown = metrics(pages["conciliacao"])
    assert (shown["Conciliados"], shown["Investigar"], shown["Banco sem ERP"], shown["ERP sem banco"]) == (
        str(row["matched"]),
        str(row["investigate"]),
        str(row["bank_only"]),
        str(row["erp_only"]),
    )
    exceptions = pages["conciliacao"]["tables"][0]
    assert len(exceptions) == int(row["exceptions"])


def test_fornecedores_equals_the_supplier_dimension(pages, expected):
    suppliers = pages["fornecedores"]["tables"][0]
    assert [(r[0], r[3], r[6]) for r in suppliers] == [
        (s["supplier_name"], formatting.percent(s["share_of_spend_pct"]), formatting.percent(s["on_time_rate_pct"]))
        for s in expected["suppliers"]
    ]


def test_english_is_one_switch_away(demo_built):
    english = render(demo_built.data_dir, "--language", "en")
    assert "Bank balances" in metrics(english["caixa"])
    assert (
        metrics(english["caixa"])["Bank balances"].startswith("R$ ")
        and "," in metrics(english["caixa"])["Bank balances"]
    )
