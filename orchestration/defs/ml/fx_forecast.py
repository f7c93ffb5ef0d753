"""The FX forecast model (USD/BRL, EUR/BRL, 1-20 business days, 90 % intervals): ml_assets/fx_forecast/."""

from ml_assets.fx_forecast import data, train
from orchestration.defs.ml.factory import model_spec


def _score(champion, inputs) -> list[dict]:
    latest, business_days = inputs
    return train.score(champion, latest, business_days)


spec = model_spec(
    train,
    features_model="ml_fx_forecast__features",
    description=(
        "FX forecast of the PTAX selling rate of USD and EUR, 1 to 20 business days ahead, with 90 % prediction "
        "intervals. Walk-forward backtest against the random walk (tomorrow = today): the metadata reports the "
        "MAE ratio per horizon and the interval coverage; when the learned point forecast does not beat the "
        "random walk, the served point forecast is the random walk and the value is in the intervals."
    ),
    load_training_data=data.training_features,
    load_scoring_data=data.scoring_inputs,
    score=_score,
    scores_description=(
        "FX forecast of the champion (or, while no model beats it, of the random-walk baseline: model_kind): one "
        "row per currency x forecast origin (the latest PTAX date) x horizon "
        "(1-20 business days), with the forecast rate, the bounds of its 90 % interval and the model version."
    ),
)
