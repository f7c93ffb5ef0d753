"""The three Dagster objects every model gets from one `MlModel` spec (STYLE.md section 11).

- `ml/<model>__model`: reads its features from the warehouse, trains and backtests (pure code in
  `ml_assets/<model>/`), logs one tagged MLflow run, registers a version and aliases it `challenger`;
  retrains on a weekly cron (`training_condition`).
- the blocking check `promotion` on it: moves `champion` to the challenger only when it beats the baseline and
  the current champion on the backtest metric. For a model with a `baseline_fallback`, the baseline serves until
  a model beats it: when the gate refuses a challenger and no trained model serves, the baseline its run logged
  becomes `champion` (ml_assets/common/baseline.py) and the check passes, its metadata naming the baseline
  (`champion_kind`, `serving_baseline`). The check fails (and blocks scoring) only while nothing serves at all.
  It passes rather than warns while a baseline serves: Dagster's `all_deps_blocking_checks_passed`, which keeps
  scoring automated, counts a WARN failure as failed and would stop the very scoring the baseline is there for.
- `ml/<model>__scores`: the champion scores the latest features into `ml.<model>__scores`, with the version and
  its kind (`model` or `baseline`) on every row; it follows every refresh of the features or the model
  (`scoring_condition`).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from ingestion.common.warehouse import Warehouse
from ml_assets.common import baseline, registry, scores, tracking
from ml_assets.common.training import TrainingResult, record_training
from orchestration.automation_conditions import scoring_condition, training_condition
from orchestration.constants import BUSINESS_TIMEZONE, OWNER, WAREHOUSE_POOL
from orchestration.defs.dbt import dbt_models
from orchestration.defs.metadata import preview_markdown, run_owner
from orchestration.resources.mlflow import MLflowResource
from orchestration.resources.settings import resolve_data_dir
from orchestration.resources.warehouse import ClickHouseResource

ML_GROUP = "ml"
WEEKLY_TRAINING_CRON = "0 5 * * 1"  # Mondays 05:00 in São Paulo, before the business day starts


@dataclass(frozen=True)
class MlModel:
    """Everything the wiring needs from a model; the callables are plain Python from `ml_assets/<model>/`."""

    name: str
    description: str  # the UI's business description of the model asset
    features: Sequence[dg.AssetKey]  # the dbt models it reads (keys from get_asset_key_for_model)
    load_training_data: Callable[[Warehouse], Any]
    train: Callable[[Any, int], TrainingResult]  # (training data, seed) -> fitted model + backtest
    load_scoring_data: Callable[[Warehouse], Any]
    score: Callable[[Any, Any], list[dict]]  # (pyfunc champion, scoring data) -> rows of the scores table
    scores_table: scores.ScoresTable
    metric: str  # the backtest metric the promotion compares
    higher_is_better: bool
    scores_description: str = ""
    training_cron: str = WEEKLY_TRAINING_CRON
    seed: int = 42
    # outcomes known outside the warehouse, for evaluation only (data dir -> labels, e.g. the demo's planted
    # anomalies in <data_dir>/demo/ground_truth.json); when set, `train` gets (training data, labels)
    load_known_outcomes: Callable[[str], Any] | None = None
    # in words, the baseline that serves while no model beats it (the train module's BASELINE_FALLBACK; `train`
    # returns it as `TrainingResult.served_baseline`); None: nothing serves until a model is promoted
    baseline_fallback: str | None = None

    @property
    def model_key(self) -> dg.AssetKey:
        return dg.AssetKey([ML_GROUP, f"{self.name}__model"])

    @property
    def scores_key(self) -> dg.AssetKey:
        return dg.AssetKey([ML_GROUP, f"{self.name}__scores"])


def model_spec(
    train_module: ModuleType,
    *,
    features_model: str,
    description: str,
    scores_description: str,
    load_training_data: Callable[[Warehouse], Any],
    load_scoring_data: Callable[[Warehouse], Any],
    train: Callable[[Any, int], TrainingResult] | None = None,
    score: Callable[[Any, Any], list[dict]] | None = None,
    load_known_outcomes: Callable[[str], Any] | None = None,
) -> MlModel:
    """The spec of a model from its `ml_assets/<model>/train.py` (`MODEL_NAME`, `SCORES_TABLE`, `PROMOTION_METRIC`,
    `HIGHER_IS_BETTER`, optionally `BASELINE_FALLBACK`, and by default its `train(features, seed=)` and `score`),
    the dbt model of its features (the asset key comes from the dbt manifest) and what differs per model."""
    return MlModel(
        name=train_module.MODEL_NAME,
        description=description,
        features=[get_asset_key_for_model([dbt_models], features_model)],
        load_training_data=load_training_data,
        train=train or (lambda features, seed: train_module.train(features, seed=seed)),
        load_scoring_data=load_scoring_data,
        score=score or train_module.score,
        scores_table=train_module.SCORES_TABLE,
        metric=train_module.PROMOTION_METRIC,
        higher_is_better=train_module.HIGHER_IS_BETTER,
        scores_description=scores_description,
        load_known_outcomes=load_known_outcomes,
        baseline_fallback=getattr(train_module, "BASELINE_FALLBACK", None),
    )


class TrainingConfig(dg.Config):
    seed: int | None = None  # None: the model's default seed (training is deterministic for a given seed)


def _metrics_markdown(metrics: dict[str, float], baseline: dict[str, float]) -> str:
    lines = ["| metric | model | baseline |", "|---|---|---|"]
    for key in sorted(metrics):
        base = baseline.get(key)
        lines.append(f"| {key} | {metrics[key]:.6g} | {'' if base is None else f'{base:.6g}'} |")
    return "\n".join(lines)


def model_asset(spec: MlModel) -> dg.AssetsDefinition:
    @dg.asset(
        key=spec.model_key,
        deps=list(spec.features),
        group_name=ML_GROUP,
        kinds={"scikitlearn", "mlflow"},
        owners=[OWNER],
        pool=WAREHOUSE_POOL,
        automation_condition=training_condition(spec.training_cron, BUSINESS_TIMEZONE),
        description=spec.description,
    )
    def _model(
        context: dg.AssetExecutionContext,
        config: TrainingConfig,
        warehouse: ClickHouseResource,
        mlflow: MLflowResource,
    ) -> dg.MaterializeResult:
        with warehouse.open(owner=run_owner(context)) as wh:
            data = spec.load_training_data(wh)
        if spec.load_known_outcomes is not None:
            data = (data, spec.load_known_outcomes(resolve_data_dir(warehouse.data_dir)))
        seed = spec.seed if config.seed is None else config.seed
        result = spec.train(data, seed)
        store = mlflow.configure()
        partition = context.partition_key if context.has_partition_key else None
        tags = tracking.run_tags(spec.name, context.run_id, partition)
        recorded = record_training(spec.name, result, store, tags)
        tracking.describe_model(spec.name, spec.description, store)
        for note in result.notes:
            context.log.info(note)
        metadata = {
            "model_version": recorded.version.version,
            "model_uri": recorded.version.uri,
            "mlflow_run_id": recorded.version.run_id,
            "mlflow_store": str(store),
            "seed": seed,
            f"backtest/{spec.metric}": result.metrics.get(spec.metric),
            f"backtest/baseline_{spec.metric}": result.baseline_metrics.get(spec.metric),
            "metrics": dg.MetadataValue.md(_metrics_markdown(result.metrics, result.baseline_metrics)),
            "notes": dg.MetadataValue.md("\n".join(f"- {note}" for note in result.notes) or "_none_"),
        }
        metadata.update({f"plot/{stem}": dg.MetadataValue.md(image) for stem, image in recorded.images.items()})
        return dg.MaterializeResult(metadata={k: v for k, v in metadata.items() if v is not None})

    return _model


def _promotion_description(spec: MlModel) -> str:
    rule = (
        f"Moves `champion` to the challenger only if it beats the baseline and the champion on `{spec.metric}` "
        f"({'higher' if spec.higher_is_better else 'lower'} is better); a refused challenger leaves the champion "
        "in place (see the `promoted` and `reasons` metadata). "
    )
    if spec.baseline_fallback is None:
        return rule + "Fails, blocking scoring, only while the model has no champion at all."
    return rule + (
        f"The baseline serves until a model beats it: with no trained model serving, a refused challenger's "
        f"baseline ({spec.baseline_fallback}) becomes the champion, and the check passes with `champion_kind` "
        "baseline. Fails, blocking scoring, only while nothing serves at all."
    )


def promotion_check(spec: MlModel) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=spec.model_key,
        name="promotion",
        blocking=True,
        description=_promotion_description(spec),
    )
    def _promotion(mlflow: MLflowResource) -> dg.AssetCheckResult:
        mlflow.configure()
        if spec.baseline_fallback is None:
            decision = registry.review_challenger(spec.name, spec.metric, spec.higher_is_better)
        else:
            decision = baseline.review_or_serve_baseline(spec.name, spec.metric, spec.higher_is_better)
        metadata = {k: v for k, v in decision.as_metadata().items() if v is not None}
        return dg.AssetCheckResult(
            passed=decision.serving_version is not None,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata=metadata,
        )

    return _promotion


def scores_asset(spec: MlModel) -> dg.AssetsDefinition:
    table = spec.scores_table

    @dg.asset(
        key=spec.scores_key,
        deps=[spec.model_key, *spec.features],
        group_name=ML_GROUP,
        kinds={"clickhouse", "mlflow"},
        owners=[OWNER],
        pool=WAREHOUSE_POOL,
        automation_condition=scoring_condition(),
        description=spec.scores_description or f"Scores of the {spec.name} champion, in {table.qualified}.",
    )
    def _scores(
        context: dg.AssetExecutionContext, warehouse: ClickHouseResource, mlflow: MLflowResource
    ) -> dg.MaterializeResult:
        mlflow.configure()
        champion = registry.load_served(spec.name, registry.CHAMPION)
        version = champion.version
        if champion.kind == registry.KIND_BASELINE:
            context.log.warning(f"{spec.name}: no model beats the baseline yet; {champion.baseline} serves")
        with warehouse.open(owner=run_owner(context)) as wh:
            rows = spec.score(champion.model, spec.load_scoring_data(wh))
            written = scores.write_scores(wh.client, table, rows, version, layout=wh.layout, model_kind=champion.kind)
            preview = wh.query_arrow(
                f"SELECT * FROM {table.qualified} WHERE model_version = {{v:String}} ORDER BY scored_at DESC LIMIT 10",
                parameters={"v": version},
            )
        metadata = {
            "row_count": written,
            "model_version": version,
            "model_kind": champion.kind,
            "serving_baseline": champion.baseline,
            "table": table.qualified,
            "preview": dg.MetadataValue.md(preview_markdown(preview, rows=10)),
        }
        return dg.MaterializeResult(metadata={k: v for k, v in metadata.items() if v is not None})

    return _scores


def build(spec: MlModel) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
    """(assets, checks) of one model."""
    return [model_asset(spec), scores_asset(spec)], [promotion_check(spec)]
