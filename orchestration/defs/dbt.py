"""The dbt project as Dagster assets: one DbtProject, the translator, and the @dbt_assets that run `dbt build`."""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from dagster_dbt.dbt_project import using_dagster_dev

from orchestration.automation_conditions import dbt_condition
from orchestration.commands.dbt_manifest import prepare_manifest
from orchestration.constants import DBT_INCREMENTAL_SELECTOR, OWNER, WAREHOUSE_POOL
from orchestration.dbt_args import dbt_build_args, dbt_target

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target=dbt_target(os.environ.get("APP_ENV"), os.environ.get("CLICKHOUSE_URL")),
)
if using_dagster_dev():
    # `dagster dev`, `dg dev`, `dg check defs`: parse with our dbt entry point (the chDB bridge), which is
    # what DbtProject.prepare_if_dev() would do with a plain `dbt` that is not on PATH in the venv.
    prepare_manifest()


class Translator(DagsterDbtTranslator):
    """Keys are `[database, table]`: models take their layer folder, seeds land in `raw`."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None):
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "seed":
            return spec.replace_attributes(key=dg.AssetKey(["raw", props["name"]]), group_name="seeds", owners=[OWNER])
        if props["resource_type"] != "model":
            return spec
        layer = props["fqn"][1]  # models/<layer>/...
        return spec.replace_attributes(
            key=dg.AssetKey([layer, props["name"]]),
            group_name=layer,
            owners=[OWNER],
            automation_condition=dbt_condition(),
        )


class DbtConfig(dg.Config):
    full_refresh: bool = False


translator = Translator()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    exclude=DBT_INCREMENTAL_SELECTOR,
    pool=WAREHOUSE_POOL,
    op_tags={"importau/family": "dbt"},
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtConfig):
    """Every dbt model, seed and test except the incremental models."""
    yield from dbt.cli(dbt_build_args(config.full_refresh), context=context).stream()


def _has_incremental_models() -> bool:
    import json

    manifest = json.loads(Path(dbt_project.manifest_path).read_text())
    return any(
        node.get("config", {}).get("materialized") == "incremental"
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model"
    )


assets = [dbt_models]

if _has_incremental_models():

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        dagster_dbt_translator=translator,
        select=DBT_INCREMENTAL_SELECTOR,
        pool=WAREHOUSE_POOL,
        op_tags={"importau/family": "dbt"},
    )
    def dbt_incremental(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtConfig):
        """The incremental dbt models: each run recomputes a lookback window of whole months."""
        yield from dbt.cli(dbt_build_args(config.full_refresh), context=context).stream()

    assets.append(dbt_incremental)
