import pytest


@pytest.fixture(scope="session")
def definitions(tmp_path_factory):
    """The Dagster definitions, loaded the way the code location loads them (manifest parsed first)."""
    import os

    os.environ.setdefault("IMPORTAU_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    os.environ.setdefault("APP_ENV", "ci")
    from orchestration.commands.dbt_manifest import prepare_manifest

    prepare_manifest()
    from orchestration.definitions import defs

    return defs
