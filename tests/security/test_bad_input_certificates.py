"""A certificate or key path that does not exist names its cause (issue 13).

The Open Finance client is built for real (the resource the assets call, `auth.http_client`) with real PEM files
from the sandbox's generator and one path wrong: it fails before any connection, naming the institution, the
variable and the path (the institution's URLs point at a closed port on 127.0.0.1 and are never reached).
"""

import json
from datetime import date

import pytest

from ingestion.open_finance.auth import http_client
from ingestion.open_finance.config import CertificateFileError, load_institutions
from ingestion.open_finance.extract import InstitutionsFailed
from orchestration.resources.open_finance import OpenFinanceResource, PlannedPull
from sandboxes.open_finance_bank import certs as sandbox_certs


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> sandbox_certs.SandboxCerts:
    """A real CA, client certificate and key (the sandbox's generator), so only the path under test is wrong."""
    return sandbox_certs.generate(tmp_path_factory.mktemp("pki"))


INSTITUTION = {
    "name": "banco_a",
    "api_base_url": "https://127.0.0.1:9",  # never reached: the client fails before any connection
    "token_url": "https://127.0.0.1:9/auth/token",
    "client_id": "importau-test",
    "consent_id": "urn:banco_a:C1",
}


def _environment(pki, **overrides: str) -> dict[str, str]:
    return {
        "OPEN_FINANCE_INSTITUTIONS": json.dumps([INSTITUTION]),
        "OPEN_FINANCE_CERT_PATH": str(pki.client_cert),
        "OPEN_FINANCE_KEY_PATH": str(pki.client_key),
        "OPEN_FINANCE_CA_PATH": str(pki.ca_cert),
        "OPEN_FINANCE_BANCO_A_REFRESH_TOKEN": "not-a-real-token",
        **overrides,
    }


@pytest.mark.parametrize(
    "variable",
    [
        "OPEN_FINANCE_CERT_PATH",
        "OPEN_FINANCE_BANCO_A_CERT_PATH",
        "OPEN_FINANCE_KEY_PATH",
        "OPEN_FINANCE_BANCO_A_CA_PATH",
        "OPEN_FINANCE_SIGNING_KEY_PATH",
    ],
)
def test_a_missing_certificate_names_the_variable_and_the_path(pki, tmp_path, monkeypatch, variable):
    """Through the resource the Open Finance assets call: the pull fails before connecting, saying which file."""
    missing = tmp_path / "secrets" / "company.pem"
    for name, value in _environment(pki, **{variable: str(missing)}).items():
        monkeypatch.setenv(name, value)
    resource = OpenFinanceResource(
        institutions=json.dumps([INSTITUTION]), data_dir=str(tmp_path), state_dir=str(tmp_path / "state")
    )

    with pytest.raises(InstitutionsFailed) as failed:
        resource.pull(PlannedPull(date(2024, 12, 31), 7), resource.get_institutions())

    error = failed.value.errors["banco_a"]
    assert isinstance(error, CertificateFileError), repr(error)
    assert (error.variable, error.path) == (variable, str(missing))
    message = str(failed.value)
    assert f"Open Finance institution 'banco_a': {missing} (from {variable}) does not exist" in message
    assert f"the folder {missing.parent} does not exist either" in message and "Check that the variable" in message


def test_a_folder_or_a_key_of_another_certificate_is_named_too(pki, tmp_path):
    [folder_as_cert] = load_institutions(_environment(pki, OPEN_FINANCE_BANCO_A_CERT_PATH=str(tmp_path)))
    with pytest.raises(CertificateFileError, match=r"\(from OPEN_FINANCE_BANCO_A_CERT_PATH\) is a folder, not a file"):
        http_client(folder_as_cert)

    [mismatched] = load_institutions(_environment(pki, OPEN_FINANCE_KEY_PATH=str(pki.outsider_key)))
    with pytest.raises(CertificateFileError) as error:
        http_client(mismatched)
    assert (
        f"{pki.client_cert} (from OPEN_FINANCE_CERT_PATH) and the key {pki.outsider_key} (from "
        "OPEN_FINANCE_KEY_PATH) could not be loaded together" in str(error.value)
    )
    assert "PRIVATE KEY" not in str(error.value)

    [good] = load_institutions(_environment(pki))
    http_client(good).close()  # the real files: the client builds
