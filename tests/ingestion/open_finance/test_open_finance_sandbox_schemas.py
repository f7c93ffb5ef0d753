"""Every kind of answer the sandbox gives validates against the official OpenAPI schema of its operation.

Requests go straight over mutual TLS with real tokens (client_credentials for consents, the consent-bound token
for data), so what is validated is exactly what the client receives. Multi-page answers are validated on a
middle page too (first/prev/next links present).
"""

from datetime import timedelta

import pytest

from sandboxes.open_finance_bank.demo import ACCOUNT_ID, CARD_ID
from tests.ingestion.open_finance.conftest import DAY
from tests.ingestion.open_finance.raw_calls import Raw
from tests.ingestion.open_finance.spec_schemas import validate

ACC = "/open-banking/accounts/v2"
CC = "/open-banking/credit-cards-accounts/v2"
FX = "/open-banking/exchanges/v1"
WEEK = {"fromBookingDate": (DAY - timedelta(days=6)).isoformat(), "toBookingDate": DAY.isoformat()}
CARD_WEEK = {"fromTransactionDate": (DAY - timedelta(days=6)).isoformat(), "toTransactionDate": DAY.isoformat()}
QUARTER = {"fromTransactionDate": (DAY - timedelta(days=90)).isoformat(), "toTransactionDate": DAY.isoformat()}


@pytest.fixture
def raw(bank, consent):
    client = Raw(bank, *consent)
    yield client
    client.http.close()


# (spec, spec path, request path, query)
DATA_OPERATIONS = [
    ("resources", "/resources", "/open-banking/resources/v3/resources", {}),
    ("accounts", "/accounts", f"{ACC}/accounts", {}),
    ("accounts", "/accounts/{accountId}", f"{ACC}/accounts/{ACCOUNT_ID}", {}),
    ("accounts", "/accounts/{accountId}/balances", f"{ACC}/accounts/{ACCOUNT_ID}/balances", {}),
    ("accounts", "/accounts/{accountId}/transactions", f"{ACC}/accounts/{ACCOUNT_ID}/transactions", WEEK),
    (
        "accounts",
        "/accounts/{accountId}/transactions-current",
        f"{ACC}/accounts/{ACCOUNT_ID}/transactions-current",
        WEEK,
    ),
    ("credit-cards", "/accounts", f"{CC}/accounts", {}),
    ("credit-cards", "/accounts/{creditCardAccountId}/bills", f"{CC}/accounts/{CARD_ID}/bills", {}),
    (
        "credit-cards",
        "/accounts/{creditCardAccountId}/bills/{billId}/transactions",
        f"{CC}/accounts/{CARD_ID}/bills/BILL-CURR/transactions",
        QUARTER,
    ),
    ("credit-cards", "/accounts/{creditCardAccountId}/transactions", f"{CC}/accounts/{CARD_ID}/transactions", QUARTER),
    (
        "credit-cards",
        "/accounts/{creditCardAccountId}/transactions-current",
        f"{CC}/accounts/{CARD_ID}/transactions-current",
        CARD_WEEK,
    ),
    ("exchanges", "/operations", f"{FX}/operations", {}),
    ("exchanges", "/operations/{operationId}", f"{FX}/operations/FXOP-000123", {}),
    ("exchanges", "/operations/{operationId}", f"{FX}/operations/FXOP-000124", {}),
    ("exchanges", "/operations/{operationId}/events", f"{FX}/operations/FXOP-000123/events", {}),
]


@pytest.mark.parametrize(
    ("spec_name", "spec_path", "path", "query"),
    DATA_OPERATIONS,
    ids=[f"{op[0]}{op[2].rsplit('/v', 1)[-1]}" for op in DATA_OPERATIONS],
)
def test_data_answers_match_the_official_schema(raw, bank, spec_name, spec_path, path, query):
    response = raw.call("GET", path, params=query)
    assert response.status_code == 200, response.text
    assert response.headers["x-fapi-interaction-id"] == "3f7d4c6e-9b1a-4c2f-8d5e-1a2b3c4d5e6f"
    body = response.json()
    assert body["data"], f"{path} served no data: the schema check would prove little"
    validate(spec_name, spec_path, "get", "200", body, bank.base_url)


@pytest.mark.parametrize(
    ("spec_name", "spec_path", "path", "query"),
    [
        (
            "accounts",
            "/accounts/{accountId}/transactions-current",
            f"{ACC}/accounts/{ACCOUNT_ID}/transactions-current",
            WEEK,
        ),
        (
            "credit-cards",
            "/accounts/{creditCardAccountId}/transactions",
            f"{CC}/accounts/{CARD_ID}/transactions",
            QUARTER,
        ),
        (
            "credit-cards",
            "/accounts/{creditCardAccountId}/bills/{billId}/transactions",
            f"{CC}/accounts/{CARD_ID}/bills/BILL-CURR/transactions",
            QUARTER,
        ),
    ],
)
def test_middle_pages_match_the_schema(raw, bank, spec_name, spec_path, path, query):
    first = raw.call("GET", path, params={**query, "page-size": 1}).json()
    second_url = first["links"]["next"]
    second = raw.http.get(
        second_url,
        headers={
            "Authorization": f"Bearer {raw.tokens.data_token()}",
            "x-fapi-interaction-id": "0b0c6f36-61a4-4d7e-9d0b-6f1f4e3c2a10",
        },
    ).json()
    assert {"self", "first", "prev", "next"} <= set(second["links"]), second["links"]
    validate(spec_name, spec_path, "get", "200", second, bank.base_url)


