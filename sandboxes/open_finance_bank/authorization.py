"""The sandbox's authorization server: OpenID discovery, JWKS, pushed authorization requests and the authorize
endpoint, so that `importau open-finance connect` runs end to end against it.

* `GET /auth/.well-known/openid-configuration` (issuer `<base>/auth`): endpoints, `mtls_endpoint_aliases` for the
  token and PAR endpoints, `response_types_supported: ["code id_token"]`, `private_key_jwt`, PS256,
  `require_pushed_authorization_requests: true`, `tls_client_certificate_bound_access_tokens: true`.
* `GET /auth/jwks`: the public key that signs id_tokens (RSA, PS256, generated at start).
* `POST /auth/par` (mutual TLS, `private_key_jwt` like the token endpoint): a request object signed PS256 by the
  client's registered key, `aud` = issuer, `exp` - `nbf` at most 60 min; `response_type=code id_token`; a
  loopback `redirect_uri` (the sandbox registers every loopback URI for its client); `state`, `nonce`; PKCE
  `S256`; scope with `openid` and `consent:<id>` of one of the client's AWAITING_AUTHORISATION consents. Answers
  201 `{"request_uri", "expires_in": 90}`; refusals are OAuth errors (400/401).
* `GET /auth/authorize?client_id=..&request_uri=..` on the *front channel* (a second TLS listener that asks for no
  client certificate: it is the person's browser that comes here). No person is asked: the bank's
  `authorisation_decision` says what the account holder does. `approve` authorises the consent (AUTHORISED) and
  redirects to `redirect_uri#code=..&id_token=..&state=..` (hybrid flow: the id_token carries `nonce`, `c_hash`,
  `s_hash`, `acr`); `deny` rejects the consent (rejectedBy USER, CUSTOMER_MANUALLY_REJECTED) and redirects with
  `#error=access_denied&state=..`. An unknown, used or expired `request_uri` gets a 400 page, no redirect.

The code's PKCE challenge and redirect URI are checked at the token endpoint (`oauth.py`).
"""

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt

from sandboxes.open_finance_bank.oauth import DATA_SCOPE, _authenticate, _oauth_error, _Refused
from sandboxes.open_finance_bank.render import Reply

ISSUER_PATH = "/auth"
DISCOVERY_PATH = "/auth/.well-known/openid-configuration"
JWKS_PATH = "/auth/jwks"
PAR_PATH = "/auth/par"
AUTHORIZE_PATH = "/auth/authorize"
BACK_CHANNEL_PATHS = frozenset({DISCOVERY_PATH, JWKS_PATH, PAR_PATH})
FRONT_CHANNEL_PATHS = frozenset({DISCOVERY_PATH, JWKS_PATH, AUTHORIZE_PATH})
REQUEST_URI_LIFETIME = 90
ID_TOKEN_LIFETIME = 300
MAX_REQUEST_OBJECT_SPAN = 3600  # FAPI 1 Advanced: exp - nbf at most 60 minutes
ACR = "urn:brasil:openbanking:loa2"
DECISIONS = ("approve", "deny")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class PushedRequest:
    client_id: str
    consent_id: str
    redirect_uri: str
    state: str
    nonce: str
    code_challenge: str
    expires_at: float


