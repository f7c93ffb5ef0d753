"""The parts of `importau soak` that decide its verdict, without running a soak: the mart comparison (it must
flag a lost, doubled or changed row), the business days, and the ERP's day-by-day drops."""

from datetime import date

from orchestration.commands.erp_demo import company_between, drop_day, end_of_day
from orchestration.commands.soak import business_days, compared_days, differences
from sandboxes.demo_company.company import generate

CLEAN = {
    "marts.fct_a": {"rows": 3, "xor": "11", "sum": "33"},
    "marts.fct_b": {"rows": 1, "xor": "7", "sum": "7"},
}


def test_equal_checksums_have_no_difference():
    assert differences({k: dict(v) for k, v in CLEAN.items()}, CLEAN) == []


def test_a_lost_doubled_changed_or_extra_table_is_a_difference():
    lost = {**CLEAN, "marts.fct_a": {"rows": 2, "xor": "5", "sum": "22"}}
    assert differences(lost, CLEAN) == ["marts.fct_a: 2 rows vs 3 clean"]
    changed = {**CLEAN, "marts.fct_b": {"rows": 1, "xor": "8", "sum": "8"}}
    assert differences(changed, CLEAN) == ["marts.fct_b: 1 rows vs 1 clean, hashes differ"]
    # a row doubled and another lost: same count, and the XOR alone could hide a pair; the sum does not
    swapped = {**CLEAN, "marts.fct_a": {"rows": 3, "xor": "11", "sum": "34"}}
    assert differences(swapped, CLEAN) == ["marts.fct_a: 3 rows vs 3 clean, hashes differ"]
    extra = {**CLEAN, "marts.fct_a__dbt_backup": {"rows": 3, "xor": "11", "sum": "33"}}
    assert differences(extra, CLEAN) == ["marts.fct_a__dbt_backup: only in the soak"]


def test_a_fault_day_recovers_only_when_its_marts_equal_the_clean_day():
    clean = [{"day": "2024-11-01", "ok": True, "checksums": CLEAN}]
    soaked = {"day": "2024-11-01", "fault": "kill", "ok": True, "injected_at": 10.0, "done_at": 70.5}
    days, last = compared_days(clean, [{**soaked, "checksums": CLEAN}])
    assert days[0]["equal"] and days[0]["recovery_s"] == 60.5 and last == CLEAN
    assert "checksums" not in days[0] and "done_at" not in days[0]
    lost = {**CLEAN, "marts.fct_b": {"rows": 0, "xor": "0", "sum": "0"}}
    days, _ = compared_days(clean, [{**soaked, "checksums": lost}])
    assert not days[0]["equal"] and "recovery_s" not in days[0]
    days, _ = compared_days([], [{**soaked, "checksums": CLEAN}])  # the clean side has not run that day yet
    assert days[0]["differences"] == ["no clean run of that day"]


def test_business_days_skip_weekends_and_anbima_holidays():
    # 2024-11-15 (Proclamação da República) and 2024-11-20 (Consciência Negra) are holidays
    assert business_days(date(2024, 11, 14), 4) == [
        date(2024, 11, 14),
        date(2024, 11, 18),
        date(2024, 11, 19),
        date(2024, 11, 21),
    ]


def test_the_erp_drops_each_row_on_the_day_of_its_last_change(tmp_path):
    company = generate()
    base = drop_day(company, tmp_path / "inbox", date(2024, 10, 31), None, tmp_path / "work")
    day = drop_day(company, tmp_path / "inbox", date(2024, 11, 4), date(2024, 10, 31), tmp_path / "work")
    assert len(base) == 13 and day and all(path.name.endswith("__2024-11-04.csv") for path in day)
    through = company_between(company, None, date(2024, 11, 4))
    before = company_between(company, None, date(2024, 10, 31))
    between = company_between(company, date(2024, 10, 31), date(2024, 11, 4))
    for entity, table in through.erp.items():
        assert table.num_rows == before.erp[entity].num_rows + between.erp[entity].num_rows
        updated = between.erp[entity].column("updated_at").to_pylist()
        assert all(end_of_day(date(2024, 10, 31)) <= stamp < end_of_day(date(2024, 11, 4)) for stamp in updated)


def test_checksums_see_a_change_in_rows_that_hold_a_null(chdb_url, monkeypatch, tmp_path):
    """Every row of this table has a NULL: hashing the columns themselves gave NULL per row, and the table was then
    compared by its row count alone (4 of the 13 marts in the first 30-day soak)."""
    from ingestion.common.warehouse import open_warehouse
    from orchestration.commands.soak_worker import table_checksums

    monkeypatch.setenv("CLICKHOUSE_URL", chdb_url)
    monkeypatch.setenv("IMPORTAU_DATA_DIR", str(tmp_path))
    with open_warehouse(chdb_url, str(tmp_path), owner="pytest") as wh:
        wh.command("CREATE DATABASE IF NOT EXISTS test_soak_checksums")
        wh.command(
            "CREATE OR REPLACE TABLE test_soak_checksums.t (k UInt8, amount Decimal(18, 2), note Nullable(String)) "
            "ENGINE = MergeTree ORDER BY k"
        )
        wh.command("INSERT INTO test_soak_checksums.t VALUES (1, 10.00, NULL), (2, 20.00, NULL)")
    before = table_checksums(["test_soak_checksums"], exclude=[])["test_soak_checksums.t"]
    with open_warehouse(chdb_url, str(tmp_path), owner="pytest") as wh:
        wh.command("ALTER TABLE test_soak_checksums.t UPDATE amount = 21.00 WHERE k = 2 SETTINGS mutations_sync = 2")
    after = table_checksums(["test_soak_checksums"], exclude=[])["test_soak_checksums.t"]
    assert before["xor"] not in (None, "", "0") and before["rows"] == after["rows"] == 2
    assert differences({"t": before}, {"t": after}), (before, after)
