"""The redirect part of the consent journey (journey.py): the PAR request object, its push, the authorization URL,
PKCE and the verification of the hybrid flow's id_token. FAPI 1 Advanced / Open Finance Brasil security profile:
request objects signed PS256 with `aud` = issuer and `exp` - `nbf` at most 60 minutes, `response_type=code
id_token` (the id_token is a detached signature over the code and the state: `c_hash`, `s_hash`), PKCE S256 with
PAR, `private_key_jwt` client authentication over mutual TLS. Failures raise `RedirectError`; journey.py names the
step. Nothing here logs.
"""

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from urllib.parse import urlencode

import httpx
import jwt

from ingestion.open_finance.auth import ASSERTION_TYPE, client_assertion
from ingestion.open_finance.config import DATA_SCOPES, Institution
from ingestion.open_finance.directory import OpenIdConfiguration

RESPONSE_TYPE = "code id_token"
ACR = "urn:brasil:openbanking:loa2"
REQUEST_OBJECT_LIFETIME = 300  # seconds; FAPI 1 Advanced caps exp - nbf at 60 minutes


class RedirectError(RuntimeError):
    """A PAR refusal or an id_token that does not verify: the problem, and what to do (`action`)."""

    def __init__(self, problem: str, action: str = ""):
        self.problem, self.action = problem, action
        super().__init__(problem)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def half_hash(value: str) -> str:
    """OIDC `c_hash` / `s_hash` for a PS256 id_token: base64url of the left half of SHA-256."""
    digest = hashlib.sha256(value.encode()).digest()
    return _b64(digest[: len(digest) // 2])


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, code_challenge) for PKCE S256 (RFC 7636)."""
    verifier = _b64(secrets.token_bytes(32))
    return verifier, _b64(hashlib.sha256(verifier.encode()).digest())


def request_object(
    institution: Institution,
    oidc: OpenIdConfiguration,
    consent_id: str,
    redirect_uri: str,
    state: str,
    nonce: str,
    code_challenge: str,
    signing_key: bytes,
    now: float | None = None,
) -> str:
    """The signed (PS256) authorization request object pushed to the PAR endpoint."""
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": institution.client_id,
        "aud": oidc.issuer,
        "client_id": institution.client_id,
        "jti": str(uuid.uuid4()),
        "iat": issued,
        "nbf": issued,
        "exp": issued + REQUEST_OBJECT_LIFETIME,
        "response_type": RESPONSE_TYPE,
        "redirect_uri": redirect_uri,
        "scope": f"{DATA_SCOPES} consent:{consent_id}",
        "state": state,
        "nonce": nonce,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
        "claims": {"id_token": {"acr": {"essential": True, "values": [ACR]}}},
    }
    headers = {"kid": institution.signing_key_id} if institution.signing_key_id else None
    return jwt.encode(claims, signing_key, algorithm="PS256", headers=headers)


def authorization_url(oidc: OpenIdConfiguration, client_id: str, request_uri: str) -> str:
    separator = "&" if "?" in oidc.authorization_endpoint else "?"
    return f"{oidc.authorization_endpoint}{separator}{urlencode({'client_id': client_id, 'request_uri': request_uri})}"


def push_authorization_request(
    http: httpx.Client, institution: Institution, oidc: OpenIdConfiguration, request: str, signing_key: bytes
) -> str:
    """POST the signed request object to the PAR endpoint (private_key_jwt, aud = issuer); the `request_uri`."""
    form = {
        "client_id": institution.client_id,
        "request": request,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion(
            institution.client_id, oidc.issuer, signing_key, institution.signing_key_id
        ),
    }
    endpoint = oidc.pushed_authorization_request_endpoint
    try:
        response = http.post(endpoint, data=form, headers={"Accept": "application/json"})
    except httpx.HTTPError as error:
        raise RedirectError(f"{endpoint}: {type(error).__name__}") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    if response.status_code not in (200, 201) or not isinstance(body.get("request_uri"), str):
        error = body.get("error", "no request_uri")
        description = body.get("error_description", "")
        raise RedirectError(
            f"{endpoint} answered HTTP {response.status_code} ({error}{': ' + description if description else ''})",
            "Check the client registration (client_id, the signing key's kid in the Directory JWKS, the "
            "redirect URI registered for this client).",
        )
    return body["request_uri"]


def verify_id_token(
    http: httpx.Client, client_id: str, oidc: OpenIdConfiguration, id_token: str, code: str, state: str, nonce: str
) -> None:
    """The hybrid flow's id_token: signed by the bank (its JWKS, PS256), for us, with our nonce, c_hash, s_hash."""
    try:
        response = http.get(oidc.jwks_uri, headers={"Accept": "application/json"})
        keys = response.json()["keys"] if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        keys = None
    if not isinstance(keys, list):
        raise RedirectError(f"the bank's JWKS {oidc.jwks_uri} could not be read")
    try:
        kid = jwt.get_unverified_header(id_token).get("kid")
        candidates = [key for key in keys if isinstance(key, dict) and (kid is None or key.get("kid") == kid)]
        if not candidates:
            raise RedirectError(f"the id_token's key {kid!r} is not in the bank's JWKS")
        claims = jwt.decode(
            id_token,
            jwt.PyJWK(candidates[0], algorithm="PS256").key,
            algorithms=["PS256"],
            audience=client_id,
            issuer=oidc.issuer,
            # FAPI 1 Advanced 5.2.2.1: the hybrid flow's id_token binds the code and the state (c_hash, s_hash)
            options={"require": ["iss", "aud", "exp", "iat", "nonce", "c_hash", "s_hash"]},
            leeway=30,
        )
    except jwt.PyJWTError as error:
        raise RedirectError(f"the id_token is not valid ({type(error).__name__})") from None
    if not hmac.compare_digest(str(claims.get("nonce")), nonce):
        raise RedirectError("the id_token's nonce is not the one this journey sent (a replayed answer?)")
    if not hmac.compare_digest(str(claims["c_hash"]), half_hash(code)):
        raise RedirectError("the id_token's c_hash does not match the code")
    if not hmac.compare_digest(str(claims["s_hash"]), half_hash(state)):
        raise RedirectError("the id_token's s_hash does not match the state")
