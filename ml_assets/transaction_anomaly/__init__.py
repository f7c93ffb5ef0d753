"""Transaction anomalies: unusual bank movements (amount, counterparty, timing, duplicates), ranked by an
isolation forest and judged by precision@k against anomalies known from elsewhere (the demo's planted ones).

- `features`: the columns of `ml.ml_transaction_anomaly__features` (one row per posted bank movement);
- `model`: the sklearn Pipeline (an IsolationForest on the engineered features; score = -score_samples, higher is
  more anomalous);
- `evaluation`: precision@k and recall@k of the model's ranking and of a one-feature baseline (|amount z-score|).
The labels are used for evaluation only, never as a feature. No Dagster here.
"""
