"""The FX champion served by MLflow's own model server (`mlflow models serve --env-manager local`) on 127.0.0.1."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest

from ml_assets.common import tracking
from ml_assets.fx_forecast.model import INPUT_COLUMNS, scoring_input
from ml_assets.fx_forecast.train import MODEL_NAME

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(process: subprocess.Popen, url: str, log: Path, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"mlflow models serve exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"mlflow models serve not ready after {timeout} s:\n{log.read_text()[-4000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_champion_served_over_http(fx_champion, mlflow_store, fx_features, fx_trained, tmp_path):
    port = _free_port()
    log = tmp_path / "serve.log"
    venv_bin = str(Path(sys.executable).parent)  # the server execs `uvicorn` from PATH
    env = {
        **os.environ,
        **tracking.OFFLINE_ENV,
        "MLFLOW_TRACKING_URI": mlflow_store.tracking_uri,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = [
        str(Path(venv_bin) / "mlflow"),
        "models",
        "serve",
        "-m",
        f"models:/{MODEL_NAME}@champion",
        "--env-manager",
        "local",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "--workers",
        "1",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_ready(process, f"http://127.0.0.1:{port}/ping", log)
        frame = scoring_input(fx_features)[list(INPUT_COLUMNS)]  # latest origin of USD and EUR x 20 horizons
        payload = {"dataframe_split": {"columns": list(frame.columns), "data": frame.to_numpy().tolist()}}
        response = httpx.post(f"http://127.0.0.1:{port}/invocations", json=payload, timeout=60.0)
        assert response.status_code == 200, response.text
        predictions = pd.DataFrame(response.json()["predictions"])
    finally:
        _stop(process)
    assert list(predictions.columns) == ["horizon", "point_forecast", "lower_bound", "upper_bound"]
    assert len(predictions) == len(frame) == 40
    assert predictions["horizon"].tolist() == frame["horizon"].tolist()
    assert (predictions["lower_bound"] < predictions["point_forecast"]).all()
    assert (predictions["point_forecast"] < predictions["upper_bound"]).all()
    expected = fx_trained.model.forecaster.predict(frame)
    pd.testing.assert_frame_equal(predictions, expected, check_dtype=False, rtol=1e-12)
