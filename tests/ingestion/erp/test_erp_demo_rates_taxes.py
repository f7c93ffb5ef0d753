"""Rates and taxes of the demo company against the real reference files, read here independently of the
generator: the Siscomex rate (PTAX sell of the previous business day), the CNY derivation, the import taxes
as the law computes them, and the planted ERP errors."""

import csv
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from sandboxes.demo_company.calendar_fx import ptax_sell, siscomex_rate

REFERENCE = Path(__file__).resolve().parents[3] / "data" / "reference"
CENT = Decimal("0.01")


def _history(name: str) -> dict[date, Decimal]:
    with open(REFERENCE / name, encoding="utf-8") as handle:
        return {date.fromisoformat(r["date"]): Decimal(r["value"]) for r in csv.DictReader(handle)}


USD = _history("usd_brl_ptax_sell_sgs1_daily.csv")
EUR = _history("eur_brl_ptax_sell_sgs21619_daily.csv")
with open(REFERENCE / "br_holidays_anbima_b3.csv", encoding="utf-8") as _handle:
    HOLIDAYS = {date.fromisoformat(r["date"]) for r in csv.DictReader(_handle) if r["anbima_holiday"] == "1"}


def _previous_business_day(day: date) -> date:
    day -= timedelta(days=1)
    while day.weekday() >= 5 or day in HOLIDAYS:
        day -= timedelta(days=1)
    return day


def _real_rate(currency: str, registration: date) -> Decimal:
    usd = USD[_previous_business_day(registration)]
    if currency == "CNY":  # synthetic: one parity from the real 2026-07-31 closing file
        return (usd / Decimal("6.75090000")).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return usd if currency == "USD" else EUR[_previous_business_day(registration)]


@pytest.mark.parametrize(
    "currency,registration,expected",
    [
        ("USD", date(2024, 1, 8), Decimal("4.8899")),  # Monday: Friday 2024-01-05 in the SGS 1 file
        (
            "EUR",
            date(2024, 2, 14),
            Decimal("5.3635"),
        ),  # after Carnival (12-13 Feb): Friday 2024-02-09, SGS 21619
        (
            "USD",
            date(2024, 11, 21),
            Decimal("5.7743"),
        ),  # after Consciência Negra (20 Nov): Tuesday 2024-11-19
        ("USD", date(2024, 4, 1), Decimal("4.9962")),  # after Good Friday (29 Mar): Thursday 2024-03-28
    ],
)
def test_siscomex_rate_hand_checked(currency, registration, expected):
    assert siscomex_rate(currency, registration) == expected


def test_cny_is_derived_from_usd_with_the_closing_file_parity():
    assert ptax_sell("CNY", date(2024, 1, 5)) == Decimal("0.7243")  # 4.8899 / 6.7509 = 0.72433...


def test_declarations_use_the_ptax_of_the_previous_business_day(erp_rows, truth):
    wrong_rate = {e["declaration_id"] for e in truth["erp_errors"] if e["error_kind"] == "RATE_OF_REGISTRATION_DAY"}
    checked = mondays = 0
    for d in erp_rows["import_declarations"]:
        real = _real_rate(d["currency"], d["registration_date"])
        if d["declaration_id"] in wrong_rate:
            assert d["exchange_rate"] != real
            continue
        assert d["exchange_rate"] == real, d["declaration_id"]
        checked += 1
        mondays += d["registration_date"].weekday() == 0
    assert checked > 150 and mondays > 5 and wrong_rate


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def test_import_taxes_follow_the_law_where_the_erp_is_right(erp_rows, truth):
    wrong = {e["declaration_id"] for e in truth["erp_errors"]}
    items: dict[str, list[dict]] = {}
    for item in erp_rows["import_declaration_items"]:
        items.setdefault(item["declaration_id"], []).append(item)
    shipments = {s["shipment_id"]: s for s in erp_rows["shipments"]}
    tiers = [Decimal("38.56")] * 2 + [Decimal("30.85")] * 3 + [Decimal("23.14")] * 5
    for d in erp_rows["import_declarations"]:
        if d["declaration_id"] in wrong:
            continue
        its = items[d["declaration_id"]]
        for i in its:
            cv = _money((i["fob_amount"] + i["freight_amount"] + i["insurance_amount"]) * d["exchange_rate"])
            assert i["customs_value_brl"] == cv
            assert i["ii_brl"] == _money(cv * i["ii_rate_pct"] / 100)
            assert i["ipi_brl"] == _money((cv + i["ii_brl"]) * i["ipi_rate_pct"] / 100)
            assert (i["pis_rate_pct"], i["cofins_rate_pct"]) == (Decimal("2.1"), Decimal("9.65"))
            assert i["pis_brl"] == _money(cv * Decimal("0.021")) and i["cofins_brl"] == _money(cv * Decimal("0.0965"))
        for field in ("customs_value_brl", "ii_brl", "ipi_brl", "pis_brl", "cofins_brl", "icms_brl"):
            assert d[field] == sum(i[field] for i in its), field
        assert d["siscomex_fee_brl"] == Decimal("115.67") + sum(tiers[: len(its)])
        sea = shipments[d["shipment_id"]]["transport_mode"] == "SEA"
        assert d["afrmm_brl"] == (_money(d["freight_amount"] * d["exchange_rate"] * Decimal("0.08")) if sea else 0)
        rate = its[0]["icms_rate_pct"] / 100
        base = sum(
            d[f]
            for f in (
                "customs_value_brl",
                "ii_brl",
                "ipi_brl",
                "pis_brl",
                "cofins_brl",
                "siscomex_fee_brl",
                "afrmm_brl",
                "customs_expenses_brl",
            )
        )
        assert abs(d["icms_brl"] - base / (1 - rate) * rate) <= CENT * len(its)  # ICMS "por dentro"


