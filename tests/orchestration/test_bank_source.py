"""`importau demo --bank-source`: the bank sources, their precedence and which are available
(orchestration/commands/bank_source.py)."""

import pytest

from orchestration.commands.bank_source import BANK_SOURCES, available, by_name, choose

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


def test_every_source_is_in_the_demo_pluggy_through_its_stand_in():
    from orchestration.commands.demo_services import BANK_SOURCE_SERVICES

    assert choose("pluggy", ALL_JOBS).job == "ingest_pluggy"
    assert set(BANK_SOURCE_SERVICES) == {"pluggy"}


def test_the_pluggy_stand_in_serves_the_demo_truth(tmp_path, monkeypatch):
    """`importau demo --bank-source pluggy` starts it: the PLUGGY_* variables point at a live stand-in with one item
    per bank of the truth, and it stops with the block."""
    import httpx

    from orchestration.commands.pluggy_demo import pluggy_demo_env
    from sandboxes.demo_company import generate
    from sandboxes.demo_company.writers import write_bank_truth

    company = generate(seed=42, scale=0.2)
    write_bank_truth(company, tmp_path / "bank")
    monkeypatch.setenv("DEMO_BANK_TRUTH_DIR", str(tmp_path / "bank"))
    with pluggy_demo_env() as env:
        assert set(env) == {"PLUGGY_BASE_URL", "PLUGGY_CLIENT_ID", "PLUGGY_CLIENT_SECRET", "PLUGGY_ITEM_IDS"}
        compes = {row["compe_code"] for row in company.bank["bank_accounts"].to_pylist()}
        assert {item.split(":")[0] for item in env["PLUGGY_ITEM_IDS"].split(",")} == {f"bank_{c}" for c in compes}
        answer = httpx.post(
            f"{env['PLUGGY_BASE_URL']}/auth",
            json={"clientId": env["PLUGGY_CLIENT_ID"], "clientSecret": env["PLUGGY_CLIENT_SECRET"]},
            timeout=10,
        )
        assert answer.status_code == 200 and answer.json()["apiKey"]
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{env['PLUGGY_BASE_URL']}/auth", json={}, timeout=2)


def test_the_demo_range_widens_to_whole_months():
    from datetime import date

    from orchestration.commands.erp_demo import statement_months

    assert statement_months("2024-12-05..2025-02-10") == (date(2024, 12, 1), date(2025, 2, 28))
    assert statement_months("") is None
    with pytest.raises(ValueError, match="IMPORTAU_DEMO_BANK_STATEMENTS_BETWEEN"):
        statement_months("2024-12")
