"""Airbyte-managed mode: `AirbyteSync` (the real `airbyte-api` SDK) against a local Airbyte API stand-in, and
reading what a connection wrote to the lake."""

import gzip
import json
import uuid
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestion.common.lake import LocalLake
from ingestion.open_finance.airbyte import (
    AirbyteApiError,
    AirbyteAuthError,
    AirbyteJobFailed,
    AirbyteOutputMissing,
    AirbyteSync,
    AirbyteTimeout,
    entity_table,
    read_airbyte_output,
)
from ingestion.open_finance.schemas import SCHEMAS
from sandboxes.airbyte.server import FakeAirbyte

CONNECTION = "9f3c1a52-6f2b-4d3e-9a1c-0b6f7e2d4c11"
SECRET = "s3cr3t-airbyte-client-secret"
STATIC_TOKEN = "static-application-token-xyz"


@pytest.fixture
def client_id():
    # The SDK caches tokens per (client id, secret) for the whole process: a fresh id per test keeps tests apart.
    return f"client-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def airbyte(client_id):
    fake = FakeAirbyte(
        connections={CONNECTION: ["running", "succeeded"]},
        clients={client_id: SECRET},
        bearer_tokens={STATIC_TOKEN},
    )
    with fake:
        yield fake
    assert not fake.running  # stopped


def make_sync(airbyte, client_id, **kwargs):
    connection_id = kwargs.pop("connection_id", CONNECTION)
    settings = dict(
        client_id=client_id,
        client_secret=SECRET,
        timeout=10,
        poll_interval=0.01,
        retry_max_elapsed=2,
        retry_initial=0.01,
    )
    settings.update(kwargs)
    return AirbyteSync(airbyte.url, connection_id, **settings)


def assert_no_secret(*texts):
    for text in texts:
        assert SECRET not in text and STATIC_TOKEN not in text


def test_sync_succeeds_with_client_credentials(airbyte, client_id):
    result = make_sync(airbyte, client_id).run_sync()

    assert (result.connection_id, result.status, result.job_type) == (CONNECTION, "succeeded", "sync")
    assert result.rows_synced == 42 and result.bytes_synced == 4096 and result.polls == 2
    assert [(r.method, r.path) for r in airbyte.requests] == [
        ("POST", "/v1/applications/token"),
        ("POST", "/v1/jobs"),
        ("GET", f"/v1/jobs/{result.job_id}"),
        ("GET", f"/v1/jobs/{result.job_id}"),
    ]
    token_call, create, *polls = airbyte.requests
    assert token_call.body == {"grant_type": "client_credentials", "client_id": client_id, "client_secret": SECRET}
    assert create.body == {"connectionId": CONNECTION, "jobType": "sync"}
    token = airbyte.issued_tokens[0]
    assert all(r.headers["authorization"] == f"Bearer {token}" for r in [create, *polls])
    metadata = result.metadata()
    assert metadata["airbyte_job_id"] == result.job_id and metadata["airbyte_job_status"] == "succeeded"
    assert_no_secret(json.dumps(metadata), repr(make_sync(airbyte, client_id)), repr(result))


def test_sync_with_a_bearer_token_skips_the_token_endpoint(airbyte):
    sync = AirbyteSync(airbyte.url, CONNECTION, bearer_token=STATIC_TOKEN, poll_interval=0.01)
    assert sync.run_sync().status == "succeeded"
    assert not airbyte.calls(path_prefix="/v1/applications")
    assert {r.headers["authorization"] for r in airbyte.requests} == {f"Bearer {STATIC_TOKEN}"}


@pytest.mark.parametrize("final", ["failed", "cancelled", "incomplete"])
def test_a_job_that_ends_badly_raises_job_failed(airbyte, client_id, final):
    airbyte.connections[CONNECTION] = ["pending", "running", final]
    with pytest.raises(AirbyteJobFailed) as caught:
        make_sync(airbyte, client_id).run_sync()
    message = str(caught.value)
    job_id = caught.value.result.job_id
    assert caught.value.result.status == final
    assert CONNECTION in message and f"job {job_id}" in message and repr(final) in message and " s;" in message
    assert_no_secret(message)
    assert len(airbyte.calls("GET", f"/v1/jobs/{job_id}")) == 3


def test_a_job_that_never_finishes_times_out_and_is_cancelled(airbyte, client_id):
    airbyte.connections[CONNECTION] = ["running"]
    with pytest.raises(AirbyteTimeout) as caught:
        make_sync(airbyte, client_id, timeout=1.0, poll_interval=0.05).run_sync()
    result = caught.value.result
    # polled before giving up; how many times depends on the machine's load, and the timeout counts from the
    # trigger (token + POST /jobs): with 0.3 s, at load 13 the trigger alone used the window and nothing was
    # polled, at load 20 twice. A 1 s window leaves room for the polls, which are the behaviour under test.
    assert result.status == "running" and result.elapsed_seconds >= 1.0 and result.polls >= 2
    message = str(caught.value)
    assert CONNECTION in message and f"job {result.job_id}" in message and "timeout 1 s" in message
    assert "was cancelled" in message
    assert_no_secret(message)
    assert [r.path for r in airbyte.calls("DELETE")] == [f"/v1/jobs/{result.job_id}"]
    assert airbyte.jobs[result.job_id].status == "cancelled"


