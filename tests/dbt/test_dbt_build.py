"""`dbt build --target ci` on chDB over real BCB values, then the marts checked against the published numbers.

Expected values come from shared/reference/bacen/history (SGS 1 = USD PTAX closing sell, SGS 21619 = EUR) and
the BCB closing file of 2026-07-31, never from the code under test.
"""

from decimal import Decimal

import pytest

from tests.dbt.dbt_harness import query


@pytest.fixture(scope="session")
def marts(dbt_build, dbt_data_dir) -> dict[str, list[dict]]:
    assert dbt_build.returncode == 0, dbt_build.output[-8000:]
    return query(
        dbt_data_dir,
        customs=(
            "SELECT currency, toString(date) AS date, ptax_sell,"
            " toString(customs_rate_date) AS customs_rate_date, customs_rate, source"
            " FROM marts.fct_fx_rates_daily"
            " WHERE date IN ('2019-04-09', '2019-04-10', '2024-01-05', '2024-01-08', '2024-02-14',"
            " '2024-11-18', '2024-11-21', '2026-07-31')"
        ),
        calendar_size="SELECT count() AS n, min(date) AS first, max(date) AS last FROM marts.dim_calendar",
        calendar_days=(
            "SELECT toString(date) AS date, is_weekend, is_anbima_holiday, is_b3_holiday, is_business_day,"
            " toString(previous_business_day) AS previous_business_day,"
            " toString(next_business_day) AS next_business_day FROM marts.dim_calendar"
            " WHERE date IN ('2024-02-12', '2024-02-13', '2024-02-14', '2024-11-15', '2024-11-20',"
            " '2024-12-24', '2021-01-25', '2027-01-01')"
        ),
        fx_on_holidays=(
            "SELECT count() AS n FROM marts.fct_fx_rates_daily"
            " WHERE date IN ('2024-02-12', '2024-02-13', '2024-11-15', '2024-11-20')"
        ),
        fx_counts="SELECT currency, count() AS n FROM marts.fct_fx_rates_daily GROUP BY currency",
        macro=(
            "SELECT toString(date) AS date, selic_target_pct_pa, ipca_month_pct,"
            " toString(ipca_reference_month) AS ipca_reference_month, usd_ptax_sell"
            " FROM marts.fct_macro_indicators_daily WHERE date IN ('2024-02-14', '2024-02-15', '2024-11-16')"
        ),
        macro_size="SELECT count() AS n FROM marts.fct_macro_indicators_daily",
        focus=(
            "SELECT entity_set, reference_period, calc_basis, median FROM marts.fct_focus_expectations_latest"
            " WHERE entity_set = 'ExpectativasMercadoAnuais' AND reference_period = '2024'"
        ),
        column_types=(
            "SELECT table, name, type FROM system.columns WHERE database = 'marts'"
            " AND name IN ('ptax_sell', 'customs_rate', 'currency', 'date')"
        ),
    )


def _by(rows, *keys):
    return {tuple(row[key] for key in keys) if len(keys) > 1 else row[keys[0]]: row for row in rows}


def test_dbt_build_passes_with_models_seeds_data_and_unit_tests(dbt_build):
    assert dbt_build.returncode == 0, dbt_build.output[-8000:]
    results = dbt_build.run_results["results"]
    kinds = {result["unique_id"].split(".")[0] for result in results}
    assert {"model", "seed", "test", "unit_test"} <= kinds
    statuses = {result["unique_id"]: result["status"] for result in results}
    assert not [uid for uid, status in statuses.items() if status not in ("success", "pass", "warn")]
    # the only warning is the real gap in SGS 21619 (no EUR quote on 2020-12-10)
    assert [uid for uid, status in statuses.items() if status == "warn"] == [
        "test.importau.assert_customs_rate_has_no_gaps"
    ]
    assert sum(1 for uid in statuses if uid.startswith("unit_test.")) >= 7
    print(f"dbt build on chDB: {dbt_build.seconds:.1f}s for {len(results)} nodes")


def test_customs_rate_on_monday_is_fridays_ptax_sell(marts):
    rows = _by(marts["customs"], "currency", "date")
    monday = rows[("USD", "2024-01-08")]
    assert monday["customs_rate_date"] == "2024-01-05"
    assert Decimal(monday["customs_rate"]) == Decimal("4.8899")  # SGS 1 on Friday 2024-01-05
    assert Decimal(rows[("USD", "2024-01-05")]["ptax_sell"]) == Decimal("4.8899")
    assert Decimal(rows[("EUR", "2024-01-08")]["customs_rate"]) == Decimal("5.3691")  # SGS 21619, Friday


