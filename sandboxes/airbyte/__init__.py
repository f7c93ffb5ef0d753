"""A local stand-in for the Airbyte API (sources, connections, jobs) used by the Open Finance Airbyte path."""
