"""The local Dagster instance of the embedded default: its config template and its event log storage."""
