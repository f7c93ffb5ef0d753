"""The direct consent journey (`importau open-finance connect <institution>`), for a company that is itself an
Open Finance participant (or runs on a participant's registered infrastructure): from the Directory to a stored
refresh token.

1. **Directory**: the institution's authorisation server and API base URLs from the participants document
   (`directory.find_authorisation_server`, selector = the `directory` key of the institutions-file entry).
2. **Discovery**: its OpenID configuration (issuer, PAR, authorization, token and JWKS endpoints; the mutual-TLS
   aliases of the token and PAR endpoints).
3. **Consent**: `POST /consents` (client_credentials token, `private_key_jwt` over mutual TLS, as every pull) with
   the permissions the platform needs (accounts, balances, transactions, credit cards, exchanges: whole groups
   plus RESOURCES_READ), the logged user's CPF and the company's CNPJ. The bank answers AWAITING_AUTHORISATION.
4. **PAR** (RFC 9126): a request object signed PS256 (FAPI 1 Advanced 5.2.2: `aud` = issuer, `exp` - `nbf` at most
   60 min, `response_type=code id_token`, `state`, `nonce`, PKCE S256; Open Finance Brasil: scope
   `openid consent:<id> <families>`, acr `urn:brasil:openbanking:loa2`) pushed with `private_key_jwt` over mutual
   TLS; the bank answers a `request_uri`.
5. **Authorization URL** `<authorization_endpoint>?client_id=..&request_uri=..`, shown to the person (and opened
   in the browser when asked); the one-shot loopback listener (callback.py) waits for the redirect, bounded.
6. **Callback**: `error` (e.g. access_denied) ends the journey; else `state` must equal ours, and the hybrid flow's
   `id_token` (a detached signature, FAPI 1 Advanced 5.2.2.1) must be signed by the bank (its JWKS), for us
   (`aud`), carry our `nonce`, and hash the code (`c_hash`) and the state (`s_hash`).
7. **Token**: the code is exchanged (`authorization_code` grant with the PKCE verifier); the refresh token goes to
   the token store (0600) with the consent and the endpoints, where every pull reads it; the consent must now
   read AUTHORISED.

Every failure raises `ConnectError` naming the institution and the step. No token, code, assertion or request
object is logged or put in a message.
"""

import hmac
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from ingestion.open_finance.auth import TokenManager, TokenStore, http_client
from ingestion.open_finance.budget import CallBudget
from ingestion.open_finance.callback import CallbackError, CallbackListener, CallbackTimeout
from ingestion.open_finance.config import (
    DEFAULT_PERMISSIONS,
    ConfigError,
    Institution,
    institution_from_mapping,
)
from ingestion.open_finance.consents import ConsentsApi, check_consent
from ingestion.open_finance.directory import (
    AuthorisationServer,
    DirectoryError,
    find_authorisation_server,
    load_participants,
    read_openid_configuration,
)
from ingestion.open_finance.errors import OpenFinanceError
from ingestion.open_finance.redirect import (
    RESPONSE_TYPE,
    RedirectError,
    authorization_url,
    pkce_pair,
    push_authorization_request,
    request_object,
    verify_id_token,
)
from ingestion.open_finance.transport import CallSettings, FapiSession

log = logging.getLogger(__name__)

DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/callback"
DEFAULT_CALLBACK_TIMEOUT = 300.0
PENDING_CONSENT = "urn:importau:pending"  # stands for the consent id until POST /consents answers

# Steps, as they appear in errors
STEP_CONFIG = "configuration"
STEP_DIRECTORY = "Directory lookup"
STEP_DISCOVERY = "OpenID discovery"
STEP_CONSENT = "consent creation"
STEP_PAR = "pushed authorization request"
STEP_LISTENER = "callback listener"
STEP_AUTHORISATION = "authorisation at the bank"
STEP_CALLBACK = "callback"
STEP_TOKEN = "token exchange"
STEP_STATUS = "consent status check"


class ConnectError(OpenFinanceError):
    """The consent journey stopped: `step` says where, the message says why and what to do."""

    def __init__(self, institution: str, step: str, problem: str, action: str = ""):
        self.institution, self.step, self.problem = institution, step, problem
        text = f"Open Finance institution {institution!r}, {step}: {problem}"
        super().__init__(f"{text}. {action}" if action else text)