def test_icms_rate_is_the_destination_state_rate_on_clearance(erp_rows):
    """ICMS on imports is due on clearance (LC 87/1996 art. 12, IX): the rate in force that day (registration
    while not cleared). PR's rate went from 19 % to 19.5 % on 2024-03-13."""
    states = {
        d["declaration_id"]: (d["destination_state"], d["clearance_date"] or d["registration_date"])
        for d in erp_rows["import_declarations"]
    }
    for item in erp_rows["import_declaration_items"]:
        state, day = states[item["declaration_id"]]
        expected = {"SP": "18", "SC": "17", "PR": "19.5" if day >= date(2024, 3, 13) else "19"}[state]
        assert item["icms_rate_pct"] == Decimal(expected)


def test_planted_erp_errors_are_documented_and_visible(erp_rows, truth):
    declarations = {d["declaration_id"]: d for d in erp_rows["import_declarations"]}
    kinds = {e["error_kind"] for e in truth["erp_errors"]}
    assert kinds == {
        "RATE_OF_REGISTRATION_DAY",
        "IPI_BASE_WITHOUT_II",
        "ICMS_NOT_GROSSED_UP",
        "OLD_PIS_COFINS_RATES",
        "AFRMM_MISSING",
        "SISCOMEX_ADDITIONS_MISSING",
    }
    for error in truth["erp_errors"]:
        assert Decimal(error["recorded_value"]) != Decimal(error["correct_value"])
        assert declarations[error["declaration_id"]][error["field"]] == Decimal(error["recorded_value"])


def test_bank_tax_debits_show_the_true_amounts(truth):
    wrong = {e["declaration_id"] for e in truth["erp_errors"]}
    debits = [m for m in truth["matches"] if m["match_type"] == "TAX_DEBIT"]
    right = [m for m in debits if m["erp_document_id"] not in wrong]
    assert right and all(m["bank_amount_brl"] == m["erp_amount"] for m in right)
    assert any(m["bank_amount_brl"] != m["erp_amount"] for m in debits if m["erp_document_id"] in wrong)


def test_fx_contracts_are_priced_near_ptax(company, truth):
    off_market = {a["fx_operation_id"] for a in truth["anomalies"] if a["kind"] == "UNUSUAL_AMOUNT"}
    history = {"USD": USD, "EUR": EUR}
    for op in company.bank["fx_operations"].to_pylist():
        day = (op["operation_datetime"] - timedelta(hours=3)).date()
        ptax = history[op["foreign_currency"]][day] if op["foreign_currency"] != "CNY" else ptax_sell("CNY", day)
        ceiling = Decimal("1.05") if op["operation_id"] in off_market else Decimal("1.01")
        assert ptax < op["fx_rate"] < ptax * ceiling, op["operation_number"]
        assert op["local_amount"] == _money(op["foreign_amount"] * op["fx_rate"])
        assert op["iof_amount"] == _money(op["local_amount"] * Decimal("0.0038"))
        assert op["vet_amount"] > op["fx_rate"] and op["operation_type"] == "VENDA"


def test_interstate_sales_of_imported_goods_pay_four_percent_icms(erp_rows):
    interstate = [s for s in erp_rows["sales_invoices"] if s["cfop"] == "6102"]
    assert interstate
    assert all(s["icms_brl"] == _money(s["gross_amount_brl"] * Decimal("0.04")) for s in interstate)
