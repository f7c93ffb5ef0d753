"""The DUIMP from the Portal Único Siscomex API, over mutual TLS: the second channel of the official declarations.

What follows the public documentation (sources in ingestion/customs/README.md, "Portal Único API"):
- every call is HTTPS with the company's ICP-Brasil certificate (mutual TLS); the session starts with
  `POST <url>/portal/api/autenticar` and the header `Role-Type` (`IMPEXP` for an importer);
- the answer carries the session in two headers, `Set-Token` (sent back as `Authorization`) and `X-CSRF-Token`
  (sent back as `X-CSRF-Token`); `X-CSRF-Expiration` (epoch milliseconds), when present, says when they expire;
- the DUIMP consultation is `GET <url>/duimp/api/<service>`, the documented example being
  `ext/sefaz/duimp/{numero}` (the current version of a registered DUIMP, the 15-character number), with 401, 403,
  404, 422 and 500 as its documented errors.
What is the platform's: the body is read as the DUIMP JSON shape `duimp_json` documents (the official consultation
body, `SefazDuimpCover`, is not mapped yet: README), the path template is configurable
(`PORTAL_UNICO_DUIMP_PATH`) and 429/503 with `Retry-After` are retried as any HTTP API's.

`PortalClient.duimp(declaration_id)` returns the body's bytes: it authenticates when it has no session or the
session has expired, authenticates again once on a 401, retries 429/503 (waiting `Retry-After`, bounded) and
transport errors a bounded number of times (the shared loop of ingestion/common/retry.py: each retry is logged and
counted in `retries`), and raises `PortalError` naming the endpoint and the declaration otherwise
(`DeclarationNotFound` on a 404). `land(client, declaration_ids, registry, land_batch)` puts each body through
the file drop's own reading (`filedrop.read`: parse, contract, quarantine) and registry, so the portal lands the
same rows in the same lake datasets and raw tables as a broker's file with the same bytes. Pure: no dagster.

Configuration (`PortalConfig.from_env`): `PORTAL_UNICO_URL`, `PORTAL_UNICO_CLIENT_CERT` and
`PORTAL_UNICO_CLIENT_KEY` (PEM paths; the key must not be readable by group or others), `PORTAL_UNICO_CA_BUNDLE`
(PEM path; empty: the system's), `PORTAL_UNICO_ROLE_TYPE` (default IMPEXP), `PORTAL_UNICO_DUIMP_PATH`.
"""

import hashlib
import os
import re
import ssl
import stat
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from ingestion.common.retry import RetryCounter, RetrySettings, TransientError, call_with_retry, retry_after_seconds
from ingestion.customs import filedrop
from ingestion.erp.parsed_filedrop import BATCH_FILES
from ingestion.erp.state import FileRegistry

AUTH_PATH = "/portal/api/autenticar"
DEFAULT_DUIMP_PATH = "/duimp/api/ext/sefaz/duimp/{numero}"
DEFAULT_ROLE_TYPE = "IMPEXP"
RETRY_STATUSES = frozenset({429, 503})
EXPIRY_MARGIN_S = 30.0  # authenticate again this long before the session's announced expiry


class PortalError(RuntimeError):
    """A call to the Portal Único failed; the message names the endpoint and, for a consultation, the DUIMP."""

    def __init__(self, message: str, endpoint: str, declaration_id: str | None = None, status: int | None = None):
        super().__init__(message)
        self.endpoint, self.declaration_id, self.status = endpoint, declaration_id, status


class DeclarationNotFound(PortalError):
    """The portal has no such DUIMP (404)."""


def portal_number(declaration_id: str) -> str:
    """`24BR1234567890-1` (the platform's spelling) -> `24BR12345678901` (the portal's 15 characters)."""
    number = declaration_id.replace("-", "").strip()
    if not re.fullmatch(r"\d{2}BR\d{11}", number):
        raise ValueError(f"{declaration_id!r} is not a DUIMP number (yyBR + 10 digits + check digit)")
    return number