@dataclass(frozen=True)
class ConnectOptions:
    logged_user_cpf: str  # the person who approves the consent at the bank (consent body `loggedUser`)
    business_cnpj: str | None = None  # the company whose accounts are shared (`businessEntity`)
    redirect_uri: str = DEFAULT_REDIRECT_URI
    callback_timeout: float = DEFAULT_CALLBACK_TIMEOUT
    expiration: datetime | None = None  # None = no fixed term
    permissions: tuple[str, ...] = DEFAULT_PERMISSIONS
    callback_ssl_context: object | None = None  # an ssl.SSLContext for an https loopback redirect URI


@dataclass(frozen=True)
class Connection:
    institution: str
    consent_id: str
    permissions: tuple[str, ...]
    expiration: datetime | None
    authorisation_server: AuthorisationServer
    token_url: str


def _fail(institution: Institution, step: str, problem: str, action: str = "") -> ConnectError:
    return ConnectError(institution.name, step, problem, action)


def _discover(name: str, participants_source: str, selector: str) -> AuthorisationServer:
    try:
        return find_authorisation_server(load_participants(participants_source), selector, name)
    except DirectoryError as error:
        raise ConnectError(name, STEP_DIRECTORY, str(error)) from None


def _template(entry: Mapping, environ: Mapping[str, str], server: AuthorisationServer) -> Institution:
    """The institution as the journey starts: endpoints from the Directory, no consent yet."""
    base = dict(entry)
    base.update(
        consent_id=PENDING_CONSENT,
        api_base_url=base.get("api_base_url") or next(iter(server.api_urls.values())),
        api_urls={**server.api_urls, **dict(base.get("api_urls") or {})},
        token_url=server.discovery_url,  # a placeholder: the discovery document's token endpoint replaces it
    )
    return institution_from_mapping(base, environ)


