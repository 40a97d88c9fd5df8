"""The httpx transport over real TLS on loopback: a hospital CA bundle is honoured, and a certificate the kiosk
cannot verify is reported as a certificate problem ("tls"), not as "network"."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kiosk.sync.transport import HttpxTransport, TransportFailure


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_ca_and_server_cert(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway "hospital" CA and a server certificate for 127.0.0.1 signed by it: (ca.pem, cert, key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Hopital Test CA"))
        .issuer_name(_name("Hopital Test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("qlq.hopital.test"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        body = json.loads(self.rfile.read(length))
        reply = json.dumps({"submission_id": body["submission_id"], "status": "received"}).encode()
        self.send_response(201)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    ca, cert, key = make_ca_and_server_cert(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", ca
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_with_the_hospital_ca_bundle_the_exchange_succeeds(https_server) -> None:
    base, ca = https_server
    transport = HttpxTransport(base, ca_bundle=ca, timeout=5)
    try:
        reply = transport.post("/v1/submissions", b'{"submission_id": "abc"}', token="qlqd_x")
    finally:
        transport.close()
    assert reply.status == 201 and reply.body == {"submission_id": "abc", "status": "received"}


def test_without_it_the_certificate_problem_is_reported_as_such(https_server) -> None:
    base, _ = https_server
    transport = HttpxTransport(base, timeout=5)  # only the public roots: the hospital CA is unknown
    try:
        with pytest.raises(TransportFailure) as caught:
            transport.post("/v1/submissions", b'{"submission_id": "abc"}', token="qlqd_x")
    finally:
        transport.close()
    assert caught.value.kind == "tls"


def test_a_closed_port_is_a_network_failure_and_a_missing_bundle_is_refused(tmp_path: Path) -> None:
    from tests.integration.sync.processes import free_port

    transport = HttpxTransport(f"https://127.0.0.1:{free_port()}", timeout=2)
    try:
        with pytest.raises(TransportFailure) as caught:
            transport.post("/v1/submissions", b"{}", token=None)
    finally:
        transport.close()
    assert caught.value.kind == "network"
    with pytest.raises(FileNotFoundError):
        HttpxTransport("https://127.0.0.1", ca_bundle=tmp_path / "missing.pem")
