"""The dbt resource builds no dbt adapter in the step's process (orchestration/resources/dbt_cli.py), and dbt still
runs: a real `dbt ls` through dagster-dbt. If a dagster-dbt upgrade renamed the method the resource replaces, the
invocation would carry an adapter again and this fails."""

from dagster_dbt import DbtCliResource

from orchestration.dbt_manifest import dbt_executable
from orchestration.defs.dbt import MANIFEST_PATH, dbt_project
from orchestration.resources.dbt_cli import DbtCli


def test_a_dbt_command_runs_without_an_adapter_in_the_calling_process(tmp_path, monkeypatch):
    monkeypatch.setenv("IMPORTAU_DATA_DIR", str(tmp_path))
    dbt = DbtCli(project_dir=dbt_project, dbt_executable=dbt_executable())
    invocation = dbt.cli(
        ["ls", "--select", "bcb_currencies", "--output", "name"],
        manifest=MANIFEST_PATH,
        target_path=tmp_path / "target",
        raise_on_error=True,
    )
    messages = [event.raw_event["info"]["msg"] for event in invocation.stream_raw_events()]
    assert invocation.is_successful()
    assert "bcb_currencies" in messages  # dbt ran and listed the seed
    assert invocation.adapter is None
    # and not because building one failed: the resource replaces a method dagster-dbt has
    assert "_initialize_dbt_core_adapter" in vars(DbtCliResource)
