"""FX forecast (USD/BRL, EUR/BRL, 1 to 20 business days ahead) with prediction intervals. No Dagster.

features.py (the twin of the dbt features model, and targets), model.py (random-walk or ridge point, conformal
intervals), backtest.py (walk-forward against the random walk), train.py (train/evaluate/score entry points),
plots.py (fan chart, backtest figures), pyfunc.py (the MLflow model), baseline.py (the random walk with the
empirical interval: the backtest's baseline, served while no model beats it). See ml_assets/README.md.
"""
