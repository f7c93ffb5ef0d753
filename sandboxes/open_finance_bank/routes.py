"""Routing, FAPI checks and the consents API of the sandbox.

Every API request needs a UUID `x-fapi-interaction-id` (else 400, answered with the sandbox's own id) and a
Bearer token bound to the TLS client certificate it arrives over. The consents API takes client_credentials
tokens (scope `consents`); the data APIs take consent-bound tokens whose consent is AUTHORISED, unexpired and
holds the endpoint's permission (401 for an unusable consent or token, 403 for a missing permission).
"""

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sandboxes.open_finance_bank import endpoints as ep
from sandboxes.open_finance_bank.render import ApiError, Reply, error_reply, json_reply, request_time
from sandboxes.open_finance_bank.state import ConsentRecord, SandboxState, TokenRecord

A = "/open-banking/accounts/v2/accounts"
C = "/open-banking/credit-cards-accounts/v2/accounts"
X = "/open-banking/exchanges/v1/operations"
ID = r"([a-zA-Z0-9][a-zA-Z0-9-]{0,99})"
CONSENT_ID = r"(urn:[a-zA-Z0-9][a-zA-Z0-9-]{0,31}:[a-zA-Z0-9()+,\-.:=@;$_!*'%/?#]+)"

# (regex, handler, permission, extra keyword arguments)
DATA_ROUTES: list[tuple[re.Pattern, Callable, str, dict]] = [
    (re.compile(r"/open-banking/resources/v3/resources"), ep.resources, "RESOURCES_READ", {}),
    (re.compile(A), ep.accounts, "ACCOUNTS_READ", {}),
    (re.compile(rf"{A}/{ID}"), ep.account, "ACCOUNTS_READ", {}),
    (re.compile(rf"{A}/{ID}/balances"), ep.balances, "ACCOUNTS_BALANCES_READ", {}),
    (
        re.compile(rf"{A}/{ID}/transactions"),
        ep.account_transactions,
        "ACCOUNTS_TRANSACTIONS_READ",
        {"current": False},
    ),
    (
        re.compile(rf"{A}/{ID}/transactions-current"),
        ep.account_transactions,
        "ACCOUNTS_TRANSACTIONS_READ",
        {"current": True},
    ),
    (re.compile(C), ep.card_accounts, "CREDIT_CARDS_ACCOUNTS_READ", {}),
    (re.compile(rf"{C}/{ID}/bills"), ep.bills, "CREDIT_CARDS_ACCOUNTS_BILLS_READ", {}),
    (
        re.compile(rf"{C}/{ID}/bills/{ID}/transactions"),
        ep.bill_transactions,
        "CREDIT_CARDS_ACCOUNTS_BILLS_TRANSACTIONS_READ",
        {},
    ),
    (
        re.compile(rf"{C}/{ID}/transactions"),
        ep.card_transactions,
        "CREDIT_CARDS_ACCOUNTS_TRANSACTIONS_READ",
        {"current": False},
    ),
    (
        re.compile(rf"{C}/{ID}/transactions-current"),
        ep.card_transactions,
        "CREDIT_CARDS_ACCOUNTS_TRANSACTIONS_READ",
        {"current": True},
    ),
    (re.compile(X), ep.operations, "EXCHANGES_READ", {}),
    (re.compile(rf"{X}/{ID}"), ep.operation, "EXCHANGES_READ", {}),
    (re.compile(rf"{X}/{ID}/events"), ep.operation_events, "EXCHANGES_READ", {}),
]
CONSENTS = re.compile(r"/open-banking/consents/v3/consents")
CONSENT = re.compile(rf"/open-banking/consents/v3/consents/{CONSENT_ID}")
GROUP_ROOTS = (("ACCOUNTS_", "ACCOUNTS_READ"), ("CREDIT_CARDS_ACCOUNTS_", "CREDIT_CARDS_ACCOUNTS_READ"))


def _incomplete(permissions: list[str]) -> bool:
    """Whole groups only: RESOURCES_READ plus something, and each group's sub-permissions with their root."""
    given = set(permissions)
    if "RESOURCES_READ" not in given or len(given) < 2:
        return True
    return any(any(p.startswith(prefix) for p in given) and root not in given for prefix, root in GROUP_ROOTS)


def _bearer(state: SandboxState, headers: dict[str, str], thumbprint: str) -> TokenRecord:
    value = headers.get("authorization", "")
    token = state.token(value[7:]) if value.startswith("Bearer ") else None
    if token is None:
        raise ApiError(401, "UNAUTHORIZED", "Não autorizado", "missing, unknown or expired access token")
    if token.cert_thumbprint != thumbprint:
        raise ApiError(401, "UNAUTHORIZED", "Não autorizado", "token is bound to another client certificate")
    return token


