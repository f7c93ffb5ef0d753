"""`SandboxBank`: a local Open Finance Brasil institution over mutual TLS, for the demo and the tests.

    with SandboxBank() as bank:                               # 127.0.0.1, random port, fresh test PKI
        consent_id, code = bank.create_authorised_consent()   # the user approved it; `code` is the redirect's
        institution = bank.institution(consent_id)            # config.Institution pointing here
        extract = pull_institution(institution, day, grant={"authorization_code": code}, ...)

The consent journey (authorization.py): `issuer`, `discovery_url`, `front_url` (the authorize endpoint's listener,
no client certificate), `set_authorisation_decision("approve" | "deny")`, `participants()` (a Directory
participants document naming this bank).

Faults: `inject(kind, count, match, seconds)` (faults.py), `expire_consent(consent_id, after_calls)`,
`revoke_consent`, `rename_transaction(old_id, new_id)`; the bank's calendar: `today`, `set_today`, `advance`.
Data: any `BankData` (data.py); the default is the built-in `demo_bank_data(today)`.
"""

import json
from datetime import date, datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding

from ingestion.common.clock import sao_paulo_today
from ingestion.common.private_temp import make_private_dir, remove_private_dir
from ingestion.open_finance.config import DEFAULT_PERMISSIONS, Institution
from sandboxes.common.faults import Fault
from sandboxes.common.http_server import LocalServer, Request, server_tls_context
from sandboxes.open_finance_bank import authorization, server
from sandboxes.open_finance_bank import certs as pki
from sandboxes.open_finance_bank.data import BankData
from sandboxes.open_finance_bank.demo import demo_bank_data
from sandboxes.open_finance_bank.render import Reply
from sandboxes.open_finance_bank.server import TEMP_PREFIX, TOKEN_PATH, thumbprint
from sandboxes.open_finance_bank.state import RegisteredClient, SandboxState

CLIENT_ID = "importau-sandbox-client"
INSTITUTION_NAME = "sandbox"


