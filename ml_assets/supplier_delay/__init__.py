"""Supplier delay risk: the probability that a shipment arrives late, calibrated, judged against the base rate.

- `features`: the columns of `ml.ml_supplier_delay__features` the model reads (one row per shipment, features as of
  the shipment's departure, history only from shipments whose outcome was known before it);
- `model`: the sklearn Pipeline (one-hot route/season + numeric history -> logistic regression, sigmoid-calibrated);
- `evaluation`: the time-ordered backtest, Brier score against the base-rate Brier, the reliability curve.
No Dagster here.
"""
