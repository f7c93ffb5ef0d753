"""Unusable consents fail at once with a message naming the institution, the consent and what to do."""

from datetime import UTC, datetime, timedelta

import pytest

from ingestion.open_finance.auth import TokenManager, TokenStore, http_client
from ingestion.open_finance.budget import CallBudget
from ingestion.open_finance.consents import Consent, ConsentsApi, check_consent
from ingestion.open_finance.errors import ConsentError
from ingestion.open_finance.extract import pull_institution
from ingestion.open_finance.transport import CallSettings, FapiSession
from tests.ingestion.open_finance.conftest import DAY, FAST

NOW = datetime(2025, 3, 14, 12, tzinfo=UTC)
EVERYTHING = ("ACCOUNTS_READ", "RESOURCES_READ")


def consent(**changes) -> Consent:
    base = dict(
        consent_id="urn:bank:C1",
        status="AUTHORISED",
        permissions=EVERYTHING,
        creation=NOW,
        status_update=NOW,
        expiration=NOW + timedelta(days=90),
    )
    return Consent(**{**base, **changes})


def test_an_expired_consent_is_refused_before_any_data_call(pull, bank):
    bank.expire_consent(pull.consent_id)
    with pytest.raises(ConsentError) as failed:
        pull()
    error = failed.value
    assert error.institution == "sandbox" and error.consent_id == pull.consent_id
    message = str(error)
    assert "'sandbox'" in message and pull.consent_id in message and "reached its expiration date" in message
    assert "Create a new consent at sandbox" in message and "OPEN_FINANCE_SANDBOX_AUTHORIZATION_CODE" in message
    assert [q["path"] for q in bank.requests] == [f"/open-banking/consents/v3/consents/{pull.consent_id}"]


def test_a_consent_expiring_mid_run_stops_the_run_without_looping(pull, bank):
    bank.expire_consent(pull.consent_id, after_calls=3)  # resources, accounts, balances; then it is gone
    with pytest.raises(ConsentError, match="reached its expiration date"):
        pull()
    paths = [q["path"] for q in bank.requests]
    # consent check, resources, accounts, balances, then transactions-current answers 401, the one new-token
    # try is refused at the token endpoint, and the consent is read once to say why
    assert sum(p.endswith("/transactions-current") for p in paths) == 1
    assert paths[-1] == paths[0] == f"/open-banking/consents/v3/consents/{pull.consent_id}"
    assert len(paths) == 6


def test_a_revoked_consent(pull, bank):
    bank.revoke_consent(pull.consent_id)
    with pytest.raises(ConsentError, match="revoked by the account holder"):
        pull()


def test_a_consent_missing_permissions(bank):
    consent_id, code = bank.create_authorised_consent(
        ["ACCOUNTS_READ", "ACCOUNTS_BALANCES_READ", "ACCOUNTS_TRANSACTIONS_READ", "RESOURCES_READ"]
    )
    with pytest.raises(ConsentError) as failed:
        pull_institution(
            bank.institution(consent_id),
            DAY,
            token_store=TokenStore(None),
            budget=CallBudget(None),
            settings=FAST,
            today=DAY,
            grant={"authorization_code": code},
        )
    assert "lacks permission(s) CREDIT_CARDS_ACCOUNTS_BILLS_READ" in str(failed.value)
    assert "EXCHANGES_READ" in str(failed.value)


def test_a_consent_awaiting_authorisation(bank):
    consent_id = bank.create_consent()
    with pytest.raises(ConsentError, match="still awaiting authorisation.*within 60 minutes"):
        pull_institution(
            bank.institution(consent_id),
            DAY,
            token_store=TokenStore(None),
            budget=CallBudget(None),
            settings=FAST,
            today=DAY,
        )


def test_no_stored_token_and_no_code_says_what_to_do(bank, consent):
    with pytest.raises(ConsentError, match="no refresh token is stored.*AUTHORIZATION_CODE"):
        pull_institution(
            bank.institution(consent[0]),
            DAY,
            token_store=TokenStore(None),
            budget=CallBudget(None),
            settings=CallSettings(max_attempts=1),
            today=DAY,
        )


def test_a_refused_refresh_token_asks_for_a_new_authorisation(pull, bank):
    pull()  # stores the refresh token
    with bank.state.lock:
        bank.state.refresh_tokens.clear()  # the bank forgot it (e.g. its lifetime ended with the consent's)
    with pytest.raises(ConsentError, match="invalid_grant.*authorise the consent again"):
        pull()
    assert pull.store.get("sandbox") is None  # a dead refresh token is not kept


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"status": "REJECTED", "rejected_by": "USER", "rejection_code": "CUSTOMER_MANUALLY_REJECTED"},
            "rejected by the account holder",
        ),
        ({"status": "REJECTED", "rejected_by": "ASPSP", "rejection_code": "CONSENT_EXPIRED"}, "expired"),
        ({"expiration": NOW - timedelta(seconds=1)}, "expired at 2025-03-14T11:59:59Z"),
        ({"permissions": ("RESOURCES_READ",)}, r"lacks permission\(s\) ACCOUNTS_READ"),
        ({"status": "SOMETHING_NEW"}, "unknown consent status"),
    ],
)
def test_check_consent_states(changes, expected):
    with pytest.raises(ConsentError, match=expected):
        check_consent("banco_a", consent(**changes), EVERYTHING, NOW)


def test_check_consent_accepts_a_usable_consent():
    check_consent("banco_a", consent(), EVERYTHING, NOW)
    check_consent("banco_a", consent(expiration=None), EVERYTHING, NOW)  # no fixed term


def test_create_and_read_a_consent_through_the_api(pull, bank):
    institution = bank.institution(pull.consent_id)
    with http_client(institution) as http:
        session = FapiSession(institution, http, TokenManager(institution, http, TokenStore(None)), CallBudget(None))
        api = ConsentsApi(session)
        created = api.create(
            ["EXCHANGES_READ", "RESOURCES_READ"], "11111111111", "11222333000181", datetime(2099, 1, 1, tzinfo=UTC)
        )
        assert created.status == "AWAITING_AUTHORISATION" and created.consent_id.startswith("urn:")
        bank.authorise(created.consent_id)
        read = api.verify(created.consent_id, ["EXCHANGES_READ"])
        assert read.status == "AUTHORISED" and read.expiration == datetime(2099, 1, 1, tzinfo=UTC)
