"""A local stand-in for Pluggy's data API serving the demo company's bank truth (README in sandboxes/)."""

from sandboxes.pluggy.server import PluggyStandIn

__all__ = ["PluggyStandIn"]
