"""Test PKI generated at start-up: a CA, the sandbox server's certificate, the company's client certificate, and
an outsider (a client certificate from another CA, to prove mutual TLS turns it away).

Everything is written to a fresh temporary directory (keys 0600) and lives as long as the sandbox; nothing is
ever committed. RSA 2048 keys: the client key also signs the `private_key_jwt` assertions (PS256).
"""

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class SandboxCerts:
    directory: Path
    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    outsider_cert: Path  # signed by another CA: the sandbox must refuse it
    outsider_key: Path

    def client_public_key_pem(self) -> bytes:
        certificate = x509.load_pem_x509_certificate(self.client_cert.read_bytes())
        return certificate.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Importau Sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(subject: str, issuer: x509.Name, public_key, days: int = 7) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
    )


def _ca(common_name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = _key()
    certificate = (
        _builder(common_name, _name(common_name), key.public_key(), days=30)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def _leaf(
    common_name: str, ca_key, ca_cert: x509.Certificate, server: bool
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = _key()
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        _builder(common_name, ca_cert.subject, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
    return key, builder.sign(ca_key, hashes.SHA256())


def _write_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)


def _write_cert(path: Path, certificate: x509.Certificate) -> None:
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def generate(directory: str | Path) -> SandboxCerts:
    """Create the sandbox PKI in `directory` (which must exist and be private to this run)."""
    folder = Path(directory)
    ca_key, ca_cert = _ca("Importau Sandbox Test CA")
    server_key, server_cert = _leaf("localhost", ca_key, ca_cert, server=True)
    client_key, client_cert = _leaf("importau-company-client", ca_key, ca_cert, server=False)
    other_ca_key, other_ca_cert = _ca("Somebody Else's CA")
    outsider_key, outsider_cert = _leaf("outsider-client", other_ca_key, other_ca_cert, server=False)
    certs = SandboxCerts(
        directory=folder,
        ca_cert=folder / "ca.pem",
        server_cert=folder / "server.pem",
        server_key=folder / "server.key",
        client_cert=folder / "client.pem",
        client_key=folder / "client.key",
        outsider_cert=folder / "outsider.pem",
        outsider_key=folder / "outsider.key",
    )
    _write_cert(certs.ca_cert, ca_cert)
    _write_cert(certs.server_cert, server_cert)
    _write_key(certs.server_key, server_key)
    _write_cert(certs.client_cert, client_cert)
    _write_key(certs.client_key, client_key)
    _write_cert(certs.outsider_cert, outsider_cert)
    _write_key(certs.outsider_key, outsider_key)
    return certs
