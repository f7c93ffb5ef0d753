"""Where an institution's endpoints are: the Open Finance Directory of Participants and the OpenID discovery document.

The Directory publishes every participant (`GET https://data.directory.openbankingbrasil.org.br/participants`, the
shape of `shared/reference/open-finance/specs/directory/swagger_participants.yaml`): organisations, each with
`AuthorisationServers[]`, each with its `OpenIDDiscoveryDocument` URL and its `ApiResources[]` (`ApiFamilyType`,
`ApiVersion`, `ApiDiscoveryEndpoints[].ApiEndpoint`). `find_authorisation_server` picks one authorisation server
of one organisation and the base URL of each API family this client speaks (`config.API_FAMILIES`, same major
version). `read_openid_configuration` reads the server's discovery document and prefers its mutual-TLS aliases
(RFC 8705 section 5: `mtls_endpoint_aliases`) for the token and PAR endpoints, which is where FAPI clients call.

Nothing here needs a secret: the participants document and the discovery document are public.
"""

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from ingestion.open_finance.config import API_FAMILIES

# Production Directory (the spec's servers block); the sandbox Directory is data.sandbox.directory...
DEFAULT_PARTICIPANTS_URL = "https://data.directory.openbankingbrasil.org.br/participants"
PARTICIPANTS_TIMEOUT = 30.0
_FAMILY_BASE = re.compile(r"^(https?://[^?#]+?/open-banking/([a-z0-9-]+)/v(\d+))(?:/|$)")


class DirectoryError(ValueError):
    """The Directory or discovery document does not give what the journey needs; the message says what and where."""


@dataclass(frozen=True)
class AuthorisationServer:
    organisation_id: str
    organisation_name: str
    registration_number: str  # the organisation's CNPJ in the Brazilian Directory
    authorisation_server_id: str
    name: str  # CustomerFriendlyName
    discovery_url: str
    issuer: str | None
    api_urls: Mapping[str, str]  # family -> base URL, e.g. accounts -> https://host/open-banking/accounts/v2


@dataclass(frozen=True)
class OpenIdConfiguration:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str  # the mutual-TLS alias when the document has one
    pushed_authorization_request_endpoint: str  # idem
    jwks_uri: str
    response_types: tuple[str, ...]
    raw: Mapping