def connect(
    entry: Mapping,
    environ: Mapping[str, str],
    *,
    participants_source: str,
    options: ConnectOptions,
    token_store: TokenStore,
    budget: CallBudget,
    show_url: Callable[[str], None],
    settings: CallSettings | None = None,
) -> Connection:
    """Run the whole journey for one institutions-file entry; returns the connection (nothing secret in it)."""
    name = str(entry.get("name", ""))
    selector = str(entry.get("directory") or "").strip()
    if not selector:
        raise ConnectError(
            name,
            STEP_CONFIG,
            "the institutions file gives no `directory` for it",
            "Add `directory: <OrganisationId, AuthorisationServerId, CNPJ or name in the Directory>` to its entry.",
        )
    server = _discover(name, participants_source, selector)
    try:
        institution = _template(entry, environ, server)
    except ConfigError as error:
        raise ConnectError(name, STEP_CONFIG, str(error)) from None
    settings = settings or CallSettings()
    with http_client(institution, settings.timeout) as http:
        try:
            oidc = read_openid_configuration(http, server)
        except DirectoryError as error:
            raise ConnectError(name, STEP_DISCOVERY, str(error)) from None
        if RESPONSE_TYPE not in oidc.response_types and oidc.response_types:
            raise ConnectError(
                name,
                STEP_DISCOVERY,
                f"the bank does not offer response_type {RESPONSE_TYPE!r} (it offers {list(oidc.response_types)})",
            )
        # a token endpoint written in the institutions file wins, as it does for the pulls (config.with_connection)
        institution = replace(institution, token_url=entry.get("token_url") or oidc.token_endpoint)
        tokens = TokenManager(institution, http, token_store)
        signing_key = tokens.signing_key
        session = FapiSession(institution, http, tokens, budget, settings)
        consents = ConsentsApi(session)
        try:
            consent = consents.create(
                options.permissions, options.logged_user_cpf, options.business_cnpj, options.expiration
            )
        except OpenFinanceError as error:
            raise _fail(institution, STEP_CONSENT, str(error)) from None
        if consent.status != "AWAITING_AUTHORISATION":
            raise _fail(
                institution,
                STEP_CONSENT,
                f"the bank created consent {consent.consent_id} as {consent.status}"
                + (f" ({consent.rejection_code})" if consent.rejection_code else ""),
            )
        missing = sorted(set(options.permissions) - set(consent.permissions))
        if missing:
            log.warning(
                "open finance %s: the bank left out permission(s) %s from consent %s (products it does not offer)",
                name,
                ", ".join(missing),
                consent.consent_id,
            )
        institution = replace(institution, consent_id=consent.consent_id)
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier, challenge = pkce_pair()
        try:
            listener = CallbackListener(options.redirect_uri, options.callback_ssl_context).start()
        except CallbackError as error:
            raise _fail(institution, STEP_LISTENER, str(error)) from None
        try:
            redirect_uri = listener.redirect_uri
            request = request_object(
                institution, oidc, consent.consent_id, redirect_uri, state, nonce, challenge, signing_key
            )
            try:
                request_uri = push_authorization_request(http, institution, oidc, request, signing_key)
            except RedirectError as error:
                raise _fail(institution, STEP_PAR, error.problem, error.action) from None
            show_url(authorization_url(oidc, institution.client_id, request_uri))
            try:
                params = listener.wait(options.callback_timeout)
            except CallbackTimeout as error:
                raise _fail(
                    institution,
                    STEP_CALLBACK,
                    str(error),
                    f"Open the URL and approve consent {consent.consent_id} at the bank within the wait "
                    "(--timeout); the bank rejects a consent not authorised within 60 minutes.",
                ) from None
        finally:
            listener.close()
        if not hmac.compare_digest(params.get("state", ""), state):
            raise _fail(
                institution,
                STEP_CALLBACK,
                "the callback's state is not the one this journey sent (a stale or forged redirect); nothing was "
                "exchanged",
                "Run the command again.",
            )
        if params.get("error"):
            description = params.get("error_description", "")
            raise _fail(
                institution,
                STEP_AUTHORISATION,
                f"the bank answered error={params['error']}{' (' + description + ')' if description else ''} for "
                f"consent {consent.consent_id}",
                "The account holder did not approve it; run the command again to ask anew."
                if params["error"] == "access_denied"
                else "",
            )
        code, id_token = params.get("code", ""), params.get("id_token", "")
        if not code or not id_token:
            raise _fail(
                institution, STEP_CALLBACK, "the callback carries no code and id_token (response_type code id_token)"
            )
        try:
            verify_id_token(http, institution.client_id, oidc, id_token, code, state, nonce)
        except RedirectError as error:
            raise _fail(institution, STEP_CALLBACK, error.problem, error.action) from None
        # the refresh token belongs to this consent: it is stored with it (and where it was found) in one write
        connection = {
            "consent_id": consent.consent_id,
            "token_url": institution.token_url,
            "api_base_url": institution.api_base_url,
            "api_urls": dict(server.api_urls),
            "issuer": oidc.issuer,
            "organisation_id": server.organisation_id,
            "authorisation_server_id": server.authorisation_server_id,
            "connected_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        try:
            tokens.exchange_code(code, redirect_uri, verifier, connection)
        except OpenFinanceError as error:
            raise _fail(institution, STEP_TOKEN, str(error)) from None
        if not token_store.get(name):
            raise _fail(
                institution, STEP_TOKEN, "the token endpoint gave no refresh token; the pulls could not renew access"
            )
        try:
            final = consents.read(consent.consent_id)
            check_consent(name, final, consent.permissions)
        except OpenFinanceError as error:
            token_store.put(name, None)  # a token of an unusable consent is no use to the pulls
            raise _fail(institution, STEP_STATUS, str(error)) from None
        token_store.update(
            name,
            permissions=list(final.permissions),
            expiration=final.expiration.strftime("%Y-%m-%dT%H:%M:%SZ") if final.expiration else None,
        )
        log.info("open finance %s: consent %s authorised and its refresh token stored", name, final.consent_id)
        return Connection(name, final.consent_id, final.permissions, final.expiration, server, oidc.token_endpoint)


def find_entry(entries: Iterable[Mapping], name: str) -> Mapping:
    for entry in entries:
        if str(entry.get("name", "")) == name:
            return entry
    known = sorted(str(entry.get("name", "")) for entry in entries)
    raise ConnectError(
        name,
        STEP_CONFIG,
        f"no institution of that name in OPEN_FINANCE_INSTITUTIONS (known: {', '.join(known) or 'none'})",
    )
