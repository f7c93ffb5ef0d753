"""Shared fixtures: the ONE embedded warehouse folder of this pytest process, and a real S3 server.

chDB runs one engine folder per process at a time, so every in-process test uses the session `chdb_path` (its
own databases/tables inside it) and anything needing a second folder or a second lock holder runs in a
subprocess. See tests/README.md.
"""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # `tests.servers` must import under plain `pytest` too, not only `python -m`
    sys.path.insert(0, str(REPO_ROOT))

from tests.servers.seaweedfs import S3Server, seaweedfs_s3  # noqa: E402


@pytest.fixture(scope="session")
def chdb_path(tmp_path_factory) -> str:
    """The embedded warehouse folder every in-process test shares (never data/warehouse)."""
    return str(tmp_path_factory.mktemp("chdb") / "warehouse")


@pytest.fixture(scope="session")
def chdb_url(chdb_path) -> str:
    return f"chdb://{chdb_path}"


@pytest.fixture
def warehouse(chdb_url, tmp_path):
    """The session warehouse, open for the length of one test."""
    from ingestion.common.warehouse import open_warehouse

    with open_warehouse(chdb_url, str(tmp_path), owner="pytest") as opened:
        yield opened


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory) -> Iterator[S3Server]:
    """A SeaweedFS S3 server on 127.0.0.1 for the whole session: endpoint, keys and a ready bucket."""
    with seaweedfs_s3(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


# The longest test files (minutes each, measured in the full suite), started first. Under `pytest -n 2 --dist
# loadfile --no-loadscope-reorder` (scripts/test.sh) each worker takes the next file in collection order; by
# default xdist orders files by their number of tests, so these (few tests, long fixtures) ran alone at the end
# while the other worker sat idle. First, they run beside everything else.
LONGEST_FIRST = (
    "tests/integration/test_soak.py",
    "tests/end_to_end/test_bcb_slice.py",
    "tests/integration/test_ui_runs.py",
    "tests/end_to_end/test_bank_sources.py",
    "tests/integration/test_deployed_instance.py",
    "tests/security/test_secrets_at_rest.py",
    "tests/cluster/test_cluster_ddl_rendering.py",
)


def pytest_collection_modifyitems(config, items) -> None:
    rank = {path: position for position, path in enumerate(LONGEST_FIRST)}

    def order(item) -> int:
        path = Path(str(item.fspath)).resolve().relative_to(REPO_ROOT).as_posix()
        return rank.get(path, len(rank))

    items.sort(key=order)  # stable: the other files keep their order


# Folders whose test files share one expensive session fixture: each folder goes to ONE worker, so the fixture is
# built once. With plain `--dist loadfile` the files of tests/marts/ went to both workers and each built the demo
# warehouse (setups of 324 s and 244 s in the same run). pytest-xdist's `loadgroup` cannot do this on pytest 9
# (scripts/test.sh), so the scheduler below groups by these folders and by file elsewhere.
SHARED_SESSION_FIXTURE_DIRS = ("tests/marts/", "tests/ml/", "tests/dbt/")


def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "loadfile":  # another --dist asked for: xdist's own scheduler
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FolderOrFileScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return next((folder for folder in SHARED_SESSION_FIXTURE_DIRS if path.startswith(folder)), path)

    return FolderOrFileScheduling(config, log)
