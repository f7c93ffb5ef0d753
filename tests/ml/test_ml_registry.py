"""Registry and promotion on a real MLflow store (SQLite in a temp dir): aliases move only for a better model."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ml_assets.common import registry, tracking
from ml_assets.common.training import TrainingResult, record_training


def _toy(slope: float, mae: float, baseline_mae: float) -> TrainingResult:
    x = pd.DataFrame({"x": np.arange(20, dtype=float), "z": np.arange(20, dtype=float) % 3})
    model = make_pipeline(StandardScaler(), LinearRegression()).fit(x, slope * x["x"])
    return TrainingResult(model, x.head(3), {"mae": mae}, {"mae": baseline_mae}, params={"slope": slope})


def _train(name: str, store, mae: float, baseline_mae: float, slope: float = 2.0):
    tags = tracking.run_tags(name, dagster_run_id="run-0001", partition_key=None, sha="abc123")
    return record_training(name, _toy(slope, mae, baseline_mae), store, tags)


def test_promotion_moves_champion_only_for_a_better_challenger(mlflow_store, mlflow_client):
    name = "toy_promotion"
    first = _train(name, mlflow_store, mae=1.0, baseline_mae=1.2)
    assert str(registry.version_by_alias(name, registry.CHALLENGER).version) == first.version.version
    assert registry.version_by_alias(name, registry.CHAMPION) is None

    decision = registry.review_challenger(name, "mae", higher_is_better=False)
    assert decision.promote, decision.reasons
    assert str(registry.version_by_alias(name, registry.CHAMPION).version) == first.version.version

    # Better than the baseline but worse than the champion: refused, the champion stays.
    worse = _train(name, mlflow_store, mae=1.1, baseline_mae=1.2)
    decision = registry.review_challenger(name, "mae", higher_is_better=False)
    assert not decision.promote
    assert any("does not beat the champion" in reason for reason in decision.reasons)
    assert decision.previous_champion == first.version.version
    assert str(registry.version_by_alias(name, registry.CHAMPION).version) == first.version.version
    assert str(registry.version_by_alias(name, registry.CHALLENGER).version) == worse.version.version
    tag = mlflow_client.get_model_version(name, worse.version.version).tags[registry.TAG_PROMOTION]
    assert tag.startswith("refused")

    # Better than the champion but not than its own baseline: refused too.
    _train(name, mlflow_store, mae=0.9, baseline_mae=0.8)
    decision = registry.review_challenger(name, "mae", higher_is_better=False)
    assert not decision.promote
    assert any("does not beat the baseline" in reason for reason in decision.reasons)

    best = _train(name, mlflow_store, mae=0.7, baseline_mae=0.8)
    assert registry.review_challenger(name, "mae", higher_is_better=False).promote
    assert str(registry.version_by_alias(name, registry.CHAMPION).version) == best.version.version
    # Re-running the gate on the same version keeps it.
    again = registry.review_challenger(name, "mae", higher_is_better=False)
    assert again.promote and "already is the champion" in again.reasons[0]


def test_first_challenger_worse_than_baseline_leaves_no_champion(mlflow_store, mlflow_client):
    name = "toy_no_champion"
    _train(name, mlflow_store, mae=1.3, baseline_mae=1.2)
    decision = registry.review_challenger(name, "mae", higher_is_better=False)
    assert not decision.promote and decision.previous_champion is None
    assert registry.version_by_alias(name, registry.CHAMPION) is None
    with pytest.raises(LookupError, match="no champion"):
        registry.load_by_alias(name)


def test_registered_version_has_signature_example_and_run_tags(mlflow_store, mlflow_client):
    import mlflow

    name = "toy_signature"
    recorded = _train(name, mlflow_store, mae=1.0, baseline_mae=1.2, slope=3.0)
    info = mlflow.models.get_model_info(recorded.version.uri)
    assert [spec.name for spec in info.signature.inputs] == ["x", "z"]
    assert info.saved_input_example_info is not None
    run = mlflow_client.get_run(recorded.version.run_id)
    assert run.data.tags[tracking.TAG_DAGSTER_RUN_ID] == "run-0001"
    assert run.data.tags[tracking.TAG_DAGSTER_PARTITION] == tracking.NO_PARTITION
    assert run.data.tags[tracking.TAG_GIT_SHA] == "abc123"
    assert run.data.metrics == {"mae": 1.0, "baseline_mae": 1.2}
    experiment = mlflow_client.get_experiment(run.info.experiment_id)
    assert experiment.name == name
    assert experiment.artifact_location == (mlflow_store.artifact_root / name).as_uri()
    registry.review_challenger(name, "mae", higher_is_better=False)
    model, version = registry.load_by_alias(name)
    assert version == recorded.version.version
    prediction = model.predict(pd.DataFrame({"x": [10.0], "z": [1.0]}))
    assert prediction[0] == pytest.approx(30.0)


@pytest.mark.parametrize(
    ("challenger", "champion", "baseline", "higher", "promote"),
    [
        (0.5, None, 0.6, False, True),
        (0.6, None, 0.6, False, False),  # a tie with the baseline is not a win
        (0.5, 0.5, 0.6, False, False),  # nor with the champion
        (0.8, 0.7, 0.6, True, True),
        (0.8, 0.9, 0.6, True, False),
        (0.8, None, None, True, False),  # no baseline: refused
        (float("nan"), None, 0.6, False, False),
    ],
)
def test_decide_promotion(challenger, champion, baseline, higher, promote):
    decision = registry.decide_promotion(
        {"m": challenger},
        None if champion is None else {"m": champion},
        None if baseline is None else {"m": baseline},
        "m",
        higher,
    )
    assert decision.promote is promote, decision.reasons
