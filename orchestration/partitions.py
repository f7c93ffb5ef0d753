"""Partition definitions, declared once."""

import dagster as dg

from orchestration.constants import BCB_START_DATE, BUSINESS_TIMEZONE, ERP_START_DATE, OPEN_FINANCE_START_DATE

# One partition per Brazilian calendar date, today included (PTAX is final ~13:00 BRT).
# Days without quotes (weekends, holidays) are valid empty partitions.
bcb_daily_partitions = dg.DailyPartitionsDefinition(start_date=BCB_START_DATE, timezone=BUSINESS_TIMEZONE, end_offset=1)

# One partition per São Paulo calendar date (the pull day): each re-reads the trailing window of transactions.
open_finance_daily_partitions = dg.DailyPartitionsDefinition(
    start_date=OPEN_FINANCE_START_DATE, timezone=BUSINESS_TIMEZONE, end_offset=1
)

# One partition per São Paulo calendar date on which ERP data was loaded (file drops processed, extractions run).
erp_daily_partitions = dg.DailyPartitionsDefinition(start_date=ERP_START_DATE, timezone=BUSINESS_TIMEZONE, end_offset=1)
