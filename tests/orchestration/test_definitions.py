"""The code location loads, and its shape is pinned: a renamed key, group or condition fails here."""

import dagster as dg


def _shape(defs: dg.Definitions) -> dict:
    graph = defs.resolve_asset_graph()
    shape = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        condition = node.automation_condition
        shape[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "partitioned": node.partitions_def is not None,
            "automation": condition.get_label() or type(condition).__name__ if condition else None,
            "kinds": sorted(node.kinds),
            "has_description": bool(node.description),
            "owners": list(node.owners),
        }
    return shape


def test_definitions_load_and_match_snapshot(definitions, snapshot):
    assert _shape(definitions) == snapshot


def test_every_check_and_schedule_is_there(definitions):
    graph = definitions.resolve_asset_graph()
    check_names = {check_key.name for check_key in graph.asset_check_keys}
    assert {"no_duplicate_keys", "no_business_day_gaps"} <= check_names
    assert {s.name for s in definitions.schedules} == {
        "bcb_daily_schedule",
        "bcb_monthly_series_schedule",
        "open_finance_daily_schedule",
        "erp_postgres_daily_schedule",
    }
    assert {"ingest_bcb", "ingest_open_finance", "transform"} <= {job.name for job in definitions.jobs}


def test_every_warehouse_step_is_in_the_warehouse_pool(definitions):
    graph = definitions.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        if key.path[0] in {"raw", "staging", "intermediate", "marts"}:
            assets_def = graph.assets_def_for_key(key)
            pools = (
                {node.pool for node in assets_def.node_def.iterate_node_defs()}
                if hasattr(assets_def.node_def, "iterate_node_defs")
                else {assets_def.node_def.pool}
            )
            assert pools == {"warehouse"}, key
