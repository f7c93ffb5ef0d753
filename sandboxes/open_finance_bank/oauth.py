"""The sandbox's token endpoint (`POST /auth/token`): `private_key_jwt` client authentication over mutual TLS.

The client assertion must be a PS256 JWT signed by the key registered for `client_id`, with iss = sub =
client_id, `aud` the token endpoint (or the issuer), a future `exp` at most 10 minutes after `iat`, and a `jti`
never seen before. The TLS client certificate must be the registered one; every token is bound to it
(RFC 8705 `x5t#S256`), and the API routes refuse a token presented over another certificate.

Grants: `client_credentials` (scope `consents`), `authorization_code` (a code from `SandboxBank.authorise`, or
from the authorize endpoint, whose PKCE `code_verifier` and `redirect_uri` must then match the pushed request;
giving a consent-bound access token and a refresh token) and `refresh_token` (rotated on every use).
Refusals answer the OAuth error body `{"error", "error_description"}`.
"""

import base64
import hashlib
import json
from urllib.parse import parse_qsl

import jwt

from sandboxes.open_finance_bank.render import Reply
from sandboxes.open_finance_bank.state import SandboxState

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DATA_SCOPE = "openid accounts credit-cards-accounts exchanges resources"
MAX_ASSERTION_LIFETIME = 600


def _oauth_error(status: int, error: str, description: str) -> Reply:
    body = json.dumps({"error": error, "error_description": description}).encode()
    return Reply(status, body, "application/json", {"Cache-Control": "no-store"})


def _ok(answer: dict) -> Reply:
    return Reply(200, json.dumps(answer).encode(), "application/json", {"Cache-Control": "no-store"})


class _Refused(Exception):
    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.reply = _oauth_error(status, error, description)


def _authenticate(state: SandboxState, form: dict[str, str], audiences: list[str], thumbprint: str) -> str:
    client_id = form.get("client_id", "")
    assertion = form.get("client_assertion", "")
    if form.get("client_assertion_type") != ASSERTION_TYPE or not assertion:
        raise _Refused(401, "invalid_client", "private_key_jwt client authentication is required")
    state.received_assertions.append(assertion)
    client = state.clients.get(client_id)
    if client is None:
        raise _Refused(401, "invalid_client", "unknown client_id")
    if thumbprint != client.cert_thumbprint:
        raise _Refused(401, "invalid_client", "the TLS client certificate is not the one registered for this client")
    try:
        header = jwt.get_unverified_header(assertion)
        if header.get("alg") != "PS256":
            raise _Refused(401, "invalid_client", "client assertions must be signed with PS256")
        claims = jwt.decode(
            assertion,
            client.public_key_pem,
            algorithms=["PS256"],
            audience=audiences,
            issuer=client_id,
            options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
            leeway=5,
        )
    except jwt.PyJWTError as error:
        raise _Refused(401, "invalid_client", f"client assertion rejected: {type(error).__name__}") from None
    if claims["sub"] != client_id:
        raise _Refused(401, "invalid_client", "client assertion sub must equal client_id")
    if claims["exp"] - claims["iat"] > MAX_ASSERTION_LIFETIME:
        raise _Refused(401, "invalid_client", "client assertion lives too long")
    with state.lock:
        if claims["jti"] in state.used_jtis:
            raise _Refused(401, "invalid_client", "client assertion jti was already used")
        state.used_jtis.add(claims["jti"])
    return client_id


def _check_pkce(state: SandboxState, form: dict[str, str]) -> None:
    """A code from the authorize endpoint: the PKCE verifier (S256) and the redirect URI must match its request."""
    with state.lock:
        requested = state.code_requests.pop(form.get("code", ""), None)
    if requested is None:
        return
    challenge, redirect_uri = requested
    verifier = form.get("code_verifier", "")
    computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    if not verifier or computed != challenge:
        raise _Refused(400, "invalid_grant", "PKCE code_verifier does not match the code_challenge")
    if form.get("redirect_uri") != redirect_uri:
        raise _Refused(400, "invalid_grant", "redirect_uri differs from the authorization request's")


def _grant(state: SandboxState, client_id: str, form: dict[str, str], thumbprint: str) -> dict:
    grant = form.get("grant_type")
    if grant == "client_credentials":
        scopes = set(form.get("scope", "consents").split())
        if not scopes <= {"consents", "resources"}:
            raise _Refused(400, "invalid_scope", "client_credentials serves the scope consents only")
        return state.issue_token(client_id, grant, " ".join(sorted(scopes)), None, thumbprint)
    if grant == "authorization_code":
        with state.lock:
            owner = state.codes.pop(form.get("code", ""), None)  # single use
        if owner is None or owner[0] != client_id:
            raise _Refused(400, "invalid_grant", "unknown, used or foreign authorization code")
        _check_pkce(state, form)
        consent_id = owner[1]
    elif grant == "refresh_token":
        with state.lock:
            owner3 = state.refresh_tokens.pop(form.get("refresh_token", ""), None)  # rotated on every use
        if owner3 is None or owner3[0] != client_id:
            raise _Refused(400, "invalid_grant", "unknown or used refresh token")
        consent_id = owner3[1]
    else:
        raise _Refused(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported")
    consent = state.consents.get(consent_id)
    if consent is None or not consent.usable(state.now()):
        raise _Refused(400, "invalid_grant", "the consent behind this grant is not authorised any more")
    return state.issue_token(
        client_id, "authorization_code", f"{DATA_SCOPE} consent:{consent_id}", consent_id, thumbprint
    )


def token_endpoint(state: SandboxState, body: bytes, content_type: str, audiences: list[str], thumbprint: str) -> Reply:
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return _oauth_error(400, "invalid_request", "the token request must be form-encoded")
    form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    try:
        client_id = _authenticate(state, form, audiences, thumbprint)
        return _ok(_grant(state, client_id, form, thumbprint))
    except _Refused as refused:
        return refused.reply
