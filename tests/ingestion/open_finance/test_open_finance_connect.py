"""The direct consent journey against the sandbox bank: Directory -> discovery -> consent -> PAR -> authorize (a
browser follows the redirect) -> callback on 127.0.0.1 -> token -> refresh token stored 0600 -> a pull with it.

The "browser" is an httpx client without the company's certificate (a person's browser has none), trusting the
sandbox CA; it follows the bank's redirect and does what the callback page's script does (posts the fragment back).
"""

import contextlib
import json
import logging
import socket
import ssl
import threading
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from ingestion.open_finance.auth import TokenStore
from ingestion.open_finance.budget import CallBudget
from ingestion.open_finance.callback import CallbackListener
from ingestion.open_finance.config import load_institutions
from ingestion.open_finance.directory import DirectoryError, find_authorisation_server, load_participants
from ingestion.open_finance.extract import pull_institution
from ingestion.open_finance.journey import (
    STEP_AUTHORISATION,
    STEP_CALLBACK,
    STEP_CONSENT,
    STEP_DIRECTORY,
    STEP_TOKEN,
    ConnectError,
    ConnectOptions,
    connect,
)
from tests.ingestion.open_finance.conftest import DAY, FAST, FIXTURES

NAME = "banco_sandbox"
CPF, CNPJ = "11111111111", "55555555000155"
SERVER_ID = "b1c4e7a2-0003-4f00-8000-00000000000d"
BROWSER_THREAD = "test-browser"  # its own httpx logs the bank's redirect (with the code): not the platform's logs


class Browser:
    """Follows the authorization URL like a browser, in a thread (connect() waits for the callback meanwhile)."""

    def __init__(self, bank, tamper=None, before_callback=None):
        self.bank, self.tamper, self.before_callback = bank, tamper, before_callback
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.pages: list[httpx.Response] = []

    def open(self, url: str) -> None:
        assert url.startswith(self.bank.front_url + "/auth/authorize?")
        self.thread = threading.Thread(target=self._run, args=(url,), name=BROWSER_THREAD, daemon=True)
        self.thread.start()

    def _run(self, url: str) -> None:
        try:
            trust = ssl.create_default_context(cafile=str(self.bank.certs.ca_cert))
            with httpx.Client(verify=trust, timeout=10) as browser:
                answer = browser.get(url)
                assert answer.status_code == 302, answer.text
                location = answer.headers["location"]
                callback, _, fragment = location.partition("#")
                if self.tamper:
                    fragment = self.tamper(fragment)
                if self.before_callback:
                    self.before_callback()
                page = browser.get(callback)  # a browser never sends the fragment
                assert page.status_code == 200 and b"location.hash" in page.content
                posted = browser.post(
                    callback, content=fragment, headers={"Content-Type": "application/x-www-form-urlencoded"}
                )
                self.pages += [page, posted]
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join(timeout=20)
        if self.error is not None:
            raise self.error


class Away:
    """A person who never opens the URL."""

    def open(self, url: str) -> None:
        pass

    def join(self) -> None:
        pass


@pytest.fixture
def journey(bank, tmp_path):
    """Everything `connect` needs, pointed at the sandbox through a recorded-shape Directory document."""
    recorded = (FIXTURES / "directory_participants.json").read_text(encoding="utf-8")
    participants = tmp_path / "participants.json"
    participants.write_text(recorded.replace("{SANDBOX}", bank.base_url), encoding="utf-8")
    entry = {"name": NAME, "client_id": bank.client_id, "directory": SERVER_ID}
    env = {
        f"OPEN_FINANCE_{NAME.upper()}_CERT_PATH": str(bank.certs.client_cert),
        f"OPEN_FINANCE_{NAME.upper()}_KEY_PATH": str(bank.certs.client_key),
        f"OPEN_FINANCE_{NAME.upper()}_CA_PATH": str(bank.certs.ca_cert),
    }
    store_path = tmp_path / "state" / "tokens.json"

    def run(browser=None, entry_changes=None, token_store=None, **option_changes):
        options = {
            "logged_user_cpf": CPF,
            "business_cnpj": CNPJ,
            "redirect_uri": "http://127.0.0.1:0/callback",
            "callback_timeout": 20.0,
            **option_changes,
        }
        browser = browser or Browser(bank)
        try:
            return connect(
                {**entry, **(entry_changes or {})},
                env,
                participants_source=str(participants),
                options=ConnectOptions(**options),
                token_store=token_store or TokenStore(store_path),
                budget=CallBudget(tmp_path / "state" / "call_budget.json"),
                show_url=browser.open,
                settings=FAST,
            )
        finally:
            browser.join()

    run.entry, run.env, run.store_path = entry, env, store_path
    yield run
    bank.set_authorisation_decision("approve")


