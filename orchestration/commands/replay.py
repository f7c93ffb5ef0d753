"""The BCB replay server for the offline demo and the local UI: real recorded responses in the live formats."""

from collections.abc import Iterator
from contextlib import contextmanager

from sandboxes.bcb_replay.server import ReplayServer


@contextmanager
def bcb_replay_env() -> Iterator[dict[str, str]]:
    """Start the replay server on 127.0.0.1 and yield the BCB_* base-URL variables pointing at it."""
    with ReplayServer() as server:
        yield server.env()
