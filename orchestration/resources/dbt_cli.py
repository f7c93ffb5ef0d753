"""dagster-dbt's dbt resource, without the dbt adapter it builds inside the step's own process on every `cli()`."""

from collections.abc import Sequence

from dagster_dbt import DbtCliResource


class DbtCli(DbtCliResource):
    """`DbtCliResource` as it is, except one thing: before each dbt command dagster-dbt 0.29 loads the dbt profile
    and project and registers the dbt adapter in the calling process (`_initialize_dbt_core_adapter`, about 1.6 s a
    dbt step, issue 10), only so that `fetch_row_counts()` and `fetch_column_metadata()` can query through it. This
    project calls neither: the dbt step counts rows itself (orchestration/dbt_table_stats.py), and on the embedded
    warehouse dbt's subprocess holds the chDB folder while it runs. dagster-dbt treats a missing adapter as "no such
    metadata" (the same as when creating one fails)."""

    def _initialize_dbt_core_adapter(self, args: Sequence[str]):  # noqa: ARG002 (dagster-dbt's signature)
        return None
