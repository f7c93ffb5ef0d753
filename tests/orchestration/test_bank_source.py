"""`importau demo --bank-source`: the bank sources, their precedence and which are available
(orchestration/commands/bank_source.py)."""

import pytest

from orchestration.commands.bank_source import BANK_SOURCES, available, by_name, choose, in_demo

ALL_JOBS = ["ingest_bcb", "ingest_open_finance", "ingest_pluggy", "ingest_bank_statements", "ingest_erp"]


def test_names_follow_the_dbt_precedence():
    # the dbt var bank_sources lists them in this order (dbt_project/dbt_project.yml): the first one wins a tie
    assert [source.dbt_source for source in BANK_SOURCES] == ["open_finance", "pluggy", "bank_statement"]
    assert [source.name for source in BANK_SOURCES] == ["open_finance", "pluggy", "statements"]


def test_a_source_is_available_once_its_ingest_job_exists():
    assert [s.name for s in available(["ingest_bcb", "ingest_open_finance"])] == ["open_finance"]
    assert [s.name for s in available(ALL_JOBS)] == ["open_finance", "pluggy", "statements"]


def test_an_unknown_or_missing_source_is_refused_naming_what_exists():
    with pytest.raises(ValueError, match="unknown bank source 'plaid'.*open_finance, pluggy, statements"):
        by_name("plaid")
    with pytest.raises(ValueError, match="'ingest_bank_statements' is not defined. Available: open_finance$"):
        choose("statements", ["ingest_bcb", "ingest_open_finance"])
    assert choose("statements", ALL_JOBS).dbt_source == "bank_statement"


def test_pluggy_waits_for_its_stand_in_in_the_demo():
    assert [s.name for s in in_demo(ALL_JOBS)] == ["open_finance", "statements"]
    with pytest.raises(ValueError, match="does not start its stand-in yet. Available: open_finance, statements"):
        choose("pluggy", ALL_JOBS)


def test_the_demo_range_widens_to_whole_months():
    from datetime import date

    from orchestration.commands.erp_demo import statement_months

    assert statement_months("2024-12-05..2025-02-10") == (date(2024, 12, 1), date(2025, 2, 28))
    assert statement_months("") is None
    with pytest.raises(ValueError, match="IMPORTAU_DEMO_BANK_STATEMENTS_BETWEEN"):
        statement_months("2024-12")