def test_the_whole_journey_stores_the_refresh_token_and_a_pull_uses_it(journey, bank, caplog):
    caplog.set_level(logging.DEBUG)
    connection = journey()

    consent = bank.state.consents[connection.consent_id]
    assert consent.status == "AUTHORISED" and connection.consent_id.startswith("urn:sandboxbank:")
    assert (
        connection.token_url == bank.token_url and connection.authorisation_server.authorisation_server_id == SERVER_ID
    )
    assert journey.store_path.stat().st_mode & 0o777 == 0o600
    record = json.loads(journey.store_path.read_text())[NAME]
    assert record["refresh_token"] in bank.issued_secrets and record["consent_id"] == connection.consent_id
    assert record["api_urls"]["accounts"] == bank.base_url + "/open-banking/accounts/v2"
    # the PAR carried a signed request object, then the authorize endpoint consumed it
    assert not bank.state.pushed_requests and not bank.state.code_requests

    # the pull: the institutions file has no consent, no URLs and no code; the stored connection completes it
    environ = {**journey.env, "OPEN_FINANCE_INSTITUTIONS": json.dumps([journey.entry])}
    [institution] = load_institutions(environ, TokenStore(journey.store_path))
    assert institution.consent_id == connection.consent_id and institution.token_url == bank.token_url
    extract = pull_institution(
        institution,
        DAY,
        token_store=TokenStore(journey.store_path),
        budget=CallBudget(None),
        settings=FAST,
        today=bank.today,
    )
    assert extract.tables["transactions"].num_rows > 0 and extract.tables["accounts"].num_rows > 0
    assert json.loads(journey.store_path.read_text())[NAME]["consent_id"] == connection.consent_id  # kept on rotation

    # the same through the Dagster resource the pull asset uses (the token store in its state folder)
    from orchestration.resources.open_finance import OpenFinanceResource, PlannedPull

    resource = OpenFinanceResource(
        institutions=json.dumps([journey.entry]), state_dir=str(journey.store_path.parent), today=DAY.isoformat()
    )
    with pytest.MonkeyPatch.context() as patch:
        for key, value in journey.env.items():
            patch.setenv(key, value)
        patch.delenv("OPEN_FINANCE_TOKEN_FILE", raising=False)
        extracts = resource.pull(PlannedPull(DAY, 7), resource.get_institutions())
    assert extracts[NAME].tables["transactions"].num_rows == extract.tables["transactions"].num_rows

    # once the bank refuses the refresh token, the dead connection no longer overrides the institutions file
    TokenStore(journey.store_path).put(NAME, None)
    assert json.loads(journey.store_path.read_text())[NAME]["consent_id"] == connection.consent_id
    with pytest.raises(ValueError, match="no consent yet"):
        load_institutions(environ, TokenStore(journey.store_path))

    logged = "\n".join(record.getMessage() for record in caplog.records if record.threadName != BROWSER_THREAD)
    for secret in bank.issued_secrets + bank.received_assertions:
        assert secret not in logged


class RecordingStore(TokenStore):
    """The token store, keeping a copy of its file as it is after every write: what a crash at that moment leaves."""

    def __init__(self, path: Path):
        super().__init__(path)
        self.files: list[dict] = []

    def _save(self, state: dict[str, dict]) -> None:
        super()._save(state)
        self.files.append(json.loads(self.path.read_text(encoding="utf-8")))


def test_a_refresh_token_is_never_stored_beside_another_consent(journey, bank):
    """Connecting twice (the second consent replaces the first): after every write of the file, whenever the process
    might die, its refresh token is stored with the consent the bank issued it for, never the previous one or none."""
    store = RecordingStore(journey.store_path)
    first = journey(token_store=store)
    second = journey(token_store=store)
    assert first.consent_id != second.consent_id
    pairs = [(file[NAME].get("refresh_token"), file[NAME].get("consent_id")) for file in store.files]
    issued_for = {token: consent_id for token, (_, consent_id, _) in bank.state.refresh_tokens.items()}
    assert [consent_id for token, consent_id in pairs if token] == [
        issued_for[token] for token, consent_id in pairs if token
    ]
    assert pairs[-1] == (json.loads(journey.store_path.read_text())[NAME]["refresh_token"], second.consent_id)
    assert journey.store_path.stat().st_mode & 0o777 == 0o600


def test_an_institution_without_consent_or_connection_says_to_run_connect(journey):
    environ = {**journey.env, "OPEN_FINANCE_INSTITUTIONS": json.dumps([journey.entry])}
    with pytest.raises(ValueError, match=f"no consent yet: run `importau open-finance connect {NAME}`"):
        load_institutions(environ, TokenStore(journey.store_path))


