"""Where MLflow keeps runs and models, one experiment per model, and the tags every run carries. No Dagster.

Embedded default: a SQLite backend store `<data_dir>/mlflow/mlflow.db` and an artifact folder
`<data_dir>/mlflow/artifacts/<model>` (one per experiment). Production: `MLFLOW_TRACKING_URI=https://mlflow...`,
a tracking server that also proxies artifacts (so workers hold no object-store keys). The registry lives in the
same store. MLflow never phones home from here: `configure()` switches its telemetry and uv detection off unless
the environment says otherwise.
"""

import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ingestion.common.data_dir import REPO_ROOT, default_data_dir
from ingestion.common.redact import redact_url

# Run tags (STYLE.md section 11): which Dagster run and partition trained it, from which commit.
TAG_DAGSTER_RUN_ID = "dagster.run_id"
TAG_DAGSTER_PARTITION = "dagster.partition"
TAG_GIT_SHA = "git.sha"
TAG_MODEL_NAME = "importau.model"
MLFLOW_GIT_COMMIT_TAG = "mlflow.source.git.commit"  # MLflow's own tag, shown in its UI
# MLflow's own experiment tags: the description its UI shows, and the kind of work, which makes MLflow 3's UI open
# an experiment on its classic runs/models view instead of its GenAI (traces, prompts) pages.
MLFLOW_NOTE_TAG = "mlflow.note.content"
MLFLOW_EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
CLASSIC_ML_KIND = "custom_model_development"

NO_PARTITION = "unpartitioned"


@dataclass(frozen=True)
class TrackingConfig:
    """The tracking (and registry) URI, and the artifact root when MLflow is embedded (None for a server)."""

    tracking_uri: str
    artifact_root: Path | None = None

    @property
    def is_embedded(self) -> bool:
        return self.artifact_root is not None

    def artifact_location(self, experiment: str) -> str | None:
        """Where a new experiment keeps its artifacts: its own folder when embedded, the server's choice else."""
        return (self.artifact_root / experiment).as_uri() if self.artifact_root is not None else None

    def __str__(self) -> str:
        # A server URI may carry user:password or a token in its query: masked.
        return self.tracking_uri if self.is_embedded else redact_url(self.tracking_uri)


def resolve_tracking(tracking_uri: str | None = None, data_dir: str | None = None) -> TrackingConfig:
    """`tracking_uri` if given (a server, or any URI MLflow knows), else SQLite under `<data_dir>/mlflow`."""
    if tracking_uri:
        if tracking_uri.startswith("sqlite:///"):
            database = Path(tracking_uri.removeprefix("sqlite:///"))
            return TrackingConfig(tracking_uri, database.parent / "artifacts")
        return TrackingConfig(tracking_uri)
    root = Path(data_dir or default_data_dir()).expanduser().resolve() / "mlflow"
    return TrackingConfig(f"sqlite:///{root / 'mlflow.db'}", root / "artifacts")


def tracking_from_env() -> TrackingConfig:
    """MLFLOW_TRACKING_URI, else the embedded store under $IMPORTAU_DATA_DIR (pure code and tests use this)."""
    return resolve_tracking(os.environ.get("MLFLOW_TRACKING_URI"), os.environ.get("IMPORTAU_DATA_DIR"))


OFFLINE_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",  # MLflow 3 sends usage telemetry unless told not to
    "DO_NOT_TRACK": "true",
    # MLflow detects uv.lock and would run `uv export` and copy uv files into every model; we pin requirements.
    "MLFLOW_UV_AUTO_DETECT": "false",
    "MLFLOW_LOG_UV_FILES": "false",
}


def offline_environment() -> None:
    """Nothing MLflow does from here may reach the internet (set only where the environment says nothing)."""
    for name, value in OFFLINE_ENV.items():
        os.environ.setdefault(name, value)


def configure(config: TrackingConfig) -> TrackingConfig:
    """Point this process's MLflow (tracking and registry) at `config`; creates the embedded folders."""
    offline_environment()
    import mlflow

    if config.artifact_root is not None:
        config.artifact_root.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(config.tracking_uri)
    mlflow.set_registry_uri(config.tracking_uri)
    return config


def ensure_experiment(model_name: str, config: TrackingConfig) -> str:
    """The id of the model's experiment (named after the model), created on first use."""
    from mlflow import MlflowClient

    client = MlflowClient(config.tracking_uri, config.tracking_uri)
    found = client.get_experiment_by_name(model_name)
    if found is not None:
        return found.experiment_id
    return client.create_experiment(
        model_name,
        artifact_location=config.artifact_location(model_name),
        tags={TAG_MODEL_NAME: model_name, MLFLOW_EXPERIMENT_KIND_TAG: CLASSIC_ML_KIND},
    )


def describe_model(model_name: str, description: str, config: TrackingConfig) -> None:
    """Give the model's experiment and registered model their description (idempotent; the UI shows both).

    The experiment also gets MLflow's `experimentKind` tag (classic model development), so its UI lands on runs and
    models, not on the GenAI pages.
    """
    from mlflow import MlflowClient

    client = MlflowClient(config.tracking_uri, config.tracking_uri)
    experiment_id = ensure_experiment(model_name, config)
    client.set_experiment_tag(experiment_id, MLFLOW_NOTE_TAG, description)
    client.set_experiment_tag(experiment_id, MLFLOW_EXPERIMENT_KIND_TAG, CLASSIC_ML_KIND)
    if client.search_registered_models(filter_string=f"name = '{model_name}'"):
        client.update_registered_model(model_name, description=description)


def git_sha(repo_root: Path = REPO_ROOT) -> str:
    """The commit the code runs from: $GIT_SHA (set by image builds), else `git rev-parse HEAD`, else unknown."""
    if os.environ.get("GIT_SHA"):
        return os.environ["GIT_SHA"]
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo_root, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def run_tags(model_name: str, dagster_run_id: str, partition_key: str | None, sha: str | None = None) -> dict:
    """The tags of every training run: Dagster run id, partition (or `unpartitioned`), git sha, model."""
    sha = sha or git_sha()
    return {
        TAG_MODEL_NAME: model_name,
        TAG_DAGSTER_RUN_ID: dagster_run_id,
        TAG_DAGSTER_PARTITION: partition_key or NO_PARTITION,
        TAG_GIT_SHA: sha,
        MLFLOW_GIT_COMMIT_TAG: sha,
    }


@contextmanager
def training_run(
    model_name: str, config: TrackingConfig, tags: Mapping[str, str], run_name: str | None = None
) -> Iterator:
    """An active MLflow run in the model's experiment, tagged; ended (FAILED on an exception) on exit."""
    import mlflow

    configure(config)
    experiment_id = ensure_experiment(model_name, config)
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=dict(tags)) as run:
        yield run
