"""FAPI-BR security: mutual TLS with the company's certificate, and OAuth2 tokens with `private_key_jwt`.

* `http_client(institution)` is an httpx client that presents the company's certificate on every connection
  (token endpoint and APIs alike) and trusts the institution's CA (or the system store).
* `client_assertion(...)` is the RFC 7523 JWT that authenticates the company at the token endpoint, signed
  PS256 (the only RSA algorithm FAPI allows) with the company's signing key; `aud` is the token endpoint.
* `TokenManager` holds two tokens per institution: a client_credentials token (scope `consents`) for the
  consents API, and the consent-bound data token from the authorization-code grant, renewed with the refresh
  token before it expires. Refresh tokens persist in a `TokenStore` (a 0600 JSON file outside git, replaced
  atomically; a new token and the consent it is bound to are written together).

Nothing here logs or puts in an error message a token, an assertion, a code or key material.
"""

import json
import logging
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import jwt

from ingestion.common.atomic_file import write_atomically
from ingestion.open_finance.config import (
    CONSENT_SCOPE,
    Institution,
    certificate_error,
    certificate_file,
    certificate_variable,
)
from ingestion.open_finance.errors import AuthError, ConsentError

log = logging.getLogger(__name__)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 60  # seconds; short-lived as FAPI expects
REFRESH_MARGIN = 60  # renew a token this many seconds before it expires


def mtls_context(institution: Institution) -> ssl.SSLContext:
    """TLS 1.2+ context presenting the company's certificate and trusting `ca_path` (or the system store).

    A certificate, key or CA file that is missing, a folder, unreadable or not loadable raises
    `CertificateFileError` naming the institution, the environment variable and the path."""
    cert, key = certificate_file(institution, "cert_path"), certificate_file(institution, "key_path")
    cafile = certificate_file(institution, "ca_path") if institution.ca_path else None
    try:
        context = ssl.create_default_context(cafile=cafile)
    except (ssl.SSLError, OSError) as error:
        raise certificate_error(
            institution, "ca_path", f"could not be loaded as CA certificates ({_ssl_reason(error)})"
        ) from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as error:
        raise certificate_error(
            institution,
            "cert_path",
            f"and the key {key} (from {certificate_variable(institution, 'key_path')}) could not be loaded together "
            f"({_ssl_reason(error)})",
            "Check that both are PEM, that the key is not encrypted and that it is the certificate's own key",
        ) from None
    return context


def _ssl_reason(error: BaseException) -> str:
    """What an SSL or OS error says, without the file's contents (ssl never quotes them)."""
    return getattr(error, "reason", None) or getattr(error, "strerror", None) or type(error).__name__


def http_client(institution: Institution, timeout: float = 30.0) -> httpx.Client:
    return httpx.Client(
        verify=mtls_context(institution),
        timeout=timeout,
        headers={"User-Agent": "importau-open-finance/0.1"},
        follow_redirects=False,
    )


def client_assertion(
    client_id: str,
    audience: str,
    private_key_pem: bytes,
    key_id: str | None = None,
    now: float | None = None,
    lifetime: int = ASSERTION_LIFETIME,
) -> str:
    """A `private_key_jwt` client assertion (RFC 7523 section 2.2): iss = sub = client_id, aud = token URL."""
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": str(uuid.uuid4()),
        "iat": issued,
        "exp": issued + lifetime,
    }
    headers = {"kid": key_id} if key_id else None
    return jwt.encode(claims, private_key_pem, algorithm="PS256", headers=headers)


