"""The dbt project as Dagster assets: one DbtProject, the translator, and the @dbt_assets that run `dbt build`.

Importing this module never parses the dbt project when a manifest exists: `importau dev`, `importau demo`,
`importau dbt parse` (`make manifest`) and `scripts/bootstrap.sh` build it beforehand, atomically, and every process
of the code location (webserver, daemon, run workers, step processes) only reads it. See orchestration/dbt_manifest.py.
"""

import functools
import itertools
import json
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from ingestion.common.warehouse import Warehouse
from orchestration import dbt_build_state as build_state
from orchestration.automation_conditions import dbt_condition
from orchestration.constants import OWNER, WAREHOUSE_POOL
from orchestration.dbt_args import dbt_build_args
from orchestration.dbt_build_state import BUILD_TAG, CHANGED
from orchestration.dbt_leftovers import drop_leftovers_before_dbt
from orchestration.dbt_manifest import (
    DBT_PROJECT_DIR,
    current_target,
    ensure_manifest,
    keep_partial_parse,
    manifest_is_current,
    seed_partial_parse,
)
from orchestration.dbt_table_stats import CARRIED, REBUILT_KEY, model_relations, with_table_stats
from orchestration.defs.metadata import run_owner
from orchestration.resources.settings import resolve_data_dir
from orchestration.resources.warehouse import ClickHouseResource

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target=current_target(),
)
# Read only. With no manifest at all (a fresh clone running plain `dg dev` / `dg check defs`) the first process
# parses once under a lock and the others wait for its file, rather than failing a command that used to work.
MANIFEST_PATH = ensure_manifest(DBT_PROJECT_DIR)


def dbt_group(fqn: list[str]) -> str:
    """The Dagster group of a model, from its folder `models/<layer>/<folder>/...`, so groups read left to right.

    Keys keep the warehouse layer (`[database, table]`); groups follow the business domain instead. By layer,
    the groups formed cycles: intermediate models read two marts (`dim_calendar`, `fct_fx_rates_daily`), and the
    `ml` group both read the marts and fed them through the score views, so the UI's group graph ran backwards.
    By domain it is a chain: sources, `staging`, `calendar`, `fx`, the domains (`customs`, `supply`, `treasury`,
    `reconciliation`, `macro`), `ml`, and last `recommendations`, which takes the score views `staging/ml` too.
    A test (tests/orchestration/test_asset_groups.py) keeps the group graph acyclic.
    """
    layer, folder = fqn[1], fqn[2] if len(fqn) > 3 else None
    if layer == "staging":
        return "recommendations" if folder == "ml" else "staging"
    if layer in ("intermediate", "marts") and folder:
        return folder
    return layer


class Translator(DagsterDbtTranslator):
    """Keys are `[database, table]`: models take their layer folder, seeds land in `raw`; groups are domains
    (`dbt_group`)."""

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
            group_name=dbt_group(props["fqn"]),
            owners=[OWNER],
            automation_condition=dbt_condition(),
        )


class DbtConfig(dg.Config):
    full_refresh: bool = False


translator = Translator()