def test_customs_rate_after_holidays(marts):
    rows = _by(marts["customs"], "currency", "date")

    def customs(currency, day):
        row = rows[(currency, day)]
        return row["customs_rate_date"], Decimal(row["customs_rate"])

    # Monday after Proclamação (Fri 2024-11-15): Thursday 14th
    assert customs("USD", "2024-11-18") == ("2024-11-14", Decimal("5.7885"))
    # Thursday after Consciência Negra (Wed 2024-11-20): Tuesday 19th
    assert customs("USD", "2024-11-21") == ("2024-11-19", Decimal("5.7743"))
    assert customs("EUR", "2024-11-21") == ("2024-11-19", Decimal("6.1138"))
    # Ash Wednesday after Carnival (Mon/Tue 2024-02-12/13): Friday 9th
    assert Decimal(rows[("USD", "2024-02-14")]["customs_rate"]) == Decimal("4.9717")
    assert Decimal(rows[("EUR", "2024-02-14")]["customs_rate"]) == Decimal("5.3635")


def test_customs_rate_starts_on_2019_04_10(marts):
    rows = _by(marts["customs"], "currency", "date")
    assert rows[("USD", "2019-04-09")]["customs_rate"] is None
    assert Decimal(rows[("USD", "2019-04-10")]["customs_rate"]) == Decimal("3.8563")  # SGS 1 on 2019-04-09


def test_cny_comes_from_the_closing_file(marts):
    cny = _by(marts["customs"], "currency", "date")[("CNY", "2026-07-31")]
    assert (cny["source"], Decimal(cny["ptax_sell"])) == ("closing_file", Decimal("0.7521"))
    usd_from_olinda_only = _by(marts["customs"], "currency", "date").get(("USD", "2026-07-31"))
    assert usd_from_olinda_only is None  # USD is an Olinda currency: its closing-file row is not used


def test_no_fx_rows_on_holidays_and_every_history_day_kept(marts):
    assert marts["fx_on_holidays"] == [{"n": 0}]
    counts = _by(marts["fx_counts"], "currency")
    assert counts["USD"]["n"] == 2434  # every SGS 1 date, 2015-04-22..2024-12-31: all business days
    assert counts["EUR"]["n"] == 2506


def test_dim_calendar_size_and_holiday_flags(marts):
    assert marts["calendar_size"] == [{"n": 11323, "first": "2000-01-01", "last": "2030-12-31"}]
    days = _by(marts["calendar_days"], "date")
    for holiday in ("2024-02-12", "2024-02-13", "2024-11-15", "2024-11-20"):
        assert days[holiday]["is_anbima_holiday"] is True
        assert days[holiday]["is_business_day"] is False
    assert days["2024-02-14"]["is_business_day"] is True
    assert (days["2024-02-14"]["previous_business_day"], days["2024-02-14"]["next_business_day"]) == (
        "2024-02-09",
        "2024-02-15",
    )
    assert days["2024-11-20"]["previous_business_day"] == "2024-11-19"
    assert days["2024-11-15"]["next_business_day"] == "2024-11-18"
    # B3 closes, banks and PTAX do not: 24 December, and São Paulo's anniversary until 2021
    for b3_only in ("2024-12-24", "2021-01-25"):
        assert (days[b3_only]["is_b3_holiday"], days[b3_only]["is_business_day"]) == (True, True)
    assert days["2027-01-01"]["is_b3_holiday"] is None  # the B3 list stops after 2026


def test_macro_indicators_as_of_each_date(marts):
    days = _by(marts["macro"], "date")
    assert days["2024-02-14"]["ipca_month_pct"] is None  # January's IPCA is not public yet
    assert (Decimal(days["2024-02-15"]["ipca_month_pct"]), days["2024-02-15"]["ipca_reference_month"]) == (
        Decimal("0.42"),
        "2024-01-01",
    )
    saturday = days["2024-11-16"]  # carried over the holiday weekend
    assert Decimal(saturday["usd_ptax_sell"]) == Decimal("5.7885")
    assert Decimal(saturday["selic_target_pct_pa"]) == Decimal("11.25")
    assert marts["macro_size"] == [{"n": 3654}]  # 2015-01-01..2025-01-01


def test_focus_latest(marts):
    rows = _by(marts["focus"], "calc_basis")
    medians = {basis: Decimal(row["median"]) for basis, row in rows.items()}
    assert medians == {0: Decimal("3.9"), 1: Decimal("3.9037")}  # Focus 2024-01-02, IPCA 2024


def test_mart_column_types_are_exact(marts):
    types = {(row["table"], row["name"]): row["type"] for row in marts["column_types"]}
    assert types[("fct_fx_rates_daily", "ptax_sell")] == "Decimal(38, 8)"
    assert types[("fct_fx_rates_daily", "customs_rate")] == "Nullable(Decimal(38, 8))"
    assert types[("fct_fx_rates_daily", "currency")] == "LowCardinality(String)"
    assert types[("dim_calendar", "date")] == "Date"
