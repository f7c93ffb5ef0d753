"""`importau evaluate` says what is missing instead of scoring nothing (the scoring itself: tests/ingestion/erp/
test_erp_demo_scoring.py on hand-made rows, tests/marts on the built demo)."""

from orchestration.cli import main


def test_without_a_demo_there_is_nothing_to_score(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("IMPORTAU_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CLICKHOUSE_URL", raising=False)
    assert main(["evaluate", "--json"]) == 2
    assert "no ground truth" in capsys.readouterr().err
