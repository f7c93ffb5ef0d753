"""The asset groups read left to right: the graph of groups (an edge where an asset of one group reads an asset of
another) has no cycle, sources come first and recommendations last."""

import dagster as dg
import pytest

SOURCES = {"bank_statements", "bcb", "customs_files", "erp", "erp_postgres", "open_finance", "seeds", "airbyte"}


def group_edges(defs: dg.Definitions) -> set[tuple[str, str]]:
    graph = defs.resolve_asset_graph()
    group = {key: graph.get(key).group_name for key in graph.get_all_asset_keys()}
    return {
        (group[parent], group[key])
        for key in group
        for parent in graph.get(key).parent_keys
        if parent in group and group[parent] != group[key]
    }


def topological_order(edges: set[tuple[str, str]]) -> list[str]:
    """Kahn's algorithm; raises on a cycle, naming the groups in it."""
    nodes = {group for edge in edges for group in edge}
    incoming = {node: {a for a, b in edges if b == node} for node in nodes}
    order = []
    while ready := sorted(node for node, parents in incoming.items() if not parents):
        order += ready
        for node in ready:
            del incoming[node]
        for parents in incoming.values():
            parents.difference_update(ready)
    if incoming:
        raise ValueError(f"groups in a cycle: {sorted(incoming)}")
    return order


def test_a_cycle_is_named():
    with pytest.raises(ValueError, match=r"\['intermediate', 'marts'\]"):
        topological_order({("staging", "intermediate"), ("intermediate", "marts"), ("marts", "intermediate")})


def test_groups_form_a_chain_from_sources_to_recommendations(definitions):
    edges = group_edges(definitions)
    order = topological_order(edges)
    assert all(a in SOURCES for a, b in edges if b in SOURCES), "a source group reads a derived group"
    assert {"staging", "calendar", "fx", "ml", "recommendations"} <= set(order)
    assert order.index("staging") < order.index("calendar") < order.index("fx") < order.index("ml")
    assert not [a for a, b in edges if a == "recommendations"], "recommendations must be last"
