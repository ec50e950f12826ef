"""Test certificates: a CA, a host certificate it signs, and a self-signed one."""

import datetime
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class CertificateSet:
    ca_file: Path
    signed_cert: Path
    signed_key: Path
    self_signed_cert: Path
    self_signed_key: Path

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only the test CA."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def server_context(self, *, self_signed: bool = False) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if self_signed:
            context.load_cert_chain(self.self_signed_cert, self.self_signed_key)
        else:
            context.load_cert_chain(self.signed_cert, self.signed_key)
        return context


def make_pki(folder: Path, host: str) -> CertificateSet:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tidings Test CA")])
    ca_cert = _certificate(ca_name, ca_name, ca_key, ca_key, ca=True, host=None)

    host_key = ec.generate_private_key(ec.SECP256R1())
    host_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    signed = _certificate(host_name, ca_name, host_key, ca_key, ca=False, host=host)

    lone_key = ec.generate_private_key(ec.SECP256R1())
    lone = _certificate(host_name, host_name, lone_key, lone_key, ca=False, host=host)

    pki = CertificateSet(
        ca_file=folder / "ca.pem",
        signed_cert=folder / "signed.pem",
        signed_key=folder / "signed.key",
        self_signed_cert=folder / "self-signed.pem",
        self_signed_key=folder / "self-signed.key",
    )
    pki.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    pki.signed_cert.write_bytes(signed.public_bytes(serialization.Encoding.PEM))
    pki.signed_key.write_bytes(_key_pem(host_key))
    pki.self_signed_cert.write_bytes(lone.public_bytes(serialization.Encoding.PEM))
    pki.self_signed_key.write_bytes(_key_pem(lone_key))
    return pki


def _certificate(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    host: str | None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if host is not None:
        # Only the host name, so a client that checked the certificate against
        # the address it connected to (127.0.0.1) would reject it.
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False
        )
    if ca:
        builder = builder.add_extension(
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
    return builder.sign(issuer_key, hashes.SHA256())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