class SandboxBank(LocalServer):
    """The sandbox institution: a `LocalServer` (sandboxes/common/http_server.py) over mutual TLS."""

    def __init__(
        self,
        data: BankData | None = None,
        today: date | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        access_token_lifetime: int = 300,
        client_id: str = CLIENT_ID,
        cert_dir: str | None = None,
        verbose: bool = False,
    ):
        super().__init__(host, port, name="open-finance-sandbox", verbose=verbose, idle_timeout=server.IDLE_TIMEOUT_S)
        start_day = today or sao_paulo_today()
        self.state = SandboxState(data or demo_bank_data(start_day), start_day, access_token_lifetime)
        self.client_id, self.cert_dir = client_id, cert_dir
        self.certs: pki.SandboxCerts | None = None
        self.temp_dir: str | None = None  # the PKI's private folder, when no cert_dir was given
        self._front = server.FrontChannel(self, host, verbose)  # the browser's side (authorize)
        self.as_key: rsa.RSAPrivateKey | None = None  # signs id_tokens; generated at start, never written
        self.as_kid = "sandbox-as-1"

    # -- life cycle ----------------------------------------------------------------------------------------

    def start(self) -> "SandboxBank":
        if self.certs is not None:
            raise RuntimeError("the sandbox bank is already running")
        try:
            if self.cert_dir is None:
                self.temp_dir = make_private_dir(TEMP_PREFIX)
            self.certs = pki.generate(self.cert_dir or self.temp_dir)
            client_der = x509.load_pem_x509_certificate(self.certs.client_cert.read_bytes()).public_bytes(Encoding.DER)
            self.state.clients[self.client_id] = RegisteredClient(
                self.client_id, self.certs.client_public_key_pem(), thumbprint(client_der)
            )
            self.tls = server_tls_context(self.certs.server_cert, self.certs.server_key, client_ca=self.certs.ca_cert)
            self.as_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            super().start()
            self._front.tls = server_tls_context(self.certs.server_cert, self.certs.server_key)
            self._front.start()
        except BaseException:  # e.g. the port is taken: the keys just written must not stay behind
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self._front.stop()
        super().stop()
        self.certs = None
        if self.temp_dir:
            remove_private_dir(self.temp_dir)
            self.temp_dir = None

    def handle(self, request: Request) -> Reply | None:
        return server.answer(self, request)

    def handshake_refused(self, client_address, error: Exception) -> None:
        with self.state.lock:
            self.state.rejected_handshakes += 1
        super().handshake_refused(client_address, error)

    # -- where it listens ----------------------------------------------------------------------------------

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    @property
    def token_audiences(self) -> list[str]:
        return [self.token_url, self.issuer]

    @property
    def issuer(self) -> str:
        return self.base_url + authorization.ISSUER_PATH

    @property
    def discovery_url(self) -> str:
        return self.base_url + authorization.DISCOVERY_PATH

    @property
    def front_url(self) -> str:
        """Where a browser reaches the authorize endpoint: TLS with the sandbox CA, no client certificate."""
        return self._front.base_url

    def set_authorisation_decision(self, decision: str) -> None:
        """What the account holder does at the authorize endpoint: "approve" (default) or "deny"."""
        if decision not in authorization.DECISIONS:
            raise ValueError(f"decision must be one of {authorization.DECISIONS}, got {decision!r}")
        with self.state.lock:
            self.state.authorisation_decision = decision

    def misissue_id_tokens(self, **claims) -> None:
        """The next id_token carries these claims instead of the right ones (None drops a claim), still signed by
        the bank: what a client must refuse although the signature is good."""
        with self.state.lock:
            self.state.id_token_faults = dict(claims)

    def participants(
        self, organisation_id: str = "sandbox-org", server_id: str = "sandbox-as", name: str = "Banco Sandbox"
    ) -> list[dict]:
        """A Directory participants document (swagger_participants.yaml's shape) with this bank as one organisation."""
        return authorization.participants(self, organisation_id, server_id, name)

    def institution(self, consent_id: str, name: str = INSTITUTION_NAME, **overrides) -> Institution:
        """An `Institution` for this sandbox, with its certificates (keyword overrides for any field)."""
        assert self.certs is not None, "start the sandbox first"
        settings = dict(
            name=name,
            api_base_url=self.base_url,
            token_url=self.token_url,
            client_id=self.client_id,
            consent_id=consent_id,
            cert_path=str(self.certs.client_cert),
            key_path=str(self.certs.client_key),
            ca_path=str(self.certs.ca_cert),
        )
        return Institution(**{**settings, **overrides})

    def env(self, consent_id: str, code: str | None = None, name: str = INSTITUTION_NAME) -> dict[str, str]:
        """Environment variables that point `config.load_settings` at this sandbox."""
        assert self.certs is not None, "start the sandbox first"
        entry = {
            "name": name,
            "api_base_url": self.base_url,
            "token_url": self.token_url,
            "client_id": self.client_id,
            "consent_id": consent_id,
        }
        env = {
            "OPEN_FINANCE_INSTITUTIONS": json.dumps([entry]),
            f"OPEN_FINANCE_{name.upper()}_CERT_PATH": str(self.certs.client_cert),
            f"OPEN_FINANCE_{name.upper()}_KEY_PATH": str(self.certs.client_key),
            f"OPEN_FINANCE_{name.upper()}_CA_PATH": str(self.certs.ca_cert),
        }
        if code:
            env[f"OPEN_FINANCE_{name.upper()}_AUTHORIZATION_CODE"] = code
        return env

    # -- consents as the account holder would handle them --------------------------------------------------

    def create_consent(self, permissions=DEFAULT_PERMISSIONS, expiration: datetime | None = None) -> str:
        return self.state.new_consent(self.client_id, list(permissions), expiration).consent_id

    def authorise(self, consent_id: str) -> str:
        """The account holder approves the consent; returns a one-time authorization code."""
        return self.state.authorise(consent_id)

    def create_authorised_consent(
        self, permissions=DEFAULT_PERMISSIONS, expiration: datetime | None = None
    ) -> tuple[str, str]:
        consent_id = self.create_consent(permissions, expiration)
        return consent_id, self.authorise(consent_id)

    def expire_consent(self, consent_id: str, after_calls: int = 0) -> None:
        """Expire the consent now, or after `after_calls` more data calls (mid-run)."""
        self.state.expire(consent_id, after_calls)

    def revoke_consent(self, consent_id: str) -> None:
        with self.state.lock:
            self.state.consents[consent_id].reject("USER", "CUSTOMER_MANUALLY_REVOKED", self.state.now())

    # -- faults, calendar, inspection ----------------------------------------------------------------------

    def inject(self, kind: str, count: int = 1, match: str | None = None, seconds: float = 0.0) -> None:
        self.state.faults.add(Fault(kind, count, match, seconds))

    def clear_faults(self) -> None:
        self.state.faults.clear()

    def rename_transaction(self, old_id: str, new_id: str) -> None:
        """From now on, serve transaction `old_id` (account or card) as `new_id`."""
        with self.state.lock:
            self.state.renamed_ids[old_id] = new_id

    @property
    def today(self) -> date:
        return self.state.today

    def set_today(self, day: date) -> None:
        self.state.set_today(day)

    def advance(self, days: int = 1) -> date:
        return self.state.advance(days)

    @property
    def requests(self) -> list[dict]:
        with self.state.lock:
            return [dict(request) for request in self.state.requests]

    def reset_requests(self) -> None:
        with self.state.lock:
            self.state.requests.clear()

    @property
    def issued_secrets(self) -> list[str]:
        """Every token and code issued so far (tests scan logs for them)."""
        return list(self.state.issued_secrets)

    @property
    def received_assertions(self) -> list[str]:
        return list(self.state.received_assertions)

    @property
    def rejected_handshakes(self) -> int:
        return self.state.rejected_handshakes