class TokenStore:
    """Refresh tokens per institution in a JSON file readable only by its owner (None path = memory only).

    Each institution's record is `{"refresh_token": ..., <connection fields>}`: `importau open-finance connect`
    adds the consent the token is bound to and the endpoints it discovered (`consent_id`, `token_url`,
    `api_urls`, ...), which `config.load_institutions(environ, store)` reads while the refresh token is there. A
    refused refresh token is removed; the connection fields stay in the file (they say which consent ended) but are
    no longer applied."""

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path else None
        self._memory: dict[str, dict] = {}
        self._lock = threading.Lock()

    def _load(self) -> dict[str, dict]:
        if self.path is None:
            return self._memory
        if not self.path.exists():
            return {}
        return json.loads(self.path.read_text(encoding="utf-8") or "{}")

    def get(self, institution: str) -> str | None:
        with self._lock:
            return self._load().get(institution, {}).get("refresh_token")

    def connection(self, institution: str) -> dict:
        """What `connect` recorded for the institution (no token): consent id, endpoints. {} when none, and when
        its refresh token is gone (refused): that connection is over, and a consent set in the institutions file
        (with a new code) must not be overridden by the dead one."""
        with self._lock:
            record = dict(self._load().get(institution, {}))
        if not record.pop("refresh_token", None):
            return {}
        return record

    def put(self, institution: str, refresh_token: str | None, connection: Mapping | None = None) -> None:
        """Keep the institution's refresh token (None removes it) in one atomic write of the file.

        Without `connection` the record's connection fields stay (a rotated token belongs to the same consent).
        With it (what `connect` learnt: the consent the token is bound to, its endpoints) the record becomes that
        connection and this token, written together: the file never pairs a token with another consent, even
        when the process dies right after."""
        with self._lock:
            state = dict(self._load())
            kept = state.get(institution, {}) if connection is None else connection
            record = {key: value for key, value in kept.items() if key != "refresh_token"}
            if refresh_token:
                record["refresh_token"] = refresh_token
            if record:
                state[institution] = record
            else:
                state.pop(institution, None)
            self._save(state)

    def update(self, institution: str, **fields) -> None:
        """Set connection fields of the institution's record (the refresh token is left as it is)."""
        with self._lock:
            state = dict(self._load())
            state[institution] = {**state.get(institution, {}), **fields}
            self._save(state)

    def _save(self, state: dict[str, dict]) -> None:
        """The whole file at once, 0600 (ingestion/common/atomic_file.py): never half-written, never readable by
        others."""
        if self.path is None:
            self._memory = state
            return
        write_atomically(self.path, json.dumps(state).encode("utf-8"), mode=0o600)


@dataclass
class _Token:
    value: str = field(repr=False)
    expires_at: float