def half_hash(value: str) -> str:
    digest = hashlib.sha256(value.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def discovery(bank) -> dict:
    base, front, issuer = bank.base_url, bank.front_url, bank.issuer
    return {
        "issuer": issuer,
        "authorization_endpoint": front + AUTHORIZE_PATH,
        "token_endpoint": bank.token_url,
        "pushed_authorization_request_endpoint": base + PAR_PATH,
        "jwks_uri": base + JWKS_PATH,
        "mtls_endpoint_aliases": {
            "token_endpoint": bank.token_url,
            "pushed_authorization_request_endpoint": base + PAR_PATH,
        },
        "scopes_supported": ["openid", "consents", "consent", *DATA_SCOPE.split()[1:]],
        "response_types_supported": ["code id_token"],
        "response_modes_supported": ["fragment"],
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "acr_values_supported": [ACR, "urn:brasil:openbanking:loa3"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["PS256"],
        "request_object_signing_alg_values_supported": ["PS256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["PS256"],
        "code_challenge_methods_supported": ["S256"],
        "claims_parameter_supported": True,
        "request_parameter_supported": True,
        "require_pushed_authorization_requests": True,
        "tls_client_certificate_bound_access_tokens": True,
    }


def jwks(bank) -> dict:
    key = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(bank.as_key.public_key()))
    return {"keys": [{**key, "kid": bank.as_kid, "use": "sig", "alg": "PS256"}]}


def _json(status: int, payload: dict) -> Reply:
    return Reply(status, json.dumps(payload).encode(), "application/json", {"Cache-Control": "no-store"})


def _page(status: int, text: str) -> Reply:
    body = f"<!doctype html><html><body><p>{text}</p></body></html>".encode()
    return Reply(status, body, "text/html; charset=utf-8", {"Cache-Control": "no-store"})


def _invalid(description: str, error: str = "invalid_request_object") -> _Refused:
    return _Refused(400, error, description)


def _check_request_object(bank, client_id: str, request: str) -> PushedRequest:
    state = bank.state
    client = state.clients[client_id]
    try:
        if jwt.get_unverified_header(request).get("alg") != "PS256":
            raise _invalid("request objects must be signed with PS256")
        claims = jwt.decode(
            request,
            client.public_key_pem,
            algorithms=["PS256"],
            audience=bank.issuer,
            issuer=client_id,
            options={"require": ["iss", "aud", "exp", "nbf", "iat", "jti"]},
            leeway=5,
        )
    except jwt.PyJWTError as error:
        raise _invalid(f"request object rejected: {type(error).__name__}") from None
    if claims["exp"] - claims["nbf"] > MAX_REQUEST_OBJECT_SPAN:
        raise _invalid("request object lives longer than 60 minutes (exp - nbf)")
    if claims.get("client_id") != client_id:
        raise _invalid("request object client_id differs from the authenticated client")
    if claims.get("response_type") != "code id_token":
        raise _invalid("response_type must be 'code id_token'", "unsupported_response_type")
    redirect_uri = str(claims.get("redirect_uri") or "")
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or parts.hostname not in LOOPBACK:
        raise _invalid("redirect_uri is not registered for this client (the sandbox registers loopback URIs)")
    for claim in ("state", "nonce", "code_challenge"):
        if not isinstance(claims.get(claim), str) or not claims[claim]:
            raise _invalid(f"{claim} is required")
    if claims.get("code_challenge_method") != "S256":
        raise _invalid("PKCE code_challenge_method must be S256")
    scopes = str(claims.get("scope") or "").split()
    consents = [scope.split(":", 1)[1] for scope in scopes if scope.startswith("consent:")]
    if "openid" not in scopes or len(consents) != 1:
        raise _invalid("scope must hold openid and exactly one consent:<consentId>", "invalid_scope")
    with state.lock:
        consent = state.consents.get(consents[0])
        if consent is None or consent.client_id != client_id:
            raise _invalid(f"unknown consent {consents[0]}", "invalid_scope")
        if consent.status != "AWAITING_AUTHORISATION":
            raise _invalid(f"consent {consent.consent_id} is {consent.status}, not AWAITING_AUTHORISATION")
    return PushedRequest(
        client_id,
        consents[0],
        redirect_uri,
        claims["state"],
        claims["nonce"],
        claims["code_challenge"],
        time.time() + REQUEST_URI_LIFETIME,
    )


def pushed_authorization_request(bank, body: bytes, content_type: str, thumbprint: str) -> Reply:
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return _oauth_error(400, "invalid_request", "the pushed authorization request must be form-encoded")
    form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    try:
        client_id = _authenticate(bank.state, form, bank.token_audiences, thumbprint)
        if not form.get("request"):
            raise _Refused(400, "invalid_request", "a signed request object (request=) is required")
        pushed = _check_request_object(bank, client_id, form["request"])
    except _Refused as refused:
        return refused.reply
    request_uri = f"urn:ietf:params:oauth:request_uri:{secrets.token_urlsafe(24)}"
    with bank.state.lock:
        bank.state.pushed_requests[request_uri] = pushed
    return _json(201, {"request_uri": request_uri, "expires_in": REQUEST_URI_LIFETIME})


def _id_token(bank, pushed: PushedRequest, code: str) -> str:
    now = int(time.time())
    claims = {
        "iss": bank.issuer,
        "sub": "sandbox-account-holder",
        "aud": pushed.client_id,
        "iat": now,
        "exp": now + ID_TOKEN_LIFETIME,
        "auth_time": now,
        "nonce": pushed.nonce,
        "acr": ACR,
        "c_hash": half_hash(code),
        "s_hash": half_hash(pushed.state),
    }
    with bank.state.lock:
        faults, bank.state.id_token_faults = bank.state.id_token_faults, {}  # one id_token only
        for claim, value in faults.items():
            if value is None:
                claims.pop(claim, None)
            else:
                claims[claim] = value
    return jwt.encode(claims, bank.as_key, algorithm="PS256", headers={"kid": bank.as_kid})


def authorize(bank, query: str) -> Reply:
    params = dict(parse_qsl(query, keep_blank_values=True))
    state = bank.state
    with state.lock:
        pushed = state.pushed_requests.pop(params.get("request_uri", ""), None)  # single use
    if pushed is None or pushed.expires_at < time.time():
        return _page(400, "Unknown, used or expired request_uri: start again from the application.")
    if params.get("client_id") != pushed.client_id:
        return _page(400, "client_id differs from the pushed authorization request.")
    with state.lock:
        decision = state.authorisation_decision
    if decision == "deny":
        with state.lock:
            state.consents[pushed.consent_id].reject("USER", "CUSTOMER_MANUALLY_REJECTED", state.now())
        answer = {
            "error": "access_denied",
            "error_description": "the account holder rejected the consent",
            "state": pushed.state,
        }
    else:
        code = state.authorise(pushed.consent_id)  # AWAITING_AUTHORISATION -> AUTHORISED
        with state.lock:
            state.code_requests[code] = (pushed.code_challenge, pushed.redirect_uri)
        answer = {"code": code, "id_token": _id_token(bank, pushed, code), "state": pushed.state}
    location = f"{pushed.redirect_uri}#{urlencode(answer)}"
    return Reply(302, b"", "text/html", {"Location": location, "Cache-Control": "no-store"})


def handle(bank, method: str, path: str, query: str, headers: dict[str, str], body: bytes, peer: str, front: bool):
    """One request to the authorization server (front or back channel)."""
    allowed = FRONT_CHANNEL_PATHS if front else BACK_CHANNEL_PATHS
    if path not in allowed:
        return _page(404, "Not found.")
    if path == DISCOVERY_PATH and method == "GET":
        return _json(200, discovery(bank))
    if path == JWKS_PATH and method == "GET":
        return _json(200, jwks(bank))
    if path == PAR_PATH and method == "POST":
        return pushed_authorization_request(bank, body, headers.get("content-type", ""), peer)
    if path == AUTHORIZE_PATH and method == "GET":
        return authorize(bank, query)
    return _page(405, "Method not allowed.")


def participants(bank, organisation_id: str, server_id: str, name: str) -> list[dict]:
    """A Directory participants document (swagger_participants.yaml's shape) with the bank as one organisation."""
    families = {
        "consents": ("/open-banking/consents/v3/consents", "3.3.1"),
        "resources": ("/open-banking/resources/v3/resources", "3.1.0"),
        "accounts": ("/open-banking/accounts/v2/accounts", "2.4.2"),
        "credit-cards-accounts": ("/open-banking/credit-cards-accounts/v2/accounts", "2.3.1"),
        "exchanges": ("/open-banking/exchanges/v1/operations", "1.0.0"),
    }
    resources = [
        {
            "ApiResourceId": f"{server_id}-{family}",
            "ApiFamilyType": family,
            "ApiVersion": version,
            "FamilyComplete": True,
            "CertificationStatus": "Self-Certified",
            "ApiDiscoveryEndpoints": [
                {"ApiDiscoveryId": f"{server_id}-{family}-1", "ApiEndpoint": bank.base_url + path}
            ],
        }
        for family, (path, version) in families.items()
    ]
    server = {
        "AuthorisationServerId": server_id,
        "OrganisationId": organisation_id,
        "CustomerFriendlyName": name,
        "OpenIDDiscoveryDocument": bank.discovery_url,
        "Issuer": bank.issuer,
        "SupportsDCR": True,
        "ApiResources": resources,
    }
    organisation = {
        "OrganisationId": organisation_id,
        "Status": "Active",
        "OrganisationName": name,
        "LegalEntityName": name,
        "CountryOfRegistration": "BR",
        "RegistrationNumber": "11111111111111",
        "AuthorisationServers": [server],
    }
    return [organisation]
