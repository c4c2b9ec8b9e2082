"""Certificates made for a test (nothing committed): a root CA, an intermediate, and a server certificate for
127.0.0.1, with an HTTPS site serving a handler under them."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.localsite import LocalSite


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject, key, issuer, issuer_key, ca: bool, ip: str | None = None) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    b = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        b = b.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    if ip:
        b = b.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), False)
    return b.sign(issuer_key, hashes.SHA256())


def _pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


@dataclass
class Chain:
    root: bytes  # PEM
    intermediate: bytes
    leaf: bytes
    key: bytes


def make_chain() -> Chain:
    root_key, mid_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = _cert("测试根证书 Test Root", root_key, "测试根证书 Test Root", root_key, ca=True)
    mid = _cert("Test Intermediate", mid_key, "测试根证书 Test Root", root_key, ca=True)
    leaf = _cert("127.0.0.1", leaf_key, "Test Intermediate", mid_key, ca=False, ip="127.0.0.1")
    key = leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return Chain(_pem(root), _pem(mid), _pem(leaf), key)


class HttpsSite(LocalSite):
    """``handler`` over TLS with ``chain``'s server certificate; ``send_intermediate`` False is the incomplete
    chain many servers send. ``context`` adjusts the server's context (old protocols)."""

    def __init__(
        self,
        handler: type[BaseHTTPRequestHandler],
        chain: Chain,
        tmp: Path,
        send_intermediate: bool = True,
        context=None,
    ):
        super().__init__(handler)
        cert, key = tmp / "server.pem", tmp / "server.key"
        cert.write_bytes(chain.leaf + (chain.intermediate if send_intermediate else b""))
        key.write_bytes(chain.key)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        if context is not None:
            context(ctx)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.base = f"https://{self.host}"