class TokenManager:
    """Access tokens for one institution, fetched and renewed on demand (thread-safe)."""

    def __init__(
        self,
        institution: Institution,
        http: httpx.Client,
        store: TokenStore,
        authorization_code: str | None = None,
        refresh_token: str | None = None,
        clock: Callable[[], float] = time.time,
        margin: float = REFRESH_MARGIN,
    ):
        self.institution, self.http, self.store, self.clock, self.margin = (
            institution,
            http,
            store,
            clock,
            margin,
        )
        self._code = authorization_code
        if refresh_token and not store.get(institution.name):
            store.put(institution.name, refresh_token)
        self._consent_token: _Token | None = None
        self._data_token: _Token | None = None
        self._lock = threading.Lock()
        signing = "signing_key_path" if institution.signing_key_path else "key_path"
        self._signing_key = Path(certificate_file(institution, signing)).read_bytes()

    # -- public ------------------------------------------------------------------------------------------

    @property
    def signing_key(self) -> bytes:
        """The private_key_jwt signing key (OPEN_FINANCE_..._SIGNING_KEY_PATH, else the transport key), read once."""
        return self._signing_key

    def consent_token(self) -> str:
        """client_credentials token for the consents API (scope `consents`)."""
        with self._lock:
            if not self._fresh(self._consent_token):
                body = self._token_request({"grant_type": "client_credentials", "scope": CONSENT_SCOPE})
                self._consent_token = self._token(body, "client_credentials")
            return self._consent_token.value

    def data_token(self) -> str:
        """The consent-bound access token for the data APIs, refreshed before it expires."""
        with self._lock:
            if not self._fresh(self._data_token):
                self._data_token = self._obtain_data_token()
            return self._data_token.value

    def drop_data_token(self) -> None:
        """Forget the data token (after a 401) so the next call asks for a new one."""
        with self._lock:
            self._data_token = None

    def exchange_code(
        self,
        code: str,
        redirect_uri: str | None = None,
        code_verifier: str | None = None,
        connection: Mapping | None = None,
    ) -> None:
        """Exchange an authorization code (after the user approved the consent) and keep the refresh token.

        `code_verifier` is the PKCE verifier when the authorization request carried a `code_challenge`;
        `connection` (the consent and endpoints the token is for) is stored with the token in the same write."""
        with self._lock:
            self._data_token = self._exchange(code, redirect_uri, code_verifier, connection)

    # -- internals ---------------------------------------------------------------------------------------

    def _fresh(self, token: _Token | None) -> bool:
        return token is not None and token.expires_at - self.margin > self.clock()

    def _obtain_data_token(self) -> _Token:
        refresh = self.store.get(self.institution.name)
        if refresh:
            body = self._token_request({"grant_type": "refresh_token", "refresh_token": refresh})
            if body.get("refresh_token") and body["refresh_token"] != refresh:
                self.store.put(self.institution.name, body["refresh_token"])  # rotated
            return self._token(body, "refresh_token")
        if self._code:
            code, self._code = self._code, None  # a code is single-use
            return self._exchange(code, self.institution.redirect_uri)
        raise ConsentError(
            self.institution.name,
            self.institution.consent_id,
            "no refresh token is stored and no authorization code was given",
            f"Run `importau open-finance connect {self.institution.name}` (the account holder approves the consent "
            f"at the bank and the refresh token is stored), or set "
            f"OPEN_FINANCE_{self.institution.name.upper()}_AUTHORIZATION_CODE to a code from the redirect.",
        )

    def _exchange(
        self, code: str, redirect_uri: str | None, code_verifier: str | None = None, connection: Mapping | None = None
    ) -> _Token:
        form = {"grant_type": "authorization_code", "code": code}
        if redirect_uri:
            form["redirect_uri"] = redirect_uri
        if code_verifier:
            form["code_verifier"] = code_verifier
        body = self._token_request(form)
        self.store.put(self.institution.name, body.get("refresh_token"), connection)
        return self._token(body, "authorization_code")

    def _token(self, body: dict, grant: str) -> _Token:
        value = body.get("access_token")
        if not isinstance(value, str) or not value:
            raise AuthError(
                self.institution.name,
                self.institution.token_url,
                grant,
                200,
                "no access_token",
                "The token endpoint answered without a token; contact the institution.",
            )
        lifetime = float(body.get("expires_in") or 300)
        log.info("open finance %s: %s token obtained, valid %.0fs", self.institution.name, grant, lifetime)
        return _Token(value, self.clock() + lifetime)

    def _token_request(self, form: dict[str, str]) -> dict:
        institution = self.institution
        grant = form["grant_type"]
        last_error: Exception | None = None
        for attempt in range(3):  # transient token-endpoint failures only; a refusal is final at once
            payload = {  # a fresh assertion (new jti) on every attempt: the endpoint refuses a replayed one
                **form,
                "client_id": institution.client_id,
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": client_assertion(
                    institution.client_id, institution.token_url, self._signing_key, institution.signing_key_id
                ),
            }
            try:
                response = self.http.post(institution.token_url, data=payload, headers={"Accept": "application/json"})
            except httpx.TransportError as error:
                last_error = error
                time.sleep(0.2 * (attempt + 1))
                continue
            if response.status_code == 429 or response.status_code >= 500:
                last_error = AuthError(
                    institution.name,
                    institution.token_url,
                    grant,
                    response.status_code,
                    "server error",
                    "Try again later.",
                )
                time.sleep(0.2 * (attempt + 1))
                continue
            return self._token_answer(response, grant)
        if isinstance(last_error, AuthError):
            raise last_error
        raise AuthError(
            institution.name,
            institution.token_url,
            grant,
            None,
            type(last_error).__name__,
            "Check the network path to the institution and that the certificate is accepted.",
        )

    def _token_answer(self, response: httpx.Response, grant: str) -> dict:
        institution = self.institution
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code == 200 and isinstance(body, dict):
            return body
        error = str(body.get("error", "unknown error")) if isinstance(body, dict) else "unknown error"
        if grant in ("refresh_token", "authorization_code") and error == "invalid_grant":
            self.store.put(institution.name, None)
            raise ConsentError(
                institution.name,
                institution.consent_id,
                f"the institution refused the {grant.replace('_', ' ')} (invalid_grant): the authorisation "
                "ended (consent expired or revoked) or the code was already used",
                f"Have the account holder authorise the consent again: run `importau open-finance connect "
                f"{institution.name}`, or set OPEN_FINANCE_{institution.name.upper()}_AUTHORIZATION_CODE to a new "
                "code.",
            )
        action = (
            "Check client_id, that the signing key's public part is registered for this client "
            "(Directory JWKS) and that the transport certificate is the registered one."
            if error in ("invalid_client", "unauthorized_client")
            else "Check the institution's token endpoint configuration."
        )
        raise AuthError(institution.name, institution.token_url, grant, response.status_code, error, action)
