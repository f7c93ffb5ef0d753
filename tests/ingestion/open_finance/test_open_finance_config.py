"""Configuration from the environment, the persisted call budget, the sandbox's command line and control API,
and the package's independence from Dagster."""

import json
import os
import subprocess
import sys
import threading
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ingestion.open_finance.auth import http_client
from ingestion.open_finance.budget import CallBudget
from ingestion.open_finance.config import ConfigError, initial_grant, load_institutions, load_settings
from ingestion.open_finance.errors import CallBudgetExceeded

REPO = Path(__file__).resolve().parents[3]
ENTRY = {
    "name": "banco_a",
    "api_base_url": "https://api.banco-a.com.br",
    "token_url": "https://auth.banco-a.com.br/token",
    "client_id": "client-a",
    "consent_id": "urn:bancoa:C1",
}


def test_institutions_from_a_yaml_file_with_paths_from_the_environment(tmp_path):
    listing = tmp_path / "institutions.yml"
    listing.write_text(
        "institutions:\n"
        "  - name: banco_a\n    api_base_url: https://api.banco-a.com.br\n    token_url: https://auth.banco-a.com.br/token\n"
        "    client_id: client-a\n    consent_id: 'urn:bancoa:C1'\n"
        "    api_urls: {exchanges: 'https://fx.banco-a.com.br/open-banking/exchanges/v1'}\n"
        "    monthly_call_budget: {default: 50, 'accounts/v2/accounts/{accountId}/balances': 400}\n"
        "  - name: banco_b\n    api_base_url: https://api.banco-b.com.br\n    token_url: https://auth.banco-b.com.br/t\n"
        "    client_id: client-b\n    consent_id: 'urn:bancob:X9'\n"
    )
    env = {
        "OPEN_FINANCE_INSTITUTIONS": str(listing),
        "OPEN_FINANCE_CERT_PATH": "/secrets/company.pem",
        "OPEN_FINANCE_KEY_PATH": "/secrets/company.key",
        "OPEN_FINANCE_BANCO_B_KEY_PATH": "/secrets/b.key",
        "OPEN_FINANCE_BANCO_A_AUTHORIZATION_CODE": "code-123",
    }
    settings = load_settings(env, tmp_path / "data")
    a, b = settings.institutions
    assert a.url("accounts") == "https://api.banco-a.com.br/open-banking/accounts/v2"
    assert a.url("exchanges") == "https://fx.banco-a.com.br/open-banking/exchanges/v1"
    assert a.budget_for("accounts/v2/accounts/{accountId}/balances") == 400 and a.budget_for("other") == 50
    assert b.budget_for("other") == 300  # the default
    assert (a.key_path, b.key_path, b.cert_path) == ("/secrets/company.key", "/secrets/b.key", "/secrets/company.pem")
    assert settings.budget_file == tmp_path / "data" / "open_finance" / "call_budget.json"
    assert settings.window_days == 7
    assert initial_grant(a, env) == {"authorization_code": "code-123"} and initial_grant(b, env) == {}


def test_no_institutions_configured_is_empty():
    assert load_institutions({}) == ()


@pytest.mark.parametrize(
    ("entry", "env", "message"),
    [
        (ENTRY, {}, "set OPEN_FINANCE_BANCO_A_CERT_PATH or OPEN_FINANCE_CERT_PATH"),
        (
            {**ENTRY, "key_path": "/k"},
            {"OPEN_FINANCE_CERT_PATH": "c", "OPEN_FINANCE_KEY_PATH": "k"},
            "do not belong in the institutions file",
        ),
        ({**ENTRY, "name": "Banco A"}, {"OPEN_FINANCE_CERT_PATH": "c", "OPEN_FINANCE_KEY_PATH": "k"}, "must match"),
        (
            {**ENTRY, "api_urls": {"payments": "x"}},
            {"OPEN_FINANCE_CERT_PATH": "c", "OPEN_FINANCE_KEY_PATH": "k"},
            "unknown API families",
        ),
    ],
)
def test_configuration_errors_name_the_setting(entry, env, message):
    with pytest.raises(ConfigError, match=message):
        load_institutions({"OPEN_FINANCE_INSTITUTIONS": json.dumps([entry]), **env})