def test_timeout_can_leave_the_job_running(airbyte, client_id):
    airbyte.connections[CONNECTION] = ["running"]
    with pytest.raises(AirbyteTimeout, match="left running"):
        make_sync(airbyte, client_id, timeout=0.1, poll_interval=0.05, cancel_on_timeout=False).run_sync()
    assert not airbyte.calls("DELETE")


def test_bad_client_credentials_fail_clearly_without_the_secret(airbyte, client_id):
    wrong = "not-the-secret-at-all"
    sync = make_sync(airbyte, client_id, client_secret=wrong)
    with pytest.raises(AirbyteAuthError) as caught:
        sync.run_sync()
    message = str(caught.value)
    assert "token endpoint" in message and "401" in message and client_id in message and CONNECTION in message
    assert wrong not in message and wrong not in repr(sync)
    assert [(r.method, r.path) for r in airbyte.requests] == [("POST", "/v1/applications/token")]


def test_a_refused_bearer_token_is_a_401_on_the_jobs_endpoint(airbyte):
    bad = "revoked-token-123"
    with pytest.raises(AirbyteAuthError) as caught:
        AirbyteSync(airbyte.url, CONNECTION, bearer_token=bad).run_sync()
    message = str(caught.value)
    assert "HTTP 401" in message and "bearer token" in message and bad not in message
    assert [(r.method, r.path) for r in airbyte.requests] == [("POST", "/v1/jobs")]


def test_an_expired_token_mid_run_is_renewed_once(airbyte, client_id):
    airbyte.connections[CONNECTION] = ["running", "running", "succeeded"]
    sync = make_sync(airbyte, client_id)
    job = sync.trigger()
    airbyte.revoke_tokens()
    assert sync.wait(job.job_id, job=job).status == "succeeded"
    assert len(airbyte.calls("POST", "/v1/applications/token")) == 2
    assert len(airbyte.issued_tokens) == 2


def test_transient_server_errors_are_retried(airbyte, client_id):
    airbyte.fail(503, count=1, path_prefix="/v1/jobs/")
    airbyte.fail(429, count=1, path_prefix="/v1/jobs/")
    assert make_sync(airbyte, client_id).run_sync().status == "succeeded"
    gets = airbyte.calls("GET", "/v1/jobs/")
    assert len(gets) == 4  # 503, 429, running, succeeded


def test_a_persistent_server_error_names_the_call(airbyte, client_id):
    airbyte.fail(500, count=100, path_prefix="/v1/jobs")
    with pytest.raises(AirbyteApiError, match=r"starting a sync job failed with HTTP 500"):
        make_sync(airbyte, client_id, retry_max_elapsed=0.3).run_sync()


def test_unknown_connection_and_running_job_are_explained(airbyte, client_id):
    with pytest.raises(AirbyteApiError, match=r"connection nope.*HTTP 404.*unknown connection"):
        make_sync(airbyte, client_id, connection_id="nope").run_sync()
    airbyte.connections[CONNECTION] = ["running"]
    sync = make_sync(airbyte, client_id)
    sync.trigger()
    with pytest.raises(AirbyteApiError, match=r"HTTP 409 \(a job is already running"):
        sync.run_sync()


def test_unreachable_server(client_id):
    with FakeAirbyte() as fake:
        url = fake.url
    sync = AirbyteSync(
        url, CONNECTION, bearer_token=STATIC_TOKEN, retry_max_elapsed=0.2, retry_initial=0.01, request_timeout=1
    )
    with pytest.raises(AirbyteApiError, match="could not reach the server"):
        sync.run_sync()


def test_from_env(airbyte, client_id):
    environ = {
        "AIRBYTE_SERVER_URL": airbyte.url,
        "AIRBYTE_CLIENT_ID": client_id,
        "AIRBYTE_CLIENT_SECRET": SECRET,
        "AIRBYTE_OPEN_FINANCE_CONNECTION_ID": CONNECTION,
        "AIRBYTE_SYNC_TIMEOUT_SECONDS": "5",
        "AIRBYTE_POLL_INTERVAL_SECONDS": "0.01",
    }
    sync = AirbyteSync.from_env(environ)
    assert (sync.timeout, sync.poll_interval, sync.token_url) == (5.0, 0.01, f"{airbyte.url}/applications/token")
    assert sync.run_sync().status == "succeeded"
    with pytest.raises(ValueError, match="credentials"):
        AirbyteSync.from_env({"AIRBYTE_OPEN_FINANCE_CONNECTION_ID": CONNECTION})
    with pytest.raises(ValueError, match="connection_id"):
        AirbyteSync.from_env({"AIRBYTE_API_TOKEN": "x"})
    with pytest.raises(ValueError, match="AIRBYTE_SYNC_TIMEOUT_SECONDS"):
        AirbyteSync.from_env({**environ, "AIRBYTE_SYNC_TIMEOUT_SECONDS": "soon"})