def test_the_account_holder_denies(journey, bank):
    bank.set_authorisation_decision("deny")
    with pytest.raises(ConnectError, match=f"'{NAME}', {STEP_AUTHORISATION}: .*error=access_denied") as caught:
        journey()
    assert caught.value.step == STEP_AUTHORISATION
    [consent] = [c for c in bank.state.consents.values() if c.status == "REJECTED" and c.rejected_by == "USER"][-1:]
    assert consent.rejection_code == "CUSTOMER_MANUALLY_REJECTED"
    assert TokenStore(journey.store_path).get(NAME) is None


def test_a_callback_with_another_state_is_refused_and_nothing_is_exchanged(journey, bank):
    def forge(fragment: str) -> str:
        return "&".join("state=forged" if part.startswith("state=") else part for part in fragment.split("&"))

    with pytest.raises(ConnectError, match=f"'{NAME}', {STEP_CALLBACK}: the callback's state is not") as caught:
        journey(Browser(bank, tamper=forge))
    assert caught.value.step == STEP_CALLBACK
    assert bank.state.code_requests  # the code was never presented at the token endpoint
    assert TokenStore(journey.store_path).get(NAME) is None


def test_a_forged_id_token_is_refused(journey, bank):
    def forge(fragment: str) -> str:
        return "&".join("id_token=a.b.c" if part.startswith("id_token=") else part for part in fragment.split("&"))

    with pytest.raises(ConnectError, match=f"{STEP_CALLBACK}: the id_token is not valid"):
        journey(Browser(bank, tamper=forge))


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"c_hash": None}, "the id_token is not valid"),  # no binding to the code at all
        ({"s_hash": None}, "the id_token is not valid"),
        ({"c_hash": "bm90LXRoZS1jb2Rl"}, "the id_token's c_hash does not match the code"),
        ({"s_hash": "bm90LXRoZS1zdGF0ZQ"}, "the id_token's s_hash does not match the state"),
        ({"nonce": "another-journey"}, "the id_token's nonce is not the one this journey sent"),
    ],
)
def test_an_id_token_signed_by_the_bank_but_not_bound_to_this_answer_is_refused(journey, bank, claims, reason):
    bank.misissue_id_tokens(**claims)
    with pytest.raises(ConnectError, match=f"{STEP_CALLBACK}: {reason}"):
        journey(Browser(bank))
    assert TokenStore(journey.store_path).get(NAME) is None


def test_no_callback_within_the_bound(journey, bank):
    with pytest.raises(ConnectError, match=f"'{NAME}', {STEP_CALLBACK}: no callback reached .* within 0.5 s"):
        journey(Away(), callback_timeout=0.5)
    awaiting = [c for c in bank.state.consents.values() if c.status == "AWAITING_AUTHORISATION"]
    assert awaiting  # created, never authorised


def test_the_bank_refuses_the_consent(journey):
    partial = ("ACCOUNTS_BALANCES_READ", "RESOURCES_READ")  # a group without its root: the bank answers 422
    with pytest.raises(ConnectError, match=f"'{NAME}', {STEP_CONSENT}: .*422.*COMBINACAO_PERMISSOES_INCORRETA"):
        journey(permissions=partial)


def test_the_token_endpoint_refuses_the_code(journey, bank):
    def code_expires() -> None:
        with bank.state.lock:
            bank.state.codes.clear()

    with pytest.raises(ConnectError, match=f"'{NAME}', {STEP_TOKEN}: .*invalid_grant") as caught:
        journey(Browser(bank, before_callback=code_expires))
    assert caught.value.step == STEP_TOKEN
    assert TokenStore(journey.store_path).get(NAME) is None


def test_an_https_loopback_callback(journey, bank):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(bank.certs.server_cert, bank.certs.server_key)  # issued for 127.0.0.1 by the CA
    connection = journey(redirect_uri="https://127.0.0.1:0/callback", callback_ssl_context=context)
    assert bank.state.consents[connection.consent_id].status == "AUTHORISED"


