"""One month's run of a file-drop asset and its raw load, for the ERP, customs and bank statement file-drop tests:
the drop's own resource plus a folder lake and the test's chDB warehouse, all under `tmp_path`."""

import dagster as dg

from orchestration.resources.lake import LakeResource
from orchestration.resources.warehouse import ClickHouseResource

DAY = "2024-12-31"  # the load day: the last day of the past month the run materializes
MONTH = "2024-12-01"


def materialize_month(tmp_path, chdb_url, assets: list, drop_resources: dict, selection=None):
    """Materialize `assets` (`selection` of them, default all) for `MONTH`; asserts the run succeeded."""
    resources = {
        **drop_resources,
        "lake": LakeResource(url=str(tmp_path / "lake"), data_dir=str(tmp_path)),
        "warehouse": ClickHouseResource(url=chdb_url, data_dir=str(tmp_path)),
    }
    result = dg.materialize(assets, selection=selection, partition_key=MONTH, resources=resources)
    assert result.success
    return result
