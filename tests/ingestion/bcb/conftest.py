"""Fixtures of the BCB ingestion tests: the real samples, the hand-broken fixtures, and the replay server.

The replay server runs on 127.0.0.1 (a free port) once per session; each test gets it with no pending faults
and an empty request log. Clients use tiny retry waits so failure paths take milliseconds.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingestion.bcb.client import BcbClient
from sandboxes.bcb_replay import layout
from sandboxes.bcb_replay.server import ReplayServer

SAMPLES = layout.DEFAULT_DATA_DIR / "sources" / "samples"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bcb"


@pytest.fixture(scope="session")
def sample():
    """Text of a real recorded answer from data/bcb_replay/sources/samples/."""
    return lambda name: (SAMPLES / name).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def broken():
    """Text of a hand-broken fixture from tests/fixtures/bcb/."""
    return lambda name: (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def replay_session() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        yield server


@pytest.fixture
def replay(replay_session: ReplayServer) -> Iterator[ReplayServer]:
    replay_session.clear_faults()
    replay_session.reset_requests()
    yield replay_session
    replay_session.clear_faults()


@pytest.fixture
def make_client(replay: ReplayServer):
    """A BcbClient on the replay server with tiny waits; keyword options override the defaults."""
    clients: list[BcbClient] = []

    def make(**options) -> BcbClient:
        settings = {"timeout": 5.0, "max_attempts": 3, "wait_initial": 0.001, "wait_max": 0.01, **options}
        clients.append(BcbClient(replay.sgs_base_url, replay.olinda_base_url, replay.closing_base_url, **settings))
        return clients[-1]

    yield make
    for made in clients:
        made.close()


@pytest.fixture
def client(make_client) -> BcbClient:
    return make_client()
