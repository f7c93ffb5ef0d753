"""Cash-flow forecast: the company's daily net cash movement (all bank accounts, BRL) for the next 90 days.

- `features`: the columns of `ml.ml_cash_flow__features` (one row per forecast origin x target day: the receivables
  and payables due that day as the ERP knew them at the origin, calendar, trailing bank flows);
- `model`: the sklearn Pipeline (Huber regression on the dues and the business-day flag);
- `evaluation`: walk-forward backtest against seasonal-naive forecasts (same weekday of the last week, and the mean
  of the last four), MAE and MAE ratio;
- `baseline`, `pyfunc`: the better of those seasonal naives as a servable pyfunc, which serves while no model
  beats it (ml_assets/common/baseline.py).
No Dagster here.
"""
