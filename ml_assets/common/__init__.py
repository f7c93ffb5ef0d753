"""Pieces every model shares (no Dagster): MLflow tracking, the registry and its promotion rule, plots, scores tables.

- `tracking`: where MLflow keeps runs (embedded SQLite under `$IMPORTAU_DATA_DIR/mlflow` or `MLFLOW_TRACKING_URI`),
  one experiment per model, the run tags (Dagster run id, partition, git sha);
- `registry`: log + register a version with signature and input example, aliases `challenger`/`champion`,
  `promote_if_better`;
- `plots`: matplotlib figures as PNG data-URI Markdown for Dagster metadata;
- `scores`: the `ml.<model>__scores` tables (model name, version and scoring time on every row).
"""
