"""A development certificate authority and NATS server/client certificates, and the TLS
context a client (the hub, a force system) connects with.

The development PKI is for test rigs and demos only: production certificates come from the
force's own PKI. The private keys are written 0600 and never printed.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")
_VALIDITY = dt.timedelta(days=365)


@dataclass(frozen=True, slots=True)
class Issued:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


@dataclass(frozen=True, slots=True)
class DevPki:
    """Paths of a written development PKI."""

    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Crossforce development"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _now() -> dt.datetime:
    # Back-date a little so a freshly issued certificate is valid on a slightly slow clock.
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)


def make_ca(common_name: str = "Crossforce development CA") -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now())
        .not_valid_after(_now() + _VALIDITY)
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
    return Issued(cert, key)


def _san(hosts: Sequence[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for host in hosts:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            entries.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(entries)


def issue(
    ca: Issued, common_name: str, *, hosts: Sequence[str] = (), server: bool, client: bool
) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    usages = []
    if server:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now())
        .not_valid_after(_now() + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    if hosts:
        builder = builder.add_extension(_san(hosts), critical=False)
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


def _write(path: Path, data: bytes, mode: int) -> None:
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def write_dev_pki(
    out: Path, hosts: Sequence[str] = DEFAULT_HOSTS, client_name: str = "crossforce-client"
) -> DevPki:
    """Write ca.pem, server.pem and client.pem (with -key.pem files at 0600) into `out`.

    The server certificate also carries clientAuth so the same pair can secure cluster routes,
    where each node is both client and server.
    """
    out.mkdir(parents=True, exist_ok=True)
    ca = make_ca()
    server = issue(ca, "nats-server", hosts=hosts, server=True, client=True)
    client = issue(ca, client_name, server=False, client=True)
    pki = DevPki(
        ca_cert=out / "ca.pem",
        ca_key=out / "ca-key.pem",
        server_cert=out / "server.pem",
        server_key=out / "server-key.pem",
        client_cert=out / "client.pem",
        client_key=out / "client-key.pem",
    )
    _write(pki.ca_cert, ca.cert_pem(), 0o644)
    _write(pki.ca_key, ca.key_pem(), 0o600)
    _write(pki.server_cert, server.cert_pem(), 0o644)
    _write(pki.server_key, server.key_pem(), 0o600)
    _write(pki.client_cert, client.cert_pem(), 0o644)
    _write(pki.client_key, client.key_pem(), 0o600)
    return pki


def client_ssl_context(ca: Path | str) -> ssl.SSLContext:
    """A TLS context that verifies NATS servers against the CA certificate(s) in `ca` (PEM),
    host names included.

    The servers `crossforce deploy nats-config --tls` configures ask clients for no
    certificate (they authenticate with nkeys), so none is loaded. Raises OSError when the
    file is missing, and ssl.SSLError (an OSError) when it holds no usable certificate.
    """
    return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca))
