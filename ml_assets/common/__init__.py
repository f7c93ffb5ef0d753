"""Pieces every model shares (no Dagster): MLflow tracking, the registry and its promotion rule, plots, scores tables.

- `tracking`: where MLflow keeps runs (embedded SQLite under `$IMPORTAU_DATA_DIR/mlflow` or `MLFLOW_TRACKING_URI`),
  one experiment per model, the run tags (Dagster run id, partition, git sha);
- `registry`: log + register a version with signature and input example, aliases `challenger`/`champion`,
  `promote_if_better`, the kind of a version (trained model or baseline);
- `baseline`: the baseline serves until a model beats it (logged with each run, registered and aliased
  `champion` by the gate when a challenger is refused and no trained model serves);
- `plots`: matplotlib figures as PNG data-URI Markdown for Dagster metadata;
- `scores`: the `ml.<model>__scores` tables (model name, version, kind and scoring time on every row).
"""
