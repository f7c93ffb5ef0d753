"""The FX forecaster as an MLflow pyfunc model: what `models:/fx_forecast@champion` loads and `mlflow models serve`
serves. Input: one row per currency x horizon with the latest features (model.INPUT_COLUMNS); output: horizon,
point_forecast, lower_bound, upper_bound in BRL per unit of the currency, in the input's order. The same wrapper
serves the baseline (baseline.RandomWalkQuantiles, same input and output) while no model beats it."""

import mlflow.pyfunc

from ml_assets.fx_forecast.model import FxForecaster


class FxForecastModel(mlflow.pyfunc.PythonModel):
    def __init__(self, forecaster: FxForecaster):  # or a baseline.RandomWalkQuantiles
        self.forecaster = forecaster

    def predict(self, context, model_input, params=None):
        return self.forecaster.predict(model_input)
