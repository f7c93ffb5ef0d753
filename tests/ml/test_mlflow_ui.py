"""`importau mlflow`: the lean MLflow UI on an embedded store, and the descriptions a training run leaves there.

The store is real (SQLite + artifact folder, a model trained and registered through `record_training`), the UI is
the real `mlflow server` started by the command; the test reads back over its REST API what a person sees.
"""

import json
import os
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

from ml_assets.common import tracking
from ml_assets.common.training import TrainingResult, record_training
from tests.servers.processes import free_port, pids_with_env, started_group

REPO = Path(__file__).resolve().parents[2]
DESCRIPTION = "Toy model: predicts y from x. Owner: data team."
START_BOUND_S = 120


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _wait_healthy(base: str, log: Path) -> None:
    deadline = time.monotonic() + START_BOUND_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"the MLflow UI did not answer within {START_BOUND_S} s:\n{log.read_text()[-3000:]}")


def _train_described(data_dir: Path, name: str) -> None:
    store = tracking.configure(tracking.resolve_tracking(None, str(data_dir)))
    x = pd.DataFrame({"x": np.arange(10, dtype=float)})
    result = TrainingResult(LinearRegression().fit(x, 2 * x["x"]), x.head(2), {"mae": 0.1}, {"mae": 0.5})
    record_training(name, result, store, tracking.run_tags(name, "run-ui-0001", None, sha="abc123"))
    tracking.describe_model(name, DESCRIPTION, store)


def test_describe_model_is_idempotent_and_marks_the_experiment_classic(tmp_path):
    store = tracking.configure(tracking.resolve_tracking(None, str(tmp_path)))
    from mlflow import MlflowClient

    client = MlflowClient(store.tracking_uri, store.tracking_uri)
    tracking.describe_model("toy_not_registered", "first", store)  # no registered model yet: experiment only
    tracking.describe_model("toy_not_registered", "second", store)
    experiment = client.get_experiment_by_name("toy_not_registered")
    assert experiment.tags[tracking.MLFLOW_NOTE_TAG] == "second"
    assert experiment.tags[tracking.MLFLOW_EXPERIMENT_KIND_TAG] == tracking.CLASSIC_ML_KIND
    assert client.search_registered_models(filter_string="name = 'toy_not_registered'") == []


def test_lean_ui_serves_the_described_store_in_three_processes_and_stops_clean(tmp_path):
    data_dir = tmp_path / "data"
    _train_described(data_dir, "toy_ui")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    marker = f"IMPORTAU_DATA_DIR={data_dir}"
    env = {**os.environ, "IMPORTAU_DATA_DIR": str(data_dir)}
    env.pop("MLFLOW_TRACKING_URI", None)
    command = [sys.executable, "-m", "orchestration.cli", "mlflow", "--port", str(port)]
    log = tmp_path / "mlflow_ui.log"
    with started_group(command, env, log, marker, cwd=REPO, bound_s=30):
        _wait_healthy(base, log)
        # importau itself, `mlflow server`, and its single uvicorn worker; no huey job consumers.
        processes = pids_with_env(marker)
        assert len(processes) <= 3, f"{len(processes)} processes: {processes}"
        experiments = _get(f"{base}/api/2.0/mlflow/experiments/get-by-name?experiment_name=toy_ui")["experiment"]
        tags = {tag["key"]: tag["value"] for tag in experiments["tags"]}
        assert tags[tracking.MLFLOW_NOTE_TAG] == DESCRIPTION
        assert tags[tracking.MLFLOW_EXPERIMENT_KIND_TAG] == tracking.CLASSIC_ML_KIND
        model = _get(f"{base}/api/2.0/mlflow/registered-models/get?name=toy_ui")["registered_model"]
        assert model["description"] == DESCRIPTION
    assert pids_with_env(marker) == []


def test_no_store_is_a_clear_error(tmp_path):
    import subprocess

    env = {**os.environ, "IMPORTAU_DATA_DIR": str(tmp_path / "empty")}
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "mlflow", "--port", str(free_port())],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "no MLflow store" in done.stderr and "importau demo" in done.stderr
