"""Open Finance Brasil: `ingest.py` (the pull into the lake and the raw loads) and `quality.py` (their checks)."""

from orchestration.defs.open_finance.ingest import assets, open_finance_pull, raw_assets
from orchestration.defs.open_finance.quality import checks

__all__ = ["assets", "checks", "open_finance_pull", "raw_assets"]