# -- what the connection wrote -------------------------------------------------------------------------------------


def transaction(transaction_id, amount, credit_debit="DEBITO", account="ACC-001"):
    return {
        "accountId": account,  # added by the Airbyte substream
        "transactionId": transaction_id,
        "completedAuthorisedPaymentType": "TRANSACAO_EFETIVADA",
        "creditDebitType": credit_debit,
        "transactionName": "PIX ENVIADO",
        "type": "PIX",
        "transactionAmount": {"amount": amount, "currency": "BRL"},
        "transactionDateTime": "2025-03-13T14:00:00.000Z",
        "partieCnpjCpf": "12345678000190",
        "newFieldNotMapped": "kept in raw_json",
    }


def airbyte_meta(index):
    return {
        "_airbyte_raw_id": f"raw-{index}",
        "_airbyte_extracted_at": 1741874400000 + index,
        "_airbyte_generation_id": 0,
        "_airbyte_meta": {"changes": [], "sync_id": 7},
    }


def test_read_parquet_and_jsonl_output_into_the_transactions_table(tmp_path):
    lake = LocalLake(tmp_path / "lake")
    folder = tmp_path / "lake" / "airbyte" / "open_finance" / "account_transactions"
    folder.mkdir(parents=True)
    # Parquet, flattened (S3 destination, Parquet): metadata columns + the record's fields
    parquet_rows = [
        {**airbyte_meta(0), **transaction("TX1", "150.2500")},
        {**airbyte_meta(1), **transaction("TX2", "9.90")},
    ]
    pq.write_table(pa.Table.from_pylist(parquet_rows), folder / "2025_03_14_1741874400000_0.parquet")
    # JSONL, record under _airbyte_data (S3 / local JSON destinations), gzipped, one sync later: TX2 again,
    # a credit, and a record without its parent id
    later = [
        {**airbyte_meta(2), "_airbyte_data": transaction("TX2", "9.90")},
        {**airbyte_meta(3), "_airbyte_data": transaction("TX3", "1000.00", "CREDITO")},
        {**airbyte_meta(4), "_airbyte_data": {k: v for k, v in transaction("TX4", "1.00").items() if k != "accountId"}},
    ]
    with _gz(folder / "sync-8" / "part_0.jsonl.gz") as f:
        f.write("\n".join(json.dumps(row) for row in later) + "\n")

    landed = read_airbyte_output(lake, "transactions")  # our entity name, mapped to the Airbyte stream
    assert landed.num_rows == 5
    assert {"_airbyte_raw_id", "transactionId", "accountId"} <= set(landed.column_names)
    assert read_airbyte_output(tmp_path / "lake", "account_transactions").num_rows == 5  # a path and a stream name

    parsed = entity_table("transactions", "banco_a", landed)
    table = parsed.table
    assert table.schema == SCHEMAS["transactions"]
    assert table.column("transaction_id").to_pylist() == ["TX1", "TX2", "TX3"]
    assert table.column("signed_amount").to_pylist() == [Decimal("-150.2500"), Decimal("-9.9000"), Decimal("1000.0000")]
    assert set(table.column("institution").to_pylist()) == {"banco_a"}
    assert set(table.column("account_id").to_pylist()) == {"ACC-001"}
    raw = json.loads(table.column("raw_json")[0].as_py())
    assert raw["newFieldNotMapped"] == "kept in raw_json" and not any(k.startswith("_airbyte") for k in raw)
    assert [q.reason for q in parsed.quarantine] == ["missing accountId (the Airbyte stream must add its parent's id)"]

    # the same landed rows give the same table
    assert entity_table("transactions", "banco_a", read_airbyte_output(lake, "transactions")).table.equals(table)


def _gz(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    return gzip.open(path, "wt", encoding="utf-8")


def test_accounts_and_missing_output(tmp_path):
    folder = tmp_path / "airbyte" / "open_finance" / "accounts"
    folder.mkdir(parents=True)
    account = {
        "accountId": "ACC-001",
        "brandName": "Banco A",
        "companyCnpj": "12345678000190",
        "type": "CONTA_DEPOSITO_A_VISTA",
        "compeCode": "341",
        "branchCode": "0001",
        "number": "12345",
        "checkDigit": "6",
    }
    (folder / "accounts.jsonl").write_text(json.dumps({**airbyte_meta(0), "_airbyte_data": account}) + "\n")
    parsed = entity_table("accounts", "banco_a", read_airbyte_output(tmp_path, "accounts"))
    assert parsed.table.column("account_id").to_pylist() == ["ACC-001"] and not parsed.quarantine

    with pytest.raises(AirbyteOutputMissing, match="account_balances"):
        read_airbyte_output(tmp_path, "balances")
    with pytest.raises(NotImplementedError, match="folder lake"):
        read_airbyte_output("s3://bucket/lake", "accounts")


def test_the_airbyte_modules_do_not_import_dagster():
    import ast
    from pathlib import Path

    import ingestion.open_finance.airbyte as module

    for path in Path(module.__file__).parent.glob("airbyte*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(name.split(".")[0] in ("dagster", "orchestration") for name in names), path
