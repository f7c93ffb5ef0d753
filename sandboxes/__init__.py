"""Local stand-ins for the platform's outside world: the Banco Central replay, the demo company, the sandbox bank and
the Airbyte stand-in. Development and tests only: not part of the `importau` wheel (see sandboxes/README.md)."""
