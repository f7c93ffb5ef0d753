"""The cash-flow baseline as an MLflow pyfunc model: what `models:/cash_flow@champion` loads while the better
seasonal naive serves (baseline.py). Input: one row per target day with the movements on its weekday in the last
observed weeks (`seasonal_lag_1_brl`, ...); output: their mean over the first `seasons` weeks, BRL."""

import mlflow.pyfunc
import numpy as np
import pandas as pd

from ml_assets.cash_flow.baseline import LAG_COLUMNS


class SeasonalNaiveModel(mlflow.pyfunc.PythonModel):
    def __init__(self, seasons: int):
        if not 1 <= seasons <= len(LAG_COLUMNS):
            raise ValueError(f"seasons must be 1..{len(LAG_COLUMNS)}, not {seasons}")
        self.seasons = seasons

    @property
    def columns(self) -> list[str]:
        return list(LAG_COLUMNS[: self.seasons])

    def forecast(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[self.columns].astype(float).to_numpy().mean(axis=1)

    def predict(self, context, model_input, params=None):
        return self.forecast(model_input)
