"""`importau demo` / `importau dev` install the local instance config, and never overwrite someone else's."""

import os

import pytest

from orchestration.commands.local_instance import (
    EVENT_BATCH_SIZE,
    EVENT_BATCH_SIZE_ENV,
    MARKER,
    local_instance_yaml,
    prepare_local_instance,
)

DEPLOYED = "storage:\n  postgres:\n    postgres_url:\n      env: DAGSTER_PG_URL\n"


@pytest.fixture(autouse=True)
def _environment_restored():
    """prepare_local_instance sets the embedded defaults in os.environ; the other tests must not see them."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_a_new_home_gets_the_template(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(EVENT_BATCH_SIZE_ENV, raising=False)
    assert prepare_local_instance() == tmp_path / "home"
    assert (tmp_path / "home" / "dagster.yaml").read_text() == local_instance_yaml(tmp_path / "home")
    assert os.environ[EVENT_BATCH_SIZE_ENV] == EVENT_BATCH_SIZE  # its event log stores batches (test_sqlite_event_log)


def test_an_older_copy_of_the_template_is_updated(tmp_path, monkeypatch):
    (tmp_path / "dagster.yaml").write_text(f"{MARKER} (an older version)\nrun_retries:\n  enabled: true\n")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    prepare_local_instance()
    assert (tmp_path / "dagster.yaml").read_text() == local_instance_yaml(tmp_path)


def test_a_deployed_instance_config_is_never_overwritten(tmp_path, monkeypatch, capsys):
    (tmp_path / "dagster.yaml").write_text(DEPLOYED)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.delenv(EVENT_BATCH_SIZE_ENV, raising=False)
    prepare_local_instance()
    assert (tmp_path / "dagster.yaml").read_text() == DEPLOYED
    assert "as it is" in capsys.readouterr().err
    assert EVENT_BATCH_SIZE_ENV not in os.environ  # the deployed instance keeps Dagster's own setting
