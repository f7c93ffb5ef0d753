"""A real MLflow store for the ML tests: SQLite backend and artifact folder in a temporary directory.

Creating the SQLite schema takes MLflow several seconds, so one store serves the whole session; each test
registers its own model names.
"""

import pytest

from ml_assets.common import tracking


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory) -> tracking.TrackingConfig:
    root = tmp_path_factory.mktemp("mlflow")
    return tracking.configure(tracking.resolve_tracking(f"sqlite:///{root / 'mlflow.db'}"))


@pytest.fixture
def mlflow_client(mlflow_store):
    from mlflow import MlflowClient

    tracking.configure(mlflow_store)  # another test may have pointed MLflow elsewhere
    return MlflowClient(mlflow_store.tracking_uri, mlflow_store.tracking_uri)