@dataclass(frozen=True)
class PortalConfig:
    base_url: str
    client_cert: str
    client_key: str
    ca_bundle: str | None = None
    role_type: str = DEFAULT_ROLE_TYPE
    duimp_path: str = DEFAULT_DUIMP_PATH
    timeout_s: float = 30.0
    max_attempts: int = 4  # per call, the first included
    max_wait_s: float = 60.0  # the longest wait: a longer Retry-After is waited this long
    backoff_s: float = 1.0  # the first wait, doubling (1, 2, 4 ... s) when no longer Retry-After came

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "PortalConfig":
        env = os.environ if env is None else env
        missing = [
            name
            for name in ("PORTAL_UNICO_URL", "PORTAL_UNICO_CLIENT_CERT", "PORTAL_UNICO_CLIENT_KEY")
            if not env.get(name)
        ]
        if missing:
            raise PortalError(f"CUSTOMS_SOURCE=portal needs {', '.join(missing)} (see .env.example)", AUTH_PATH)
        return cls(
            base_url=env["PORTAL_UNICO_URL"].rstrip("/"),
            client_cert=env["PORTAL_UNICO_CLIENT_CERT"],
            client_key=env["PORTAL_UNICO_CLIENT_KEY"],
            ca_bundle=env.get("PORTAL_UNICO_CA_BUNDLE") or None,
            role_type=env.get("PORTAL_UNICO_ROLE_TYPE") or DEFAULT_ROLE_TYPE,
            duimp_path=env.get("PORTAL_UNICO_DUIMP_PATH") or DEFAULT_DUIMP_PATH,
        )

    def retry_settings(self) -> RetrySettings:
        """The shared retry loop's settings; no jitter: one client, so nothing to spread out."""
        return RetrySettings(
            max_attempts=self.max_attempts, wait_initial=self.backoff_s, wait_max=self.max_wait_s, jitter=False
        )

    def check_files(self) -> None:
        """The certificate, key and CA bundle exist, and the key is private (0600 or stricter)."""
        for label, path in (("client certificate", self.client_cert), ("client key", self.client_key)):
            if not os.path.isfile(path):
                raise PortalError(f"the {label} {path} does not exist", AUTH_PATH)
        if self.ca_bundle and not os.path.isfile(self.ca_bundle):
            raise PortalError(f"the CA bundle {self.ca_bundle} does not exist", AUTH_PATH)
        mode = stat.S_IMODE(os.stat(self.client_key).st_mode)
        if mode & 0o077:
            raise PortalError(
                f"the client key {self.client_key} is readable by others (mode {mode:04o}): chmod 600 it", AUTH_PATH
            )


@dataclass
class _Session:
    authorization: str
    csrf: str
    expires_at: float | None  # epoch seconds; None: until the portal answers 401


@dataclass
class PortalClient:
    """One mutual-TLS connection pool to the portal; use as a context manager (or call `close`)."""

    config: PortalConfig
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    authentications: int = 0
    retries: RetryCounter = field(default_factory=RetryCounter)  # retried attempts by reason ("HTTP 429", ...)
    _session: _Session | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.config.check_files()
        tls = ssl.create_default_context(cafile=self.config.ca_bundle)  # None: the system's CA store
        tls.load_cert_chain(self.config.client_cert, self.config.client_key)  # mutual TLS: the company's certificate
        self._http = httpx.Client(
            base_url=self.config.base_url, verify=tls, timeout=httpx.Timeout(self.config.timeout_s)
        )

    def __enter__(self) -> "PortalClient":
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- the calls ------------------------------------------------------------------------------------------------

    def authenticate(self) -> None:
        response = self._send("POST", AUTH_PATH, {"Role-Type": self.config.role_type}, None)
        if response.status_code != 200:
            raise PortalError(
                f"POST {AUTH_PATH}: authentication refused, HTTP {response.status_code}: {_excerpt(response)}",
                AUTH_PATH,
                status=response.status_code,
            )
        token, csrf = response.headers.get("Set-Token"), response.headers.get("X-CSRF-Token")
        if not token or not csrf:
            raise PortalError(f"POST {AUTH_PATH}: the answer lacks Set-Token or X-CSRF-Token", AUTH_PATH, status=200)
        expiry = response.headers.get("X-CSRF-Expiration")
        expires_at = int(expiry) / 1000 if expiry and expiry.isdigit() else None
        self._session = _Session(token, csrf, expires_at)
        self.authentications += 1

    def duimp(self, declaration_id: str) -> bytes:
        """The DUIMP's JSON body (see the module docstring for the retries and errors)."""
        path = self.config.duimp_path.format(numero=portal_number(declaration_id))
        reauthenticated = False
        while True:
            response = self._send("GET", path, self._auth_headers(), declaration_id)
            if response.status_code == 401 and not reauthenticated:
                self._session, reauthenticated = None, True  # expired or revoked: one new session, then give up
                continue
            break
        if response.status_code == 200:
            return response.content
        if response.status_code == 404:
            raise DeclarationNotFound(
                f"GET {path}: DUIMP {declaration_id} not found (HTTP 404)", path, declaration_id, 404
            )
        raise PortalError(
            f"GET {path}: DUIMP {declaration_id} failed, HTTP {response.status_code}: {_excerpt(response)}",
            path,
            declaration_id,
            response.status_code,
        )

    # --- plumbing -------------------------------------------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        session = self._session
        if session is None or (session.expires_at is not None and self.clock() >= session.expires_at - EXPIRY_MARGIN_S):
            self.authenticate()
            session = self._session
        return {"Authorization": session.authorization, "X-CSRF-Token": session.csrf}

    def _send(self, method: str, path: str, headers: dict[str, str], declaration_id: str | None) -> httpx.Response:
        """One call with bounded retries (ingestion/common/retry.py): 429/503 after their Retry-After (capped),
        transport errors after a 1, 2, 4 ... s backoff; any other answer is returned."""
        what = f"{method} {path}" + (f" (DUIMP {declaration_id})" if declaration_id else "")

        def attempt(number: int) -> httpx.Response:
            try:
                response = self._http.request(method, path, headers={"Accept": "application/json", **headers})
            except httpx.TransportError as error:
                raise TransientError(type(error).__name__, str(error)) from error
            if response.status_code in RETRY_STATUSES:
                raise TransientError(
                    f"HTTP {response.status_code}",
                    status=response.status_code,
                    retry_after=retry_after_seconds(response),
                )
            return response

        try:
            return call_with_retry(
                attempt,
                source="Portal Único",
                request=what,
                settings=self.config.retry_settings(),
                sleep=self.sleep,
                retries=self.retries,
            )
        except TransientError as error:
            raise PortalError(
                f"{what}: gave up after {error.attempts} attempts, last: {error.summary}",
                path,
                declaration_id,
                error.status,
            ) from None


