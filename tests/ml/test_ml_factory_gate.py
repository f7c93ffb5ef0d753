"""The factory's blocking gate: a first challenger worse than its baseline leaves no champion, and scoring stops.

A small honest model: y = 3x + noise in a test table; the challenger is a DummyRegressor (the mean), the baseline a
least-squares line, both scored by MAE on the last 20 % of the rows. The mean is far worse, so the gate refuses.
"""

import dagster as dg
import numpy as np
import pandas as pd
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_absolute_error

from ml_assets.common import registry
from ml_assets.common.scores import ScoresTable
from ml_assets.common.training import TrainingResult
from orchestration.defs.ml.factory import MlModel, build
from orchestration.resources.mlflow import MLflowResource
from orchestration.resources.warehouse import ClickHouseResource

NAME = "toy_gate_test"
TABLE = "ml.test_toy_gate__features"


def _load(warehouse) -> pd.DataFrame:
    return warehouse.query_df(f"SELECT x, y FROM {TABLE} ORDER BY x")


def _train(frame: pd.DataFrame, seed: int) -> TrainingResult:
    split = int(len(frame) * 0.8)
    fit, holdout = frame.iloc[:split], frame.iloc[split:]
    model = DummyRegressor(strategy="mean").fit(fit[["x"]], fit["y"])
    baseline = LinearRegression().fit(fit[["x"]], fit["y"])
    return TrainingResult(
        model=model,
        input_example=holdout[["x"]].head(3),
        metrics={"mae": mean_absolute_error(holdout["y"], model.predict(holdout[["x"]]))},
        baseline_metrics={"mae": mean_absolute_error(holdout["y"], baseline.predict(holdout[["x"]]))},
        params={"seed": seed},
    )


def _score(model, frame: pd.DataFrame) -> list[dict]:
    predictions = model.predict(frame[["x"]])
    return [{"x": float(x), "prediction": float(p)} for x, p in zip(frame["x"], predictions, strict=True)]


SPEC = MlModel(
    name=NAME,
    description="Toy model for the gate test.",
    features=[],
    load_training_data=_load,
    train=_train,
    load_scoring_data=_load,
    score=_score,
    scores_table=ScoresTable(NAME, (("x", "Float64"), ("prediction", "Float64")), order_by=("x",)),
    metric="mae",
    higher_is_better=False,
)


def test_first_challenger_worse_than_baseline_blocks_scoring(warehouse, chdb_url, mlflow_store, tmp_path):
    rng = np.random.default_rng(0)
    x = np.arange(100, dtype=float)
    warehouse.command(f"DROP TABLE IF EXISTS {TABLE}")
    warehouse.command(f"DROP TABLE IF EXISTS ml.{NAME}__scores")
    warehouse.command(f"CREATE TABLE {TABLE} (x Float64, y Float64) ENGINE = MergeTree ORDER BY x")
    warehouse.client.insert(TABLE, list(zip(x, 3 * x + rng.normal(0, 1, 100), strict=True)), column_names=["x", "y"])
    assets, checks = build(SPEC)

    result = dg.materialize(
        [*assets, *checks],
        resources={
            "warehouse": ClickHouseResource(url=chdb_url, data_dir=str(tmp_path)),
            "mlflow": MLflowResource(tracking_uri=mlflow_store.tracking_uri),
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )

    (check,) = result.get_asset_check_evaluations()
    assert check.metadata["challenger"].value > 10 * check.metadata["baseline"].value  # the mean is far worse
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["champion_version"].value == "none"
    assert "does not beat the baseline" in check.metadata["reasons"].value
    assert result.asset_materializations_for_node(SPEC.model_key.to_python_identifier())
    assert not result.asset_materializations_for_node(SPEC.scores_key.to_python_identifier())
    # Dagster blocks by failing the check's step; scoring never starts (it would fail: no champion to load)
    assert [event.step_key for event in result.get_step_failure_events()] == ["ml__toy_gate_test__model_promotion"]
    assert "ml__toy_gate_test__scores" not in {event.step_key for event in result.all_events if event.step_key}
    assert registry.version_by_alias(NAME, registry.CHAMPION) is None
    assert not warehouse.query_rows(f"EXISTS TABLE ml.{NAME}__scores")[0][0]
