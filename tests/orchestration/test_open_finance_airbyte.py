"""Airbyte-managed mode through Dagster, against the local stand-in of the Airbyte API."""

import json

import dagster as dg
import pyarrow.parquet as pq
import pytest

from orchestration.defs.open_finance_airbyte import open_finance__airbyte_sync
from orchestration.resources.airbyte import AirbyteResource
from orchestration.resources.lake import LakeResource
from sandboxes.airbyte.server import FakeAirbyte

CONNECTION = "5b1e0c9a-2f4d-4b7e-8c3a-1d2e3f4a5b6c"
TOKEN = "dagster-test-airbyte-token"
ACCOUNT = {
    "accountId": "ACC-001",
    "brandName": "Banco A",
    "companyCnpj": "12345678000190",
    "type": "CONTA_DEPOSITO_A_VISTA",
    "compeCode": "341",
    "branchCode": "0001",
    "number": "12345",
    "checkDigit": "6",
}


def _resources(tmp_path, url):
    return {
        "airbyte": AirbyteResource(server_url=url, connection_id=CONNECTION, api_token=TOKEN, poll_interval_seconds=0),
        "lake": LakeResource(url=str(tmp_path / "lake"), data_dir=str(tmp_path)),
    }


def _land_accounts(tmp_path):
    folder = tmp_path / "lake" / "airbyte" / "open_finance" / "accounts"
    folder.mkdir(parents=True)
    record = {"_airbyte_raw_id": "r1", "_airbyte_extracted_at": "2024-12-31T12:00:00Z", "_airbyte_data": ACCOUNT}
    (folder / "part_0.jsonl").write_text(json.dumps(record) + "\n")


def test_a_successful_sync_lands_the_connection_output_as_our_datasets(tmp_path):
    _land_accounts(tmp_path)
    with FakeAirbyte(connections={CONNECTION: ["running", "succeeded"]}, bearer_tokens={TOKEN}) as fake:
        result = dg.materialize([open_finance__airbyte_sync], resources=_resources(tmp_path, fake.url))
        created = [call for call in fake.calls("POST") if call.path.endswith("/jobs")]
    assert result.success
    assert len(created) == 1 and created[0].body["connectionId"] == CONNECTION
    metadata = result.asset_materializations_for_node("lake__open_finance__airbyte_sync")[0].metadata
    assert metadata["airbyte_job_status"].value == "succeeded"
    assert metadata["rows_by_entity"].value == {"accounts": 1}
    assert TOKEN not in json.dumps({k: str(v.value) for k, v in metadata.items()})
    (written,) = (tmp_path / "lake" / "open_finance_airbyte" / "accounts").rglob("part-000.parquet")
    assert pq.read_table(written)["account_id"].to_pylist() == ["ACC-001"]
    (quality,) = result.get_asset_check_evaluations()  # the DuckDB profile of what landed (defs/lake_quality.py)
    assert quality.check_name == "lake_quality" and quality.passed
    (profiled,) = metadata["profile_by_dataset"].records
    assert (profiled.data["dataset"], profiled.data["rows"]) == ("open_finance_airbyte/accounts", 1)


def test_a_failed_sync_fails_the_asset_with_the_job_status(tmp_path):
    with FakeAirbyte(connections={CONNECTION: ["running", "failed"]}, bearer_tokens={TOKEN}) as fake:
        with pytest.raises(dg.Failure, match="failed"):
            dg.materialize([open_finance__airbyte_sync], resources=_resources(tmp_path, fake.url))


def test_without_configuration_the_asset_says_what_to_set(tmp_path):
    resources = {"airbyte": AirbyteResource(), "lake": LakeResource(url=str(tmp_path / "lake"), data_dir="")}
    with pytest.raises(dg.Failure, match="AIRBYTE_OPEN_FINANCE_CONNECTION_ID"):
        dg.materialize([open_finance__airbyte_sync], resources=resources)