def load_participants(source: str, timeout: float = PARTICIPANTS_TIMEOUT) -> list[dict]:
    """The participants document from a file path or an http(s) URL (a JSON array of organisations)."""
    if re.match(r"^https?://", source):
        try:
            response = httpx.get(source, timeout=timeout, follow_redirects=True, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise DirectoryError(f"Directory participants {source}: {type(error).__name__}") from None
        if response.status_code != 200:
            raise DirectoryError(f"Directory participants {source}: HTTP {response.status_code}")
        text = response.text
    else:
        path = Path(source)
        if not path.is_file():
            raise DirectoryError(f"Directory participants file {source} does not exist or is not a file")
        text = path.read_text(encoding="utf-8-sig")
    try:
        document = json.loads(text)
    except ValueError:
        raise DirectoryError(f"Directory participants {source}: not JSON") from None
    if not isinstance(document, list) or not all(isinstance(entry, dict) for entry in document):
        raise DirectoryError(f"Directory participants {source}: expected a JSON array of organisations")
    return document


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _matches(organisation: Mapping, server: Mapping, selector: str) -> bool:
    wanted = selector.strip().casefold()
    exact = {
        str(organisation.get("OrganisationId", "")).casefold(),
        str(server.get("AuthorisationServerId", "")).casefold(),
    }
    if wanted in exact:
        return True
    if (
        _digits(selector)
        and len(_digits(selector)) == 14
        and _digits(selector) == _digits(str(organisation.get("RegistrationNumber", "")))
    ):
        return True
    names = (
        organisation.get("OrganisationName"),
        organisation.get("LegalEntityName"),
        organisation.get("RegisteredName"),
        server.get("CustomerFriendlyName"),
    )
    return any(isinstance(name, str) and name.strip().casefold() == wanted for name in names)


def family_urls(server: Mapping, families: Mapping[str, str] = API_FAMILIES) -> dict[str, str]:
    """Base URL per API family this client speaks, from the server's `ApiResources` (same major version only)."""
    found: dict[str, str] = {}
    for resource in server.get("ApiResources") or []:
        for endpoint in resource.get("ApiDiscoveryEndpoints") or []:
            match = _FAMILY_BASE.match(str(endpoint.get("ApiEndpoint", "")))
            if not match:
                continue
            base, family, major = match.groups()
            if family in families and families[family].endswith(f"/v{major}"):
                found.setdefault(family, base)
    return found


def find_authorisation_server(participants: Sequence[Mapping], selector: str, institution: str) -> AuthorisationServer:
    """The one active authorisation server matching `selector`: an OrganisationId, an AuthorisationServerId, the
    organisation's CNPJ (RegistrationNumber) or its name / the server's CustomerFriendlyName (case-insensitive).

    Raises `DirectoryError` when none or several match, or when an API family this client needs is not published
    (in the major version it speaks)."""
    candidates = [
        (organisation, server)
        for organisation in participants
        if str(organisation.get("Status", "Active")) == "Active"
        for server in organisation.get("AuthorisationServers") or []
        if _matches(organisation, server, selector)
    ]
    if not candidates:
        raise DirectoryError(
            f"Open Finance institution {institution!r}: no active organisation or authorisation server in the "
            f"Directory matches {selector!r} (an OrganisationId, AuthorisationServerId, CNPJ or name)"
        )
    if len(candidates) > 1:
        listed = ", ".join(
            f"{server.get('AuthorisationServerId')} ({server.get('CustomerFriendlyName')})" for _, server in candidates
        )
        raise DirectoryError(
            f"Open Finance institution {institution!r}: {selector!r} matches {len(candidates)} authorisation servers "
            f"in the Directory: {listed}; give the AuthorisationServerId instead"
        )
    organisation, server = candidates[0]
    urls = family_urls(server)
    missing = sorted(set(API_FAMILIES) - set(urls))
    if missing:
        raise DirectoryError(
            f"Open Finance institution {institution!r}: authorisation server {server.get('AuthorisationServerId')} "
            f"publishes no {', '.join(missing)} API in the versions this client speaks "
            f"({', '.join(API_FAMILIES[family].rsplit('/', 1)[1] for family in missing)})"
        )
    discovery = str(server.get("OpenIDDiscoveryDocument") or "")
    if not discovery.startswith(("https://", "http://")):
        raise DirectoryError(
            f"Open Finance institution {institution!r}: authorisation server "
            f"{server.get('AuthorisationServerId')} has no OpenIDDiscoveryDocument URL in the Directory"
        )
    return AuthorisationServer(
        organisation_id=str(organisation.get("OrganisationId", "")),
        organisation_name=str(organisation.get("OrganisationName", "")),
        registration_number=str(organisation.get("RegistrationNumber", "")),
        authorisation_server_id=str(server.get("AuthorisationServerId", "")),
        name=str(server.get("CustomerFriendlyName") or organisation.get("OrganisationName") or ""),
        discovery_url=discovery,
        issuer=server.get("Issuer"),
        api_urls=urls,
    )


def parse_openid_configuration(
    document: Mapping, source: str, expected_issuer: str | None = None
) -> OpenIdConfiguration:
    """The endpoints the journey uses; `DirectoryError` naming the missing field or a foreign issuer."""
    aliases = document.get("mtls_endpoint_aliases") or {}

    def field(name: str, alias: bool = False) -> str:
        value = (aliases.get(name) if alias else None) or document.get(name)
        if not isinstance(value, str) or not value:
            raise DirectoryError(f"OpenID discovery document {source} has no {name}")
        return value

    issuer = field("issuer")
    if expected_issuer and issuer.rstrip("/") != expected_issuer.rstrip("/"):
        raise DirectoryError(
            f"OpenID discovery document {source} names issuer {issuer}, the Directory says {expected_issuer}"
        )
    return OpenIdConfiguration(
        issuer=issuer,
        authorization_endpoint=field("authorization_endpoint"),
        token_endpoint=field("token_endpoint", alias=True),
        pushed_authorization_request_endpoint=field("pushed_authorization_request_endpoint", alias=True),
        jwks_uri=field("jwks_uri"),
        response_types=tuple(document.get("response_types_supported") or ()),
        raw=dict(document),
    )


def read_openid_configuration(http: httpx.Client, server: AuthorisationServer) -> OpenIdConfiguration:
    """GET the server's discovery document (over the given client) and parse it."""
    try:
        response = http.get(server.discovery_url, headers={"Accept": "application/json"})
    except httpx.HTTPError as error:
        raise DirectoryError(f"OpenID discovery document {server.discovery_url}: {type(error).__name__}") from None
    if response.status_code != 200:
        raise DirectoryError(f"OpenID discovery document {server.discovery_url}: HTTP {response.status_code}")
    try:
        document = response.json()
    except ValueError:
        raise DirectoryError(f"OpenID discovery document {server.discovery_url}: not JSON") from None
    if not isinstance(document, dict):
        raise DirectoryError(f"OpenID discovery document {server.discovery_url}: not a JSON object")
    return parse_openid_configuration(document, server.discovery_url, server.issuer)
