"""Which institutions to pull and how to reach them.

An `Institution` holds no secret: the certificate and key are files whose paths come from the environment, and
tokens live in the token store (auth.py). `load_settings(environ, data_dir)` reads everything at call time
(never at import). The institutions list is a YAML or JSON file named by `OPEN_FINANCE_INSTITUTIONS`:

```yaml
institutions:
  - name: banco_a                       # our label: lower-case letters, digits, underscores
    api_base_url: https://api.banco-a.com.br   # the official family paths are appended (API_FAMILIES)
    token_url: https://auth.banco-a.com.br/token
    client_id: 5f1c...                  # from the Directory registration
    consent_id: "urn:bancoa:C1DD33123"
    # optional: api_urls: {exchanges: https://.../open-banking/exchanges/v1}, redirect_uri, signing_key_id,
    #   directory: "<OrganisationId | AuthorisationServerId | CNPJ | name>"   # for `importau open-finance connect`
    #   permissions: [...],
    #   monthly_call_budget: {default: 300, "accounts/v2/accounts/{accountId}/balances": 600},
    #   max_parallel_calls: 4           # FX operation details/events fetched at once (1 = one after another)
```

Per institution, `OPEN_FINANCE_<NAME>_CERT_PATH`, `_KEY_PATH`, `_CA_PATH`, `_SIGNING_KEY_PATH` (upper-case
name) win over the shared `OPEN_FINANCE_CERT_PATH`, `OPEN_FINANCE_KEY_PATH`, `OPEN_FINANCE_CA_PATH`,
`OPEN_FINANCE_SIGNING_KEY_PATH`: one company certificate usually serves every institution. `certificate_file`
checks one of these files when the client is built: a path that does not exist, is a folder or cannot be read
raises `CertificateFileError` naming the institution, the variable that set it and the path.

An institution connected with `importau open-finance connect` (journey.py) may leave out `consent_id`,
`api_base_url` and `token_url`: the token store records the consent its refresh token is bound to and the
endpoints discovered from the Directory, and `load_institutions(environ, token_store)` fills them in (the stored
consent wins over the file's, since the stored refresh token belongs to it; endpoints set in the file win).
"""

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# Base paths of the API versions this client speaks (the servers block of each spec in specs/).
API_FAMILIES: dict[str, str] = {
    "consents": "/open-banking/consents/v3",
    "resources": "/open-banking/resources/v3",
    "accounts": "/open-banking/accounts/v2",
    "credit-cards-accounts": "/open-banking/credit-cards-accounts/v2",
    "exchanges": "/open-banking/exchanges/v1",
}

# Whole permission groups (conformance rejects partial groups), plus RESOURCES_READ.
ACCOUNT_PERMISSIONS = ("ACCOUNTS_READ", "ACCOUNTS_BALANCES_READ", "ACCOUNTS_TRANSACTIONS_READ")
CARD_PERMISSIONS = (
    "CREDIT_CARDS_ACCOUNTS_READ",
    "CREDIT_CARDS_ACCOUNTS_BILLS_READ",
    "CREDIT_CARDS_ACCOUNTS_BILLS_TRANSACTIONS_READ",
    "CREDIT_CARDS_ACCOUNTS_TRANSACTIONS_READ",
)
EXCHANGE_PERMISSIONS = ("EXCHANGES_READ",)
DEFAULT_PERMISSIONS = (*ACCOUNT_PERMISSIONS, *CARD_PERMISSIONS, *EXCHANGE_PERMISSIONS, "RESOURCES_READ")

# Scopes the authorization request (PAR, outside this package) asks for, plus `consent:<consentId>`.
DATA_SCOPES = "openid accounts credit-cards-accounts exchanges resources"
CONSENT_SCOPE = "consents"
DEFAULT_MONTHLY_BUDGET = 300  # calls per endpoint per institution per month unless configured otherwise
DEFAULT_WINDOW_DAYS = 7
# Calls in flight at once to one institution when a pull fans out (the detail and events of each FX operation).
# Institutions publish per-client rate limits (TPS/TPM), not a concurrency figure; 4 keeps a pull well inside
# the usual limits while hiding most of the latency. Set `max_parallel_calls` per institution to change it.
DEFAULT_MAX_PARALLEL_CALLS = 4

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class ConfigError(ValueError):
    """The Open Finance configuration is incomplete or malformed; the message names the setting to fix."""