def test_a_silent_client_does_not_hold_up_the_https_callback(bank):
    """Clients that open a connection to the https listener and never speak (a port scanner, a browser's speculative
    preconnect) must not keep the bank's redirect out: each handshake runs in its connection's own thread. With the
    handshake in the accepting thread, each silent client held every later connection for its 10 s bound."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(bank.certs.server_cert, bank.certs.server_key)  # issued for 127.0.0.1 by the CA
    with CallbackListener("https://127.0.0.1:0/callback", context) as listener, contextlib.ExitStack() as silent:
        port = urlsplit(listener.redirect_uri).port
        for _ in range(3):
            silent.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
        trust = ssl.create_default_context(cafile=str(bank.certs.ca_cert))
        with httpx.Client(verify=trust, timeout=20) as browser:
            answer = browser.get(listener.redirect_uri + "?code=code-1&state=state-1")
        assert answer.status_code == 200 and b"Done" in answer.content
        assert listener.wait(20) == {"code": "code-1", "state": "state-1"}


def test_directory_lookup_by_cnpj_name_and_its_refusals(bank, tmp_path):
    recorded = (FIXTURES / "directory_participants.json").read_text(encoding="utf-8")
    path = tmp_path / "participants.json"
    path.write_text(recorded.replace("{SANDBOX}", bank.base_url), encoding="utf-8")
    participants = load_participants(str(path))
    by_cnpj = find_authorisation_server(participants, "44.444.444/0001-44", NAME)
    assert by_cnpj.authorisation_server_id == SERVER_ID and by_cnpj.discovery_url == bank.discovery_url
    assert by_cnpj.api_urls["exchanges"] == bank.base_url + "/open-banking/exchanges/v1"
    assert find_authorisation_server(participants, "exemplo empresas", "x").name == "Exemplo Empresas"
    with pytest.raises(DirectoryError, match="matches 2 authorisation servers"):
        find_authorisation_server(participants, "Banco Exemplo S.A.", "x")
    with pytest.raises(DirectoryError, match="no active organisation"):
        find_authorisation_server(participants, "Financeira Encerrada S.A.", "x")  # Withdrawn
    with pytest.raises(DirectoryError, match="publishes no credit-cards-accounts API .*v2"):
        find_authorisation_server(participants, "Exemplo Pessoas", "x")  # cards only in 1.0.4


def test_connect_names_the_step_when_the_directory_has_no_match(journey):
    with pytest.raises(ConnectError, match=f"'{NAME}', {STEP_DIRECTORY}: .*no active organisation"):
        journey(Away(), entry_changes={"directory": "Banco Inexistente"})


def test_the_command_connects_and_prints_no_secret(journey, bank, monkeypatch, capsys):
    from orchestration.cli import main

    browser = Browser(bank)
    institutions = Path(journey.store_path).parent.parent / "institutions.json"
    institutions.write_text(json.dumps([journey.entry]))
    for key, value in journey.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("OPEN_FINANCE_INSTITUTIONS", str(institutions))
    monkeypatch.setenv("OPEN_FINANCE_DIRECTORY_PARTICIPANTS", str(Path(journey.store_path).parent.parent / "p.json"))
    (Path(journey.store_path).parent.parent / "p.json").write_text(
        (FIXTURES / "directory_participants.json").read_text().replace("{SANDBOX}", bank.base_url)
    )
    monkeypatch.setenv("OPEN_FINANCE_TOKEN_FILE", str(journey.store_path))
    monkeypatch.setenv("OPEN_FINANCE_STATE_DIR", str(journey.store_path.parent))
    monkeypatch.setattr("webbrowser.open", browser.open)
    code = main(
        [
            "open-finance",
            "connect",
            NAME,
            "--cpf",
            CPF,
            "--redirect-uri",
            "http://127.0.0.1:0/cb",
            "--open",
            "--timeout",
            "20",
        ]
    )
    browser.join()
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"{bank.front_url}/auth/authorize?" in out and "AUTHORISED" in out
    for secret in bank.issued_secrets:
        assert secret not in out + err
    assert TokenStore(journey.store_path).get(NAME) in bank.issued_secrets

    monkeypatch.setenv("OPEN_FINANCE_CALLBACK_TIMEOUT_SECONDS", "0.3")
    monkeypatch.setattr("webbrowser.open", lambda url: None)
    assert main(["open-finance", "connect", NAME, "--cpf", CPF, "--redirect-uri", "http://127.0.0.1:0/cb"]) == 1
    assert f"'{NAME}', callback: no callback reached" in capsys.readouterr().err

    assert main(["open-finance", "connect", "banco_x", "--cpf", CPF]) == 1
    assert "'banco_x', configuration: no institution of that name" in capsys.readouterr().err
    monkeypatch.delenv("OPEN_FINANCE_LOGGED_USER_CPF", raising=False)
    assert main(["open-finance", "connect", NAME]) == 2
    assert "give the CPF (11 digits)" in capsys.readouterr().err


def test_the_directory_document_from_a_url(tmp_path):
    """OPEN_FINANCE_DIRECTORY_PARTICIPANTS may be a URL (the Directory's public participants endpoint)."""
    import http.server

    body = (FIXTURES / "directory_participants.json").read_bytes()

    class Directory(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            ok = self.path == "/participants"
            self.send_response(200 if ok else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body if ok else b"{}")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Directory)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        participants = load_participants(base + "/participants")
        assert [o["OrganisationName"] for o in participants][-1] == "Banco Sandbox S.A."
        with pytest.raises(DirectoryError, match="HTTP 404"):
            load_participants(base + "/nothing")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    with pytest.raises(DirectoryError, match="does not exist"):
        load_participants(str(tmp_path / "missing.json"))
