"""The cockpit's pure parts: Brazilian formatting, and the append-only decisions file."""

import json
import math
import threading
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from cockpit import formatting
from cockpit.decisions import DecisionError, read_decisions, record_decision


@pytest.mark.parametrize(
    ("value", "pt", "en"),
    [
        (Decimal("1234.56"), "R$ 1.234,56", "R$ 1,234.56"),
        (Decimal("-5150158.8249"), "-R$ 5.150.158,82", "-R$ 5,150,158.82"),
        (Decimal("0.005"), "R$ 0,01", "R$ 0.01"),  # half up, as a person rounds
        ("16985121.18", "R$ 16.985.121,18", "R$ 16,985,121.18"),  # a Decimal read as text (JSON)
        (None, "–", "–"),
        (math.nan, "–", "–"),  # a NULL that pandas read as NaN
    ],
)
def test_money_is_written_the_brazilian_way(value, pt, en):
    assert formatting.money(value, "pt") == pt
    assert formatting.money(value, "en") == en


def test_dates_percents_and_numbers():
    assert formatting.day(date(2024, 12, 31)) == "31/12/2024"
    assert formatting.day("2024-01-02") == "02/01/2024"
    assert formatting.day(datetime(2024, 3, 5, 23, 59, tzinfo=UTC), "en") == "2024-03-05"
    assert formatting.percent(Decimal("10.66666"), 1) == "10,7 %"
    assert formatting.number(Decimal("42483"), 2) == "42.483,00"
    assert formatting.foreign(Decimal("12347.1"), "CNY") == "CNY 12.347,10"


def test_decisions_are_appended_never_rewritten(tmp_path):
    path = tmp_path / "decisions" / "reconciliation_decisions.jsonl"
    first = record_decision(
        path, "bank:acc:tx1|PAYABLE:AP-1:PS-1", "CONFIRMED", "ana", now=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    )
    record_decision(path, "bank:acc:tx1|PAYABLE:AP-1:PS-1", "REJECTED", " bia ", note="wrong supplier")
    assert first["decided_at"] == "2025-01-02 03:04:05.000"  # what dbt reads as DateTime64(3, 'UTC')
    lines = path.read_text().splitlines()
    assert [json.loads(line)["decision"] for line in lines] == ["CONFIRMED", "REJECTED"]
    assert read_decisions(path)[1]["decided_by"] == "bia"


def test_concurrent_sessions_append_whole_lines(tmp_path):
    path = tmp_path / "reconciliation_decisions.jsonl"
    threads = [
        threading.Thread(target=record_decision, args=(path, f"b:{i}|RECEIVABLE:AR-{i}", "CONFIRMED", f"user{i}"))
        for i in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(d["decided_by"] for d in read_decisions(path)) == sorted(f"user{i}" for i in range(20))


@pytest.mark.parametrize(
    ("match", "decision", "who", "says"),
    [
        ("bank:acc:tx1|", "REJECTED", "ana", "not a proposed match"),  # an unmatched row
        ("|RECEIVABLE:AR-1", "CONFIRMED", "ana", "not a proposed match"),
        ("bank:acc:tx1|RECEIVABLE:AR-1", "MAYBE", "ana", "must be one of"),
        ("bank:acc:tx1|RECEIVABLE:AR-1", "CONFIRMED", "  ", "say who decides"),
    ],
)
def test_a_decision_that_cannot_be_applied_is_refused_and_nothing_is_written(tmp_path, match, decision, who, says):
    path = tmp_path / "reconciliation_decisions.jsonl"
    with pytest.raises(DecisionError, match=says):
        record_decision(path, match, decision, who)
    assert not path.exists()