# ONE @dbt_assets for every model, seed and data test, incremental models included. STYLE.md section 9 splits the
# incremental models into a `dbt_incremental` asset, as projects whose incremental models are partitioned do. Here
# they are unpartitioned (each run recomputes a lookback window of whole months, dbt_project/README.md), so the
# split only cost every run a second dbt process (about 4-6 s of start-up, issue 10). A full refresh of just those
# models is still a subset: select them in the UI with `DbtConfig(full_refresh=True)`.
@dbt_assets(
    manifest=MANIFEST_PATH,
    project=dbt_project,
    dagster_dbt_translator=translator,
    pool=WAREHOUSE_POOL,
    op_tags={"importau/family": "dbt"},
)
def dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtConfig, warehouse: ClickHouseResource
):
    """Every dbt model, seed and data test (the unit tests are CI's: orchestration/dbt_args.py); each model's
    materialization carries its row count and a preview (orchestration/dbt_table_stats.py). The daily job leaves out
    the models and seeds built on the same raw rows, and the tests that read only those
    (orchestration/dbt_build_state.py)."""
    with warehouse.open(owner=run_owner(context)) as wh:  # closed again before dbt, which opens it itself
        drop_leftovers_before_dbt(context, wh)
        # Every build records what it built; the daily one (its run tag) leaves out what has unchanged inputs.
        leave_out = context.run.tags.get(BUILD_TAG) == CHANGED and may_leave_out(context, config)
        unchanged = UnchangedNodes.prepare(context, wh, resolve_data_dir(warehouse.data_dir), leave_out)
    target_path = invocation_target_path(context)
    seed_partial_parse(target_path, dbt_project.target)  # this target's partial parse (orchestration/dbt_manifest.py)
    # --no-write-json: dbt writes no manifest.json, graph.gpickle or run_results.json into the invocation's folder
    # (6 MB and about 1 s a step, issue 10); what was built is read from the step's own events instead.
    args = [*dbt_build_args(config.full_refresh), "--no-write-json"]
    if unchanged.models:
        args += unchanged.selection_args()
    built: list[str] = []
    events = built_nodes(dbt.cli(args, context=context, target_path=target_path).stream(), built)
    yield from with_table_stats(
        itertools.chain(unchanged.outputs(), events),
        model_relations(parsed_manifest()),
        lambda: warehouse.open(owner=run_owner(context)),
        embedded=warehouse.chdb_path() is not None,
    )
    keep_partial_parse(target_path, dbt_project.target)
    unchanged.record(built)


def built_nodes(events: Iterable, built: list[str]) -> Iterator:
    """The dbt events, unchanged; the unique_id of each model and seed dbt built appended to `built`. dagster-dbt
    yields an `Output` only for a node dbt finished successfully (status `success` in dbt-core 1.11; a failed or
    skipped node gets none), as run_results.json's `success` said before --no-write-json."""
    for event in events:
        if isinstance(event, dg.Output) and "unique_id" in event.metadata:
            built.append(event.metadata["unique_id"].value)
        yield event


class UnchangedNodes:
    """The models and seeds this step leaves out because they were built on the same inputs
    (orchestration/dbt_build_state.py); after the build, the record of what was built."""

    def __init__(
        self,
        context: dg.AssetExecutionContext,
        manifest: dict,
        project: str,
        state_file: Path,
        fingerprints: dict,
        selected: dict[str, dg.AssetKey],
        models: list[str],
        built_by: dict[str, str],
    ):
        self.context, self.manifest, self.project, self.path = context, manifest, project, state_file
        self.fingerprints, self.selected, self.models, self.built_by = fingerprints, selected, models, built_by

    def selection_args(self) -> list[str]:
        return leave_out_args(sorted(self.manifest["nodes"][uid]["name"] for uid in self.models))

    @classmethod
    def prepare(
        cls, context: dg.AssetExecutionContext, wh: Warehouse, data_dir: str, leave_out: bool
    ) -> "UnchangedNodes":
        """The raw tables' fingerprints now (on the open warehouse `wh`), what was built before, the models left out;
        the record then forgets what this step rebuilds (a build that dies half-way leaves it unrecorded)."""
        manifest = parsed_manifest()
        project = build_state.project_fingerprint(manifest, PROJECT_FILES)
        fingerprints = build_state.source_fingerprints(wh, build_state.source_relations(manifest))
        selected = selected_nodes(context, manifest)  # this step's models and seeds: unique_id -> key
        state_file = build_state.state_path(data_dir, dbt_project.target)
        state = build_state.load_state(state_file, project)
        models: list[str] = []
        if leave_out:
            databases = {build_state.relation_of(node)[0] for node in manifest["nodes"].values() if "schema" in node}
            existing = build_state.existing_relations(wh, databases)
            unchanged = build_state.models_to_leave_out(manifest, state.models, fingerprints, existing)
            models = [uid for uid in unchanged if uid in selected]
            context.log.info(
                f"{len(models)} of this step's {len(selected)} models and seeds left out, and the tests that read "
                f"only them: built on the same raw rows and project ({state_file}); the rest runs"
            )
        build_state.forget(state_file, project, [uid for uid in selected if uid not in set(models)])
        return cls(context, manifest, project, state_file, fingerprints, selected, models, state.built_by)

    def outputs(self) -> Iterator[dg.Output]:
        """An output for each model left out: its table is the one it was built into on these raw rows, so it
        carries the row count and preview of its last materialization."""
        keys = [self.selected[unique_id] for unique_id in self.models]
        latest = self.context.instance.get_latest_materialization_events(keys) if keys else {}
        for unique_id, key in zip(self.models, keys, strict=True):
            entry = latest.get(key)
            last = entry.asset_materialization.metadata if entry and entry.asset_materialization else {}
            yield dg.Output(
                None,
                output_name=self.context.assets_def.get_output_name_for_asset_key(key),
                metadata={
                    **{name: last[name] for name in CARRIED if name in last},
                    "unique_id": unique_id,
                    REBUILT_KEY: False,
                    "importau/built_by_run": self.built_by.get(unique_id, ""),
                    "importau/why_not_rebuilt": "every raw table upstream holds the rows it was built on",
                },
            )

    def record(self, built: list[str]) -> None:
        """After the build: the models and seeds dbt built (`built_nodes`) join the record."""
        kept = build_state.record_results(
            self.path, self.project, self.manifest, self.fingerprints, built, self.context.run.run_id
        )
        self.context.log.debug(f"{len(kept.models)} built models and seeds recorded in {self.path}")


