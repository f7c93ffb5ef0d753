"""A real MLflow store for the ML tests: SQLite backend and artifact folder in a temporary directory.

Creating the SQLite schema takes MLflow several seconds, so one store serves the whole session; each test
registers its own model names.
"""

import pytest

from ml_assets.common import registry, tracking


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory) -> tracking.TrackingConfig:
    root = tmp_path_factory.mktemp("mlflow")
    return tracking.configure(tracking.resolve_tracking(f"sqlite:///{root / 'mlflow.db'}"))


@pytest.fixture
def mlflow_client(mlflow_store):
    from mlflow import MlflowClient

    tracking.configure(mlflow_store)  # another test may have pointed MLflow elsewhere
    return MlflowClient(mlflow_store.tracking_uri, mlflow_store.tracking_uri)


@pytest.fixture(scope="session")
def fx_features():
    """Features of the real PTAX history in data/reference (USD 2015-04..2024, EUR 2015..2024)."""
    from ml_assets.fx_forecast.features import features_from_rates, read_reference_history

    return features_from_rates(read_reference_history())


@pytest.fixture(scope="session")
def fx_trained(fx_features):
    """The FX model trained and backtested over the whole real history (refit every 60 business days here to
    keep the suite fast; the asset refits every 20, benchmarks/fx_forecast_backtest.py reports both)."""
    from ml_assets.fx_forecast.train import train

    return train(fx_features, seed=42, step=60)


@pytest.fixture(scope="session")
def fx_champion(mlflow_store, fx_trained):
    """`fx_trained` registered as `fx_forecast` in the session store and promoted by the gate."""
    from ml_assets.common.training import record_training
    from ml_assets.fx_forecast.train import HIGHER_IS_BETTER, MODEL_NAME, PROMOTION_METRIC

    tracking.configure(mlflow_store)
    tags = tracking.run_tags(MODEL_NAME, dagster_run_id="pytest", partition_key=None, sha="test")
    recorded = record_training(MODEL_NAME, fx_trained, mlflow_store, tags)
    decision = registry.review_challenger(MODEL_NAME, PROMOTION_METRIC, HIGHER_IS_BETTER)
    assert decision.promote, decision.reasons
    return recorded.version
