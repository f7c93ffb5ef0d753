"""MLflow as a Dagster resource: embedded (SQLite + artifact folder under IMPORTAU_DATA_DIR) or a tracking server."""

from typing import ClassVar

import dagster as dg
from pydantic import Field

from ml_assets.common.tracking import TrackingConfig, configure, resolve_tracking
from orchestration.resources.settings import FromEnvironment, resolve_data_dir


class MLflowResource(FromEnvironment, dg.ConfigurableResource):
    """Where training runs and registered models live; `configure()` points this process's MLflow there."""

    ENV: ClassVar[dict[str, str]] = {"tracking_uri": "MLFLOW_TRACKING_URI"}

    tracking_uri: str | None = Field(
        default=None,
        repr=False,  # a server URI may carry credentials
        description="empty: sqlite:///<data_dir>/mlflow/mlflow.db with artifacts in <data_dir>/mlflow/artifacts; "
        "else MLFLOW_TRACKING_URI (e.g. https://mlflow.example.com, which proxies artifacts)",
    )
    data_dir: str = Field(default="", description="IMPORTAU_DATA_DIR; the embedded store is <data_dir>/mlflow")

    def store(self) -> TrackingConfig:
        return resolve_tracking(self.setting("tracking_uri") or None, resolve_data_dir(self.data_dir))

    def configure(self) -> TrackingConfig:
        """Point MLflow (tracking and registry) at this store, telemetry off; returns where that is."""
        return configure(self.store())

    def describe(self) -> str:
        """Where the store is, without credentials (for logs and metadata)."""
        return str(self.store())
