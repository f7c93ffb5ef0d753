"""Real servers on 127.0.0.1 for integration tests, as plain helpers (fixtures: tests/conftest.py)."""
