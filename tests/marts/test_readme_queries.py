"""The README's "Query the marts" questions run as written on the demo company and answer with rows."""

import re
from pathlib import Path

import pytest

from tests.dbt.dbt_harness import query

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_queries() -> dict[str, str]:
    text = README.read_text()
    section = text.split("## Query the marts", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"\*\*(.+?)\*\*\n```sql\n(.*?)```", section, flags=re.S)
    return {f"q{n}": sql for n, (_question, sql) in enumerate(blocks, start=1)}


def test_the_readme_has_at_least_five_questions():
    assert len(readme_queries()) >= 5


def test_every_readme_query_returns_rows(demo_built):
    results = query(demo_built.data_dir, **readme_queries())
    empty = [name for name, rows in results.items() if not rows]
    assert not empty, f"README queries without rows: {empty}"
