"""dbt's selection by fully qualified name, each selector matched once per dbt process (issue 10).

A Dagster step that builds part of the dbt assets (the daily build's first step: 123 models and seeds) hands dbt a
`--select` of one FQN per model, and the daily build adds an `--exclude` of the models it leaves out (73 names).
dbt-core 1.11 matches every such selector against every node of the project (`QualifiedNameSelectorMethod.search`,
about 750 nodes) and `dbt build` selects three times (with and without unit tests, then for its queue): 4.8-5.9 s of
one dbt step between "Found ..." and its first model on this project (py-spy: `select_nodes`, 6.3 s under the
profiler).

`memoise_fqn_selection()` keeps, per manifest and selector, the nodes that selector matches in the whole project, and
answers each search with those of them among the nodes the search is asked about. That is the same set dbt's own
search returns (it yields the matches among the nodes asked about, and every caller makes a set of them), found
once instead of three times. Only the `importau-dbt` process calls it (orchestration/dbt_chdb.py `main`).
tests/orchestration/test_dbt_selection.py compares both on the real project.

No dagster import here: `importau-dbt` is what Dagster's dbt resource runs as a subprocess.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

MEMO_FLAG = "_importau_memoised"


class _EveryNode:
    """Stands for "every node" where dbt asks `unique_id in included_nodes`."""

    def __contains__(self, _unique_id: object) -> bool:
        return True


def memoise_fqn_selection() -> None:
    """Patch dbt's FQN selector method in this process (idempotent)."""
    from dbt.graph.selector_methods import QualifiedNameSelectorMethod

    if getattr(QualifiedNameSelectorMethod.search, MEMO_FLAG, False):
        return
    original = QualifiedNameSelectorMethod.search
    # id(manifest) -> (the manifest, kept so its id is not reused; selector -> the project's nodes it matches)
    matches: dict[int, tuple[Any, dict[str, frozenset]]] = {}

    def search(self, included_nodes, selector: str) -> Iterator:
        _, by_selector = matches.setdefault(id(self.manifest), (self.manifest, {}))
        found = by_selector.get(selector)
        if found is None:
            found = by_selector[selector] = frozenset(original(self, _EveryNode(), selector))
        return (unique_id for unique_id in found if unique_id in included_nodes)

    setattr(search, MEMO_FLAG, True)
    QualifiedNameSelectorMethod.search = search