def _excerpt(response: httpx.Response) -> str:
    return response.text[:200].replace("\n", " ") or "(empty body)"


# --- landing: the file drop's contract, quarantine and registry ------------------------------------------------------


@dataclass(frozen=True)
class PortalResult:
    declaration_id: str
    result: filedrop.FileResult | None  # None when the portal gave no body (see `error`)
    error: str | None = None


class PortalStopped(PortalError):
    """A portal error stopped the fetching part-way: `landed` is what was fetched and landed before it."""

    def __init__(self, error: PortalError, landed: list[PortalResult]):
        super().__init__(str(error), error.endpoint, error.declaration_id, error.status)
        self.landed = landed


def file_name(declaration_id: str) -> str:
    """The name a fetched DUIMP carries through the file drop's reading (the broker's file name for it)."""
    return f"DUIMP_{portal_number(declaration_id)}.json"


def land(
    client: PortalClient,
    declaration_ids: Iterable[str],
    registry: FileRegistry,
    land_batch: Callable[[list[filedrop.FileResult]], None] | None = None,
    batch_size: int = BATCH_FILES,
) -> list[PortalResult]:
    """Fetch each DUIMP and land it exactly as the file drop lands a file with the same bytes: parse, contract,
    quarantine (`filedrop.read`), then `land_batch` (every `batch_size` answers, one lake write for them), then the
    registry (the same bytes are never landed twice, whichever channel brought them first). A DUIMP the portal does
    not have (404) is reported, not quarantined: nothing was read. Any other portal error stops the fetching: what
    was fetched before it is landed and recorded, then `PortalStopped` is raised carrying it, so the caller can
    report it."""
    results: list[PortalResult] = []
    pending: list[PortalResult] = []  # in the order asked; the read ones are not landed yet
    read: dict[str, filedrop.FileResult] = {}  # sha256 -> a read answer in `pending`

    def flush() -> None:
        if land_batch is not None and read:
            land_batch(list(read.values()))
        registry.record_many(
            {
                sha256: filedrop.registry_entry(result.file, result, f"portal:{client.config.base_url}")
                for sha256, result in read.items()
                if result.status != filedrop.FileStatus.QUARANTINED
            }
        )
        results.extend(pending)
        pending.clear()
        read.clear()

    for declaration_id in declaration_ids:
        try:
            data = client.duimp(declaration_id)
        except DeclarationNotFound as error:
            pending.append(PortalResult(declaration_id, None, str(error)))
            continue
        except PortalError as error:
            flush()
            raise PortalStopped(error, results) from error
        name = file_name(declaration_id)
        sha256 = hashlib.sha256(data).hexdigest()
        if sha256 in read:  # the same bytes twice: skipped against the first once it has landed
            flush()
        dropped = filedrop.DroppedFile(None, name, sha256, len(data), datetime.now(UTC))
        prior = registry.get(sha256)
        if prior is not None:
            message = f"skipped: the same content (sha256 {sha256}) was already loaded from {prior.get('file')}"
            skipped = filedrop.FileResult(dropped, filedrop.FileStatus.SKIPPED, filedrop.empty_tables(), [], message)
            pending.append(PortalResult(declaration_id, skipped))
            continue
        read[sha256] = filedrop.read(dropped, data, registry)
        pending.append(PortalResult(declaration_id, read[sha256]))
        if len(read) >= batch_size:
            flush()
    flush()
    return results
