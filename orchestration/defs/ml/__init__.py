"""ML assets: per model, `ml/<model>__model`, its blocking `promotion` check and `ml/<model>__scores`.

Each model is one `MlModel` spec (factory.py) whose callables live in `ml_assets/<model>/`; add a model by adding
its module here. The ML automation sensor is in defs/automation.py.
"""

from orchestration.defs.ml import fx_forecast
from orchestration.defs.ml.factory import build

SPECS: list = [fx_forecast.spec]  # one MlModel per model module

assets: list = []
checks: list = []
for _spec in SPECS:
    _assets, _checks = build(_spec)
    assets += _assets
    checks += _checks