@functools.cache
def parsed_manifest() -> dict:
    """The manifest the definitions were built from (MANIFEST_PATH: built before the process starts, only read
    here), parsed once per process rather than in every step: 0.3-0.7 s a parse."""
    return json.loads(Path(MANIFEST_PATH).read_text())


# What the project fingerprint reads beside the manifest: dbt_project.yml's `vars` reach the SQL only when compiled.
PROJECT_FILES = (DBT_PROJECT_DIR / "dbt_project.yml",)


def may_leave_out(context: dg.AssetExecutionContext, config: DbtConfig) -> bool:
    """Whether this step may leave unchanged models out at all: not on a full refresh; not when the manifest is
    older than a dbt file (an edited model must be built, and dbt builds what is on disk, not the manifest this
    process read); not when some checks of the selected assets are deselected (dagster-dbt then chooses the tests
    itself, with indirect selection `empty`, which `buildable` would override)."""
    if config.full_refresh:
        return False
    if not manifest_is_current(DBT_PROJECT_DIR):
        context.log.info("The dbt manifest is older than the project's files: every selected model is built")
        return False
    checks_of_selected = {
        spec.key for spec in context.assets_def.check_specs if spec.asset_key in context.selected_asset_keys
    }
    return checks_of_selected <= set(context.selected_asset_check_keys)


def leave_out_args(names: list[str]) -> list[str]:
    """dbt's `--exclude` for the models left out, one value (dagster-dbt folds it into its selection), with
    `buildable` indirect selection: a test is left out with them only when every model it reads is. Under the default
    `eager`, excluding a model also excludes every test touching it, such as a relationships test from a rebuilt model
    to a left-out one (tests/orchestration/test_dbt_build_state.py shows both)."""
    return ["--exclude", " ".join(names), "--indirect-selection", "buildable"]


def selected_nodes(context: dg.AssetExecutionContext, manifest: dict) -> dict[str, dg.AssetKey]:
    """unique_id -> asset key of the models and seeds this step materializes."""
    selected = context.selected_asset_keys
    out = {}
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] in ("model", "seed"):
            key = translator.get_asset_spec(manifest, unique_id, dbt_project).key
            if key in selected:
                out[unique_id] = key
    return out


def invocation_target_path(context: dg.AssetExecutionContext) -> Path:
    """The dbt invocation's own target folder, named as dagster-dbt names it (`<op>-<run id>-<random>`)."""
    root = Path(DBT_PROJECT_DIR, os.environ.get("DBT_TARGET_PATH", "target"))
    return root / f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"


assets = [dbt_models]