class CertificateFileError(ConfigError):
    """A certificate or key file named by the environment is missing, a folder, unreadable or not loadable.

    `variable` is the environment variable that gave the path (or the two it may come from), `path` the path."""

    def __init__(self, institution: str, variable: str, path: str, problem: str, check: str):
        self.institution, self.variable, self.path = institution, variable, path
        super().__init__(f"Open Finance institution {institution!r}: {path} (from {variable}) {problem}. {check}")


@dataclass(frozen=True)
class Institution:
    """One institution (transmissora) the company has a consent with."""

    name: str
    api_base_url: str
    token_url: str
    client_id: str
    consent_id: str
    cert_path: str
    key_path: str
    ca_path: str | None = None  # None = the system trust store (production banks use public CAs)
    signing_key_path: str | None = None  # private_key_jwt key; None = the transport key
    signing_key_id: str | None = None  # `kid` of the signing key as registered in the Directory JWKS
    redirect_uri: str | None = None
    api_urls: Mapping[str, str] = field(default_factory=dict)  # per-family override of the full base URL
    permissions: tuple[str, ...] = DEFAULT_PERMISSIONS
    monthly_call_budget: Mapping[str, int] = field(default_factory=dict)  # endpoint -> calls; "default"
    max_parallel_calls: int = DEFAULT_MAX_PARALLEL_CALLS  # calls in flight at once when a pull fans out
    # attribute (cert_path, key_path, ...) -> the environment variable that set it, for error messages
    path_variables: Mapping[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ConfigError(f"institution name {self.name!r} must match {_NAME.pattern}")
        if not 1 <= self.max_parallel_calls <= 32:
            raise ConfigError(
                f"institution {self.name!r}: max_parallel_calls must be between 1 and 32, got {self.max_parallel_calls}"
            )
        for attribute in ("api_base_url", "token_url", "client_id", "consent_id", "cert_path", "key_path"):
            if not getattr(self, attribute):
                raise ConfigError(f"institution {self.name!r}: {attribute} is empty")
        unknown = set(self.api_urls) - set(API_FAMILIES)
        if unknown:
            raise ConfigError(f"institution {self.name!r}: unknown API families in api_urls: {sorted(unknown)}")

    def url(self, family: str) -> str:
        """Base URL of one API family, e.g. url('accounts') = https://host/open-banking/accounts/v2."""
        if family in self.api_urls:
            return self.api_urls[family].rstrip("/")
        return self.api_base_url.rstrip("/") + API_FAMILIES[family]

    def budget_for(self, endpoint: str) -> int:
        return int(
            self.monthly_call_budget.get(endpoint, self.monthly_call_budget.get("default", DEFAULT_MONTHLY_BUDGET))
        )


@dataclass(frozen=True)
class Settings:
    institutions: tuple[Institution, ...]
    budget_file: Path
    token_file: Path
    window_days: int = DEFAULT_WINDOW_DAYS


def _env_name(name: str, suffix: str) -> str:
    return f"OPEN_FINANCE_{name.upper()}_{suffix}"


def _path_variable(environ: Mapping[str, str], name: str, suffix: str) -> str:
    """The variable a path setting comes from: the institution's own when set, else the shared one."""
    own = _env_name(name, suffix)
    return own if environ.get(own) else f"OPEN_FINANCE_{suffix}"


def _path_setting(environ: Mapping[str, str], name: str, suffix: str, required: bool) -> str | None:
    value = environ.get(_env_name(name, suffix)) or environ.get(f"OPEN_FINANCE_{suffix}")
    if required and not value:
        raise ConfigError(
            f"institution {name!r}: set {_env_name(name, suffix)} or OPEN_FINANCE_{suffix} "
            "(a file path outside the repository)"
        )
    return value or None


# attribute -> (environment suffix, what the file is, what it must hold)
_CERTIFICATE_FILES = {
    "cert_path": ("CERT_PATH", "the client (transport) certificate", "the company's PEM certificate"),
    "key_path": ("KEY_PATH", "the client certificate's private key", "the PEM private key of CERT_PATH"),
    "ca_path": ("CA_PATH", "the CA bundle trusted for the institution", "PEM CA certificates"),
    "signing_key_path": ("SIGNING_KEY_PATH", "the private_key_jwt signing key", "a PEM RSA private key"),
}


def certificate_variable(institution: Institution, attribute: str) -> str:
    """The environment variable that set a certificate or key path (both candidates when it is not known)."""
    suffix = _CERTIFICATE_FILES[attribute][0]
    recorded = institution.path_variables.get(attribute)
    return recorded or f"{_env_name(institution.name, suffix)} (or the shared OPEN_FINANCE_{suffix})"


def certificate_error(institution: Institution, attribute: str, problem: str, check: str = "") -> CertificateFileError:
    """A `CertificateFileError` for one path attribute, naming its variable and path."""
    path = str(getattr(institution, attribute))
    what, holds = _CERTIFICATE_FILES[attribute][1:]
    check = check or (
        f"Check that the variable names {what} ({holds}) on this machine, spelled as it is on disk; a relative "
        f"path is read from the working directory {os.getcwd()}"
    )
    return CertificateFileError(institution.name, certificate_variable(institution, attribute), path, problem, check)


def certificate_file(institution: Institution, attribute: str) -> str:
    """The path in `institution.<attribute>` (cert_path, key_path, ca_path, signing_key_path) once it is known to
    be a readable file; else `CertificateFileError` naming the variable, the path and what to check."""
    path = Path(str(getattr(institution, attribute)))
    if not path.exists():
        missing = next((parent for parent in reversed(path.parents) if not parent.exists()), None)
        where = f" (the folder {missing} does not exist either)" if missing is not None else ""
        raise certificate_error(institution, attribute, f"does not exist{where}")
    if not path.is_file():
        problem = "is a folder, not a file" if path.is_dir() else "is not a regular file"
        raise certificate_error(institution, attribute, problem)
    if not os.access(path, os.R_OK):
        raise certificate_error(
            institution,
            attribute,
            "cannot be read by this process",
            f"Check the file's owner and permissions (user id {os.getuid()} runs this; keep keys at 0600)",
        )
    return str(path)


def _read_list(spec: str) -> list[dict]:
    text = spec if spec.lstrip().startswith(("[", "{")) else Path(spec).read_text(encoding="utf-8")
    loaded = json.loads(text) if text.lstrip().startswith(("[", "{")) else yaml.safe_load(text)
    entries = loaded.get("institutions", []) if isinstance(loaded, dict) else loaded
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise ConfigError("OPEN_FINANCE_INSTITUTIONS must list institutions (a list of mappings)")
    return entries


_SECRET_KEYS = {"cert_path", "key_path", "ca_path", "signing_key_path", "refresh_token", "client_secret"}


def with_connection(entry: Mapping, connection: Mapping | None) -> dict:
    """The institutions-file entry completed by what `connect` stored: its consent, and the discovered endpoints
    where the file gives none."""
    entry = dict(entry)
    if not connection or not connection.get("consent_id"):
        return entry
    entry["consent_id"] = connection["consent_id"]
    if not entry.get("token_url") and connection.get("token_url"):
        entry["token_url"] = connection["token_url"]
    if not entry.get("api_base_url") and not entry.get("api_urls") and connection.get("api_urls"):
        entry["api_urls"] = dict(connection["api_urls"])
        entry["api_base_url"] = connection.get("api_base_url") or next(iter(connection["api_urls"].values()))
    return entry


def institution_from_mapping(
    entry: Mapping, environ: Mapping[str, str], connection: Mapping | None = None
) -> Institution:
    """One entry of the institutions file, with certificate paths from the environment (and, when given, the
    connection `importau open-finance connect` stored for it)."""
    entry = with_connection(entry, connection)
    name = str(entry.get("name", ""))
    if _NAME.match(name) and not entry.get("consent_id"):
        raise ConfigError(
            f"institution {name!r} has no consent yet: run `importau open-finance connect {name}` (the account "
            "holder approves it at the bank), or set consent_id in the institutions file"
        )
    misplaced = _SECRET_KEYS & set(entry)
    if misplaced:
        raise ConfigError(
            f"institution {name!r}: {sorted(misplaced)} do not belong in the institutions file; "
            "certificate and key paths come from the environment (see ingestion/open_finance/README.md)"
        )
    path_variables = {
        attribute: _path_variable(environ, name, suffix)
        for attribute, (suffix, _, _) in _CERTIFICATE_FILES.items()
        if environ.get(_env_name(name, suffix)) or environ.get(f"OPEN_FINANCE_{suffix}")
    }
    return Institution(
        name=name,
        api_base_url=str(entry.get("api_base_url", "")),
        token_url=str(entry.get("token_url", "")),
        client_id=str(entry.get("client_id", "")),
        consent_id=str(entry.get("consent_id", "")),
        cert_path=_path_setting(environ, name, "CERT_PATH", True) or "",
        key_path=_path_setting(environ, name, "KEY_PATH", True) or "",
        ca_path=_path_setting(environ, name, "CA_PATH", False),
        signing_key_path=_path_setting(environ, name, "SIGNING_KEY_PATH", False),
        signing_key_id=entry.get("signing_key_id"),
        redirect_uri=entry.get("redirect_uri"),
        api_urls=dict(entry.get("api_urls") or {}),
        permissions=tuple(entry.get("permissions") or DEFAULT_PERMISSIONS),
        monthly_call_budget={str(k): int(v) for k, v in (entry.get("monthly_call_budget") or {}).items()},
        max_parallel_calls=int(
            DEFAULT_MAX_PARALLEL_CALLS if entry.get("max_parallel_calls") is None else entry["max_parallel_calls"]
        ),
        path_variables=path_variables,
    )


def institution_entries(environ: Mapping[str, str]) -> list[dict]:
    """The raw entries of OPEN_FINANCE_INSTITUTIONS (a file path, or inline JSON); [] when unset."""
    spec = environ.get("OPEN_FINANCE_INSTITUTIONS", "").strip()
    return _read_list(spec) if spec else []


def load_institutions(environ: Mapping[str, str], token_store=None) -> tuple[Institution, ...]:
    """The institutions named by OPEN_FINANCE_INSTITUTIONS (a file path, or inline JSON); () when unset.

    With a `token_store` (auth.TokenStore), each institution's stored connection completes its entry."""
    entries = institution_entries(environ)
    if not entries:
        return ()
    institutions = tuple(
        institution_from_mapping(
            entry, environ, token_store.connection(str(entry.get("name", ""))) if token_store is not None else None
        )
        for entry in entries
    )
    names = [institution.name for institution in institutions]
    if len(set(names)) != len(names):
        raise ConfigError(f"institution names must be unique, got {names}")
    return institutions


def state_dir(environ: Mapping[str, str], data_dir: str | Path) -> Path:
    """Where the token store and the call budget live: OPEN_FINANCE_STATE_DIR, else <data dir>/open_finance. The one
    rule the pulls (the Dagster resource) and `importau open-finance connect` share."""
    return Path(environ.get("OPEN_FINANCE_STATE_DIR") or Path(data_dir) / "open_finance")


def token_file(environ: Mapping[str, str], data_dir: str | Path) -> Path:
    """Where refresh tokens live: OPEN_FINANCE_TOKEN_FILE, else tokens.json in the state folder."""
    return Path(environ.get("OPEN_FINANCE_TOKEN_FILE") or state_dir(environ, data_dir) / "tokens.json")


def budget_file(environ: Mapping[str, str], data_dir: str | Path) -> Path:
    """Where the call budget persists: OPEN_FINANCE_BUDGET_FILE, else call_budget.json in the state folder."""
    return Path(environ.get("OPEN_FINANCE_BUDGET_FILE") or state_dir(environ, data_dir) / "call_budget.json")


def load_settings(environ: Mapping[str, str], data_dir: str | Path) -> Settings:
    """Institutions plus where the call budget and the refresh tokens persist (under the data dir by default)."""
    window = int(environ.get("OPEN_FINANCE_WINDOW_DAYS") or DEFAULT_WINDOW_DAYS)
    if window < 1:
        raise ConfigError(f"OPEN_FINANCE_WINDOW_DAYS must be at least 1, got {window}")
    return Settings(
        institutions=load_institutions(environ),
        budget_file=budget_file(environ, data_dir),
        token_file=token_file(environ, data_dir),
        window_days=window,
    )


def initial_grant(institution: Institution, environ: Mapping[str, str]) -> dict[str, str]:
    """A first grant for an institution with no stored refresh token, from the environment (one-time values).

    `OPEN_FINANCE_<NAME>_AUTHORIZATION_CODE` (the code the institution's redirect returned after the user
    approved the consent) or `OPEN_FINANCE_<NAME>_REFRESH_TOKEN`. Either goes to the token store at first use.
    """
    grant = {}
    for suffix, key in (("AUTHORIZATION_CODE", "authorization_code"), ("REFRESH_TOKEN", "refresh_token")):
        value = environ.get(_env_name(institution.name, suffix))
        if value:
            grant[key] = value
    return grant