def test_the_budget_persists_per_month_and_across_processes(tmp_path):
    clock = lambda: datetime(2025, 3, 31, 23, 59, tzinfo=UTC)  # noqa: E731
    path = tmp_path / "budget.json"
    threads = [threading.Thread(target=lambda: CallBudget(path, clock).charge("banco_a", "e", 100)) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert CallBudget(path, clock).used("banco_a", "e") == 20
    code = (
        "from datetime import datetime, UTC; from ingestion.open_finance.budget import CallBudget; "
        f"CallBudget({str(path)!r}, lambda: datetime(2025, 3, 31, tzinfo=UTC)).charge('banco_a', 'e', 100)"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
    assert CallBudget(path, clock).usage() == {"banco_a": {"e": 21}}
    with pytest.raises(CallBudgetExceeded, match="21 of 21 calls in 2025-03"):
        CallBudget(path, clock).charge("banco_a", "e", 21)
    april = CallBudget(path, lambda: datetime(2025, 4, 1, tzinfo=UTC))
    assert april.charge("banco_a", "e", 21) == 1


def test_the_package_does_not_import_dagster():
    code = (
        "import sys, pkgutil, importlib, ingestion.open_finance as p\n"
        "for m in pkgutil.walk_packages(p.__path__, 'ingestion.open_finance.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in ('dagster', 'orchestration')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"


def test_the_control_api_answers_over_mutual_tls(bank, consent):
    with http_client(bank.institution(consent[0]), timeout=5) as client:
        base = bank.base_url + "/_sandbox"
        assert client.get(f"{base}/health").json() == {"status": "ok", "today": bank.today.isoformat()}
        created = client.post(f"{base}/consents", json={}).json()
        assert created["consentId"].startswith("urn:") and created["code"]
        assert client.post(f"{base}/faults", json={"kind": "429", "count": 2}).status_code == 200
        assert client.post(f"{base}/clock", json={"today": "2025-03-20"}).json() == {"today": "2025-03-20"}
        assert bank.today == date(2025, 3, 20)
        assert client.post(f"{base}/consents/{created['consentId']}/expire", json={}).status_code == 200
        assert bank.state.consents[created["consentId"]].status == "REJECTED"
        assert client.post(f"{base}/faults", json={"kind": "nonsense"}).status_code == 400
        accounts = client.get(
            bank.base_url + "/open-banking/accounts/v2/accounts", headers={"x-fapi-interaction-id": str(uuid.uuid4())}
        )
        assert accounts.status_code == 429  # the injected fault (before auth, as a gateway would)
        assert len(client.get(f"{base}/requests").json()) == 1
        assert client.delete(f"{base}/faults").status_code == 200


def test_python_m_sandbox_prints_its_urls_and_certificate_paths():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "sandboxes.open_finance_bank", "--today", "2025-03-14"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        while len(lines) < 40:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "AUTHORIZATION_CODE" in line:
                break
        text = "".join(lines)
        assert "Open Finance sandbox institution 'Banco Sandbox' at https://127.0.0.1:" in text
        assert "/open-banking/exchanges/v1" in text and "client certificate" in text
        cert = next(line.split()[-1] for line in lines if "client certificate" in line)
        assert Path(cert).exists() and "export OPEN_FINANCE_INSTITUTIONS=" in text
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert not Path(cert).exists()  # the temporary PKI is gone with the server


def test_connect_and_the_pulls_share_one_state_folder_rule(tmp_path, monkeypatch):
    """`importau open-finance connect` writes where the pulls read: a state folder given to the Dagster resource
    (run config) counts as OPEN_FINANCE_STATE_DIR does for the command (ingestion/open_finance/config.py)."""
    from ingestion.open_finance.config import budget_file, state_dir, token_file
    from orchestration.resources.open_finance import OpenFinanceResource

    for name in ("OPEN_FINANCE_STATE_DIR", "OPEN_FINANCE_TOKEN_FILE", "OPEN_FINANCE_BUDGET_FILE"):
        monkeypatch.delenv(name, raising=False)
    assert state_dir({}, tmp_path) == tmp_path / "open_finance"
    environ = {"OPEN_FINANCE_STATE_DIR": str(tmp_path / "state")}
    resource = OpenFinanceResource(data_dir=str(tmp_path), state_dir=str(tmp_path / "state"))
    assert resource.token_file() == token_file(environ, tmp_path) == tmp_path / "state" / "tokens.json"
    assert resource.state_path() == state_dir(environ, tmp_path)
    assert budget_file(environ, tmp_path) == tmp_path / "state" / "call_budget.json"
    assert token_file({**environ, "OPEN_FINANCE_TOKEN_FILE": str(tmp_path / "t.json")}, tmp_path) == tmp_path / "t.json"
