"""A run that needs MLflow starts MLflow's and the sklearn flavour's imports when its resources are set up, so its
first scoring step does not pay them after dbt (issue 10). Run in a fresh interpreter: the test process itself has
long imported MLflow."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

RUN = textwrap.dedent(
    """
    import sys, tempfile, threading

    import dagster as dg

    from ml_assets.common.tracking import SERVING_IMPORTS
    from orchestration.resources.mlflow import MLflowResource

    assert not any(name in sys.modules for name in SERVING_IMPORTS), "imported before the run"


    @dg.asset
    def first_step() -> None:  # needs no MLflow, as the daily's dbt step
        importers = [t for t in threading.enumerate() if t.name == "importau-ml-imports"]
        assert importers, "no background import running when the run's first step starts"
        importers[0].join(timeout=300)
        assert not importers[0].is_alive(), "the imports took over 300 s"
        missing = [name for name in SERVING_IMPORTS if name not in sys.modules]
        assert not missing, missing


    @dg.asset(deps=[first_step])
    def scoring(mlflow: MLflowResource) -> None:
        mlflow.configure()


    with tempfile.TemporaryDirectory() as folder:
        result = dg.materialize([first_step, scoring], resources={"mlflow": MLflowResource(data_dir=folder)})
        assert result.success
    print("WARM OK")
    """
)


def test_a_run_with_mlflow_imports_it_in_the_background_before_its_first_step():
    done = subprocess.run(
        [sys.executable, "-c", RUN], cwd=REPO, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0 and "WARM OK" in done.stdout, done.stderr[-4000:]


def test_a_failed_background_import_is_left_to_the_module_s_own_importer():
    code = textwrap.dedent(
        """
        import importlib
        from ml_assets.common.tracking import import_in_background

        thread = import_in_background(["json", "importau_no_such_module"])
        thread.join(timeout=60)
        assert not thread.is_alive()
        try:
            importlib.import_module("importau_no_such_module")
        except ModuleNotFoundError as error:
            print("RAISED", error.name)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "RAISED importau_no_such_module" in done.stdout


def test_the_background_imports_write_nothing_into_the_environment_once_it_is_prepared():
    """The background thread must not change os.environ while the run's main thread may be copying it for dbt's
    subprocess (a RuntimeError there): everything these imports write is set beforehand (`IMPORT_ENV`)."""
    code = textwrap.dedent(
        """
        import importlib, os

        from ml_assets.common.tracking import SERVING_IMPORTS, import_environment

        import_environment()
        before = dict(os.environ)
        for name in SERVING_IMPORTS:
            importlib.import_module(name)
        changed = {k: v for k, v in os.environ.items() if before.get(k) != v}
        assert not changed and set(before) <= set(os.environ), changed
        print("ENV UNCHANGED")
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KMP_", "MLFLOW_", "DO_NOT_TRACK"))}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0 and "ENV UNCHANGED" in done.stdout, done.stderr[-3000:]