def _consent_for(state: SandboxState, token: TokenRecord, permission: str) -> ConsentRecord:
    if token.consent_id is None:
        raise ApiError(401, "UNAUTHORIZED", "Não autorizado", "a consent-bound token is required")
    consent = state.consents[token.consent_id]
    if not consent.usable(state.now()):
        raise ApiError(
            401,
            "UNAUTHORIZED",
            "Não autorizado",
            f"consent {consent.consent_id} is {consent.status} ({consent.rejection_code})",
        )
    if permission not in consent.permissions:
        raise ApiError(403, "FORBIDDEN", "Acesso proibido", f"consent lacks permission {permission}")
    return consent


def _consent_body(consent: ConsentRecord, self_url: str) -> dict:
    def stamp(value: datetime) -> str:
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    data: dict = {
        "consentId": consent.consent_id,
        "creationDateTime": stamp(consent.created),
        "status": consent.status,
        "statusUpdateDateTime": stamp(consent.status_updated),
        "permissions": consent.permissions,
    }
    if consent.expiration is not None:
        data["expirationDateTime"] = stamp(consent.expiration)
    if consent.status == "REJECTED":
        data["rejection"] = {"rejectedBy": consent.rejected_by, "reason": {"code": consent.rejection_code}}
    return {"data": data, "links": {"self": self_url}, "meta": {"requestDateTime": request_time()}}


def _create_consent(state: SandboxState, token: TokenRecord, body: bytes, base_url: str) -> Reply:
    try:
        data = json.loads(body)["data"]
        permissions = list(data["permissions"])
        data["loggedUser"]["document"]["identification"]
    except (ValueError, KeyError, TypeError):
        raise ApiError(
            400,
            "PARAMETRO_INVALIDO",
            "Requisição malformada",
            "data.permissions and data.loggedUser.document are required",
        ) from None
    if not all(isinstance(p, str) and p.endswith("_READ") for p in permissions):
        raise ApiError(400, "PARAMETRO_INVALIDO", "Permissão desconhecida", "unknown permission requested")
    if _incomplete(permissions):
        raise ApiError(
            422,
            "COMBINACAO_PERMISSOES_INCORRETA",
            "Combinação de permissões incorreta",
            "send whole permission groups plus RESOURCES_READ",
        )
    expiration = None
    if data.get("expirationDateTime"):
        expiration = datetime.fromisoformat(data["expirationDateTime"].replace("Z", "+00:00"))
        if expiration <= state.now():
            raise ApiError(422, "DATA_EXPIRACAO_INVALIDA", "Data de expiração inválida", "expiration in the past")
    consent = state.new_consent(token.client_id, permissions, expiration)
    url = f"{base_url}/open-banking/consents/v3/consents/{consent.consent_id}"
    return json_reply(201, _consent_body(consent, url))


def _consent_route(state, method, path, token, body, base_url, self_url) -> Reply:
    if "consents" not in token.scope.split() or token.consent_id is not None:
        raise ApiError(401, "UNAUTHORIZED", "Não autorizado", "the consents API needs a client_credentials token")
    if CONSENTS.fullmatch(path):
        if method != "POST":
            raise ApiError(405, "METHOD_NOT_ALLOWED", "Método não permitido", f"{method} {path}")
        return _create_consent(state, token, body, base_url)
    match = CONSENT.fullmatch(path)
    consent = state.consents.get(match.group(1)) if match else None
    if consent is None or consent.client_id != token.client_id:
        raise ApiError(404, "NOT_FOUND", "Consentimento não encontrado", "no such consent for this client")
    consent.usable(state.now())  # an expired consent turns REJECTED when read
    if method == "GET":
        return json_reply(200, _consent_body(consent, self_url))
    if method == "DELETE":
        if consent.status == "REJECTED":
            raise ApiError(422, "CONSENTIMENTO_EM_STATUS_REJEITADO", "Consentimento rejeitado", "already rejected")
        consent.reject("TPP", "CUSTOMER_MANUALLY_REVOKED", state.now())
        return Reply(204)
    raise ApiError(405, "METHOD_NOT_ALLOWED", "Método não permitido", f"{method} {path}")


def route(
    state: SandboxState,
    method: str,
    path: str,
    query: dict[str, str],
    headers: dict[str, str],
    body: bytes,
    base_url: str,
    self_url: str,
    thumbprint: str,
) -> Reply:
    """Answer one API request (headers keyed in lower case). The caller adds the interaction-id echo."""
    try:
        token = _bearer(state, headers, thumbprint)
        if path.startswith("/open-banking/consents/"):
            return _consent_route(state, method, path, token, body, base_url, self_url)
        for pattern, handler, permission, extra in DATA_ROUTES:
            match = pattern.fullmatch(path)
            if match:
                if method != "GET":
                    raise ApiError(405, "METHOD_NOT_ALLOWED", "Método não permitido", f"{method} {path}")
                consent = _consent_for(state, token, permission)
                state.count_data_call(consent.consent_id)
                request = ep.ApiRequest(method, path, query, base_url, self_url)
                return json_reply(200, handler(state, request, consent, *match.groups(), **extra))
        raise ApiError(404, "NOT_FOUND", "Recurso não encontrado", f"no endpoint {path}")
    except ApiError as error:
        return error_reply(error.status, error.code, error.title, error.detail)


def valid_interaction_id(value: str | None) -> bool:
    try:
        return value is not None and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False
