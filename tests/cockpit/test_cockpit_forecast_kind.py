"""The Câmbio page says when its forecast band is the FX model's baseline: `PTAX_FORECAST_KIND` reads the
`model_kind` of the latest forecast through the cockpit's data layer, and a scores table from before that column
(until its next scoring run adds it) reads as unknown rather than failing the page."""

import json
import subprocess
import sys

from tests.dbt.dbt_harness import REPO, dbt_env

SCRIPT = r"""
import json, sys
from datetime import date
from decimal import Decimal
from cockpit.data import CockpitData, Filters
from cockpit.views.cambio import forecast_kind
from ingestion.common.warehouse import open_warehouse
from ingestion.common.warehouse_snapshot import publish_snapshot
from ml_assets.common.scores import write_scores
from ml_assets.fx_forecast.train import SCORES_TABLE

data_dir = sys.argv[1]


class Context:  # what forecast_kind reads of the page's context
    def __init__(self):
        self.data = CockpitData("", data_dir)
        self.filters = Filters(date(2024, 1, 1), date(2024, 12, 31))


row = {
    "currency": "USD", "origin_date": date(2024, 12, 30), "horizon_days": 1, "target_date": date(2024, 12, 31),
    "forecast_rate": Decimal("6.1"), "lower_rate": Decimal("6.0"), "upper_rate": Decimal("6.2"), "interval_level": 0.9,
}
seen = {}
for kind in ("baseline", "model"):
    with open_warehouse(None, data_dir, owner="test") as warehouse:
        write_scores(warehouse.client, SCORES_TABLE, [row], "3", model_kind=kind)
        publish_snapshot(warehouse.client, warehouse.target.chdb_path, source="test")
    context = Context()
    seen[kind] = forecast_kind(context)
    context.data.close()
with open_warehouse(None, data_dir, owner="test") as warehouse:  # a table from before model_kind
    warehouse.command("ALTER TABLE ml.fx_forecast__scores DROP COLUMN model_kind")
    publish_snapshot(warehouse.client, warehouse.target.chdb_path, source="test")
context = Context()
seen["before the column"] = forecast_kind(context)
seen["forecast rows"] = len(context.data.frame("PTAX_FORECAST", context.filters, optional=True))
context.data.close()
print(json.dumps(seen))
"""


def test_the_forecast_kind_is_read_and_a_table_without_it_reads_as_unknown(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        env=dbt_env(tmp_path),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"baseline": "baseline", "model": "model", "before the column": None, "forecast rows": 1}