def test_consent_answers_match_the_schema(raw, bank):
    created = raw.call(
        "POST",
        "/open-banking/consents/v3/consents",
        token="consent",
        json={
            "data": {
                "loggedUser": {"document": {"identification": "11111111111", "rel": "CPF"}},
                "businessEntity": {"document": {"identification": "11222333000181", "rel": "CNPJ"}},
                "permissions": ["ACCOUNTS_READ", "ACCOUNTS_BALANCES_READ", "RESOURCES_READ"],
                "expirationDateTime": "2099-12-31T23:59:59Z",
            }
        },
    )
    assert created.status_code == 201, created.text
    validate("consents", "/consents", "post", "201", created.json(), bank.base_url)
    consent_id = created.json()["data"]["consentId"]
    read = raw.call("GET", f"/open-banking/consents/v3/consents/{consent_id}", token="consent")
    validate("consents", "/consents/{consentId}", "get", "200", read.json(), bank.base_url)
    deleted = raw.call("DELETE", f"/open-banking/consents/v3/consents/{consent_id}", token="consent")
    assert deleted.status_code == 204 and deleted.content == b""
    rejected = raw.call("GET", f"/open-banking/consents/v3/consents/{consent_id}", token="consent").json()
    assert rejected["data"]["status"] == "REJECTED"
    validate("consents", "/consents/{consentId}", "get", "200", rejected, bank.base_url)
    again = raw.call("DELETE", f"/open-banking/consents/v3/consents/{consent_id}", token="consent")
    assert again.status_code == 422
    validate("consents", "/consents/{consentId}", "delete", "422", again.json(), bank.base_url)


def test_consent_errors_match_the_schema(raw, bank):
    incomplete = raw.call(
        "POST",
        "/open-banking/consents/v3/consents",
        token="consent",
        json={
            "data": {
                "loggedUser": {"document": {"identification": "11111111111", "rel": "CPF"}},
                "permissions": ["ACCOUNTS_BALANCES_READ"],
            }
        },
    )
    assert incomplete.status_code == 422
    validate("consents", "/consents", "post", "422", incomplete.json(), bank.base_url)
    malformed = raw.call("POST", "/open-banking/consents/v3/consents", token="consent", json={"data": {}})
    assert malformed.status_code == 400
    validate("consents", "/consents", "post", "400", malformed.json(), bank.base_url)
    missing = raw.call("GET", "/open-banking/consents/v3/consents/urn:sandboxbank:NOPE", token="consent")
    assert missing.status_code == 404
    validate("consents", "/consents/{consentId}", "get", "404", missing.json(), bank.base_url)


@pytest.mark.parametrize("status", ["429", "500", "529"])
def test_injected_errors_match_the_schema_of_every_family(raw, bank, status):
    for spec_name, spec_path, path in [
        ("accounts", "/accounts", f"{ACC}/accounts"),
        ("credit-cards", "/accounts", f"{CC}/accounts"),
        ("exchanges", "/operations", f"{FX}/operations"),
        ("resources", "/resources", "/open-banking/resources/v3/resources"),
    ]:
        bank.inject(status, match=path)
        response = raw.call("GET", path)
        assert response.status_code == int(status)
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        validate(spec_name, spec_path, "get", status, response.json(), bank.base_url)


def test_auth_and_request_errors_match_the_schema(raw, bank, consent):
    unauthorised = raw.http.get(
        f"{bank.base_url}{ACC}/accounts",
        headers={
            "Authorization": "Bearer not-a-token",
            "x-fapi-interaction-id": "3f7d4c6e-9b1a-4c2f-8d5e-1a2b3c4d5e6f",
        },
    )
    assert unauthorised.status_code == 401
    validate("accounts", "/accounts", "get", "401", unauthorised.json(), bank.base_url)
    not_found = raw.call("GET", f"{ACC}/accounts/no-such-account/balances")
    assert not_found.status_code == 404
    validate("accounts", "/accounts/{accountId}/balances", "get", "404", not_found.json(), bank.base_url)
    too_far = raw.call(
        "GET",
        f"{ACC}/accounts/{ACCOUNT_ID}/transactions-current",
        params={"fromBookingDate": (DAY - timedelta(days=30)).isoformat(), "toBookingDate": DAY.isoformat()},
    )
    assert too_far.status_code == 422
    validate("accounts", "/accounts/{accountId}/transactions-current", "get", "422", too_far.json(), bank.base_url)
    no_id = raw.http.get(
        f"{bank.base_url}{FX}/operations", headers={"Authorization": f"Bearer {raw.tokens.data_token()}"}
    )
    assert no_id.status_code == 400 and no_id.headers["x-fapi-interaction-id"]
    validate("exchanges", "/operations", "get", "400", no_id.json(), bank.base_url)


def test_missing_permission_answers_403_in_the_official_shape(bank):
    consent_id, code = bank.create_authorised_consent(["ACCOUNTS_READ", "RESOURCES_READ"])
    client = Raw(bank, consent_id, code)
    try:
        response = client.call("GET", f"{ACC}/accounts/{ACCOUNT_ID}/balances")
        assert response.status_code == 403
        validate("accounts", "/accounts/{accountId}/balances", "get", "403", response.json(), bank.base_url)
    finally:
        client.http.close()
