"""ML assets: per model, `ml/<model>__model`, its blocking `promotion` check and `ml/<model>__scores`.

Each model is one `MlModel` spec (factory.py) whose callables live in `ml_assets/<model>/`; add a model by adding
its module here. The ML automation sensor is in defs/automation.py.
"""

from orchestration.defs.ml import cash_flow, fx_forecast, supplier_delay, transaction_anomaly
from orchestration.defs.ml.factory import build

# one MlModel per model module
SPECS: list = [fx_forecast.spec, supplier_delay.spec, cash_flow.spec, transaction_anomaly.spec]

assets: list = []
checks: list = []
for _spec in SPECS:
    _assets, _checks = build(_spec)
    assets += _assets
    checks += _checks
