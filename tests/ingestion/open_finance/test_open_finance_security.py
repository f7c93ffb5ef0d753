"""Mutual TLS is enforced, the company authenticates with a PS256 private_key_jwt, tokens are renewed before they
expire, and no key, token, code or client assertion ever reaches the logs or an error message."""

import logging
import ssl
import time
import uuid

import httpx
import jwt
import pytest

from ingestion.open_finance.auth import TokenManager, TokenStore, client_assertion, http_client
from ingestion.open_finance.errors import AuthError, ConsentError

ACCOUNTS = "/open-banking/accounts/v2/accounts"


def _get(client: httpx.Client, bank) -> httpx.Response:
    return client.get(bank.base_url + ACCOUNTS, headers={"x-fapi-interaction-id": str(uuid.uuid4())})


def _wait_for_rejections(bank, expected: int, seconds: float = 5.0) -> int:
    """With TLS 1.3 the client can see the refusal before the server thread has counted it: wait a little."""
    deadline = time.monotonic() + seconds
    while bank.rejected_handshakes < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return bank.rejected_handshakes


def test_no_client_certificate_no_connection(bank):
    before = bank.rejected_handshakes
    context = ssl.create_default_context(cafile=str(bank.certs.ca_cert))  # trusts the bank, presents nothing
    with httpx.Client(verify=context, timeout=5) as anonymous, pytest.raises(httpx.TransportError):
        _get(anonymous, bank)
    assert _wait_for_rejections(bank, before + 1) == before + 1


def test_a_certificate_from_another_ca_is_refused(bank):
    before = bank.rejected_handshakes
    context = ssl.create_default_context(cafile=str(bank.certs.ca_cert))
    context.load_cert_chain(bank.certs.outsider_cert, bank.certs.outsider_key)
    with httpx.Client(verify=context, timeout=5) as outsider, pytest.raises(httpx.TransportError):
        _get(outsider, bank)
    assert _wait_for_rejections(bank, before + 1) == before + 1


def test_the_company_certificate_gets_in_and_still_needs_a_token(bank, consent):
    with http_client(bank.institution(consent[0]), timeout=5) as client:
        response = _get(client, bank)
    assert response.status_code == 401  # past TLS; the API itself then wants a token


def test_the_client_refuses_a_server_it_cannot_verify(bank, consent):
    institution = bank.institution(consent[0], ca_path=None)  # the system store does not know the sandbox CA
    with http_client(institution, timeout=5) as client, pytest.raises(httpx.ConnectError):
        _get(client, bank)


def test_client_assertion_is_a_ps256_rfc7523_jwt(bank, consent):
    institution = bank.institution(consent[0])
    key = open(institution.key_path, "rb").read()
    assertion = client_assertion(institution.client_id, institution.token_url, key, key_id="kid-1", now=1_700_000_000)
    header = jwt.get_unverified_header(assertion)
    assert header["alg"] == "PS256" and header["kid"] == "kid-1"
    claims = jwt.decode(
        assertion,
        bank.certs.client_public_key_pem(),
        algorithms=["PS256"],
        audience=institution.token_url,
        options={"verify_exp": False},
    )
    assert claims["iss"] == claims["sub"] == institution.client_id
    assert claims["exp"] - claims["iat"] == 60 and len(claims["jti"]) == 36


def test_a_wrong_signing_key_is_refused_with_advice(bank, consent):
    institution = bank.institution(consent[0], signing_key_path=str(bank.certs.outsider_key))
    with http_client(institution) as http:
        with pytest.raises(AuthError) as refused:
            TokenManager(institution, http, TokenStore(None)).consent_token()
    message = str(refused.value)
    assert "HTTP 401, invalid_client" in message and "client_credentials" in message
    assert "signing key's public part is registered" in message


def test_an_assertion_cannot_be_replayed(bank, consent):
    institution = bank.institution(consent[0])
    assertion = client_assertion(institution.client_id, institution.token_url, open(institution.key_path, "rb").read())
    form = {
        "grant_type": "client_credentials",
        "scope": "consents",
        "client_id": institution.client_id,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }
    with http_client(institution) as http:
        assert http.post(institution.token_url, data=form).status_code == 200
        again = http.post(institution.token_url, data=form)
    assert again.status_code == 401 and "already used" in again.json()["error_description"]


def test_tokens_are_renewed_before_they_expire(bank, consent):
    consent_id, code = consent
    institution = bank.institution(consent_id)
    now = [1_000_000.0]
    store = TokenStore(None)
    with http_client(institution) as http:
        tokens = TokenManager(institution, http, store, authorization_code=code, clock=lambda: now[0], margin=60)
        first = tokens.data_token()
        first_refresh = store.get("sandbox")
        now[0] += 300 - 61  # still valid for 61 s: kept
        assert tokens.data_token() == first
        now[0] += 2  # 59 s left, inside the margin: renewed with the refresh token (rotated by the bank)
        second = tokens.data_token()
        assert second != first and store.get("sandbox") not in (None, first_refresh)
        consent_token = tokens.consent_token()
        assert tokens.consent_token() == consent_token


def test_an_authorization_code_is_single_use(bank, consent):
    consent_id, code = consent
    institution = bank.institution(consent_id)
    with http_client(institution) as http:
        TokenManager(institution, http, TokenStore(None), authorization_code=code).data_token()
        with pytest.raises(ConsentError, match="authorization code .*invalid_grant"):
            TokenManager(institution, http, TokenStore(None), authorization_code=code).data_token()


def test_the_token_store_file_is_private(tmp_path):
    store = TokenStore(tmp_path / "state" / "tokens.json")
    store.put("banco_a", "rt-secret")
    assert (tmp_path / "state" / "tokens.json").stat().st_mode & 0o777 == 0o600
    assert TokenStore(tmp_path / "state" / "tokens.json").get("banco_a") == "rt-secret"


def _secrets(bank) -> list[str]:
    pem = bank.certs.client_key.read_text()
    key_lines = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    return [*key_lines, *bank.issued_secrets, *bank.received_assertions]


def test_no_secret_reaches_the_logs_or_the_errors(pull, bank, caplog):
    caplog.set_level(logging.DEBUG)  # everything: ours, httpx, httpcore
    failures: list[str] = []
    first = pull()  # authorization code exchange, consent token, data token
    bank.inject("429", count=5, match="/balances")
    with pytest.raises(Exception) as http_failure:
        pull()
    failures.append(str(http_failure.value))
    second = pull()  # the stored refresh token (rotated) this time
    bank.revoke_consent(pull.consent_id)
    with pytest.raises(ConsentError) as consent_failure:
        pull()
    failures.append(str(consent_failure.value))
    with pytest.raises(AuthError) as auth_failure:
        bad_key = bank.institution(pull.consent_id, signing_key_path=str(bank.certs.outsider_key))
        pull(institution=bad_key, token_store=TokenStore(None))
    failures.append(str(auth_failure.value))

    texts = [record.getMessage() for record in caplog.records]
    texts += [caplog.text, *failures, repr(first.calls), repr(second.calls)]
    for table in (*first.tables.values(), *second.tables.values()):
        texts.append(table.to_pandas().to_csv() if table.num_rows else "")
    secrets = _secrets(bank)
    assert len(secrets) > 30 and len(caplog.records) > 50
    leaks = [s[:12] + "..." for s in secrets if any(s in text for text in texts)]
    assert leaks == []
