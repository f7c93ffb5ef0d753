"""Open Finance Brasil: the pull into the lake, raw loads and their checks (see assets.py and checks.py)."""

from orchestration.defs.open_finance.assets import assets, open_finance_pull, raw_assets
from orchestration.defs.open_finance.checks import checks

__all__ = ["assets", "checks", "open_finance_pull", "raw_assets"]
