"""The delivery transport: it connects only to addresses the SSRF guard approved, resolves once, follows
no redirect, gives up after its deadline, and TLS still checks the host name."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fileflow_common.webhooks.targets import IPAddress, TargetPolicy
from fileflow_webhooks.transport import HttpPoster, Sent
from tests.webhook_receiver import Reply, receiver

LOCAL = TargetPolicy(allow_local_http=True)


class FakeResolver:
    """Answers every host with the same addresses and remembers what it was asked."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = [ipaddress.ip_address(address) for address in addresses]
        self.asked: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append((host, port))
        return list(self.addresses)


def test_a_host_resolving_to_a_private_address_is_refused_at_connect() -> None:
    # Given an https URL whose host name resolves to 10.0.0.7 (a private address)
    resolver = FakeResolver("10.0.0.7")
    poster = HttpPoster(TargetPolicy(), resolver=resolver)
    # When a delivery is posted to it
    sent = poster.post("https://hooks.example.com/in", {}, b"{}")
    # Then the connection is refused by the guard, when httpcore asked to connect to that host
    assert sent.status_code is None
    assert sent.error is not None
    assert "hooks.example.com resolves to 10.0.0.7" in sent.error
    assert "private" in sent.error
    assert resolver.asked == [("hooks.example.com", 443)]


def test_the_metadata_service_and_loopback_are_refused_without_the_allowance() -> None:
    # Given host names resolving to the cloud metadata service and to loopback, and no allowance
    for address, reason in (("169.254.169.254", "metadata"), ("127.0.0.1", "loopback")):
        sent = HttpPoster(TargetPolicy(), resolver=FakeResolver(address)).post("https://x.example/", {}, b"")
        # Then neither is connected to
        assert sent.error is not None, sent
        assert reason in sent.error, sent


def test_it_connects_to_the_approved_address_without_resolving_again(monkeypatch: pytest.MonkeyPatch) -> None:
    with receiver() as local:
        # Given a receiver on 127.0.0.1, the local allowance, and a resolver giving localhost -> 127.0.0.1
        resolver = FakeResolver("127.0.0.1")
        poster = HttpPoster(LOCAL, resolver=resolver)

        # And a system resolver that fails for every name (a second resolution would be caught)
        def no_dns(host: str, *args: object, **kwargs: object) -> object:
            if host != "127.0.0.1":
                raise socket.gaierror(f"no DNS in this test: {host}")
            return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

        real_getaddrinfo = socket.getaddrinfo
        monkeypatch.setattr(socket, "getaddrinfo", no_dns)
        # When posting to http://localhost:<port>/hook
        sent = poster.post(local.url(host="localhost"), {"webhook-id": "msg_1"}, b'{"a":1}')
    # Then the receiver got it: the connection went to the address the guard approved
    assert sent.status_code == 200, sent
    assert resolver.asked == [("localhost", local.port)]
    assert local.requests[0].headers["host"] == f"localhost:{local.port}"
    assert local.requests[0].body == b'{"a":1}'


def test_redirects_are_not_followed() -> None:
    with receiver([Reply(302, {"location": "http://127.0.0.1:1/elsewhere"})]) as local:
        # Given a receiver answering 302 to an address nobody may reach
        sent = HttpPoster(LOCAL).post(local.url(), {}, b"{}")
    # Then the 302 is the attempt's answer and nothing else was requested
    assert sent.status_code == 302
    assert len(local.requests) == 1


@pytest.fixture
def dripping_server() -> Iterator[int]:
    """Accepts connections and answers one header byte every 0.1 s, forever: no single read ever waits
    long, so only a deadline for the whole attempt ends it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def drip() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                connection = server.accept()[0]
            except TimeoutError:
                continue
            with connection:
                try:
                    connection.sendall(b"HTTP/1.1 200 OK\r\n")
                    while not stop.wait(0.1):
                        connection.sendall(b"x")
                except OSError:
                    continue

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    server.close()


def test_a_dripping_receiver_ends_the_attempt_at_its_deadline(dripping_server: int) -> None:
    # Given a receiver that keeps sending its headers a byte at a time, and a 1 s deadline
    poster = HttpPoster(LOCAL, timeout_seconds=1.0)
    started = time.monotonic()
    results: list[Sent] = []
    # When posting to it (in a thread: without a deadline it would never end)
    worker = threading.Thread(
        target=lambda: results.append(poster.post(f"http://127.0.0.1:{dripping_server}/hook", {}, b"{}")),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=5)
    # Then the attempt ends as a timeout, at its deadline (not after a read that took too long)
    elapsed = time.monotonic() - started
    assert results, "the attempt was still running after 5 s"
    [sent] = results
    assert sent.status_code is None
    assert sent.error == "no response within 1 s"
    assert 0.9 <= elapsed < 2.5


def _certificate(tmp_path: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for `name` (signed by a throwaway CA), and a client context
    that trusts only that CA."""
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server, client


@pytest.mark.parametrize(("certified", "verified"), [("localhost", True), ("other.example", False)])
def test_tls_verifies_the_host_name_not_the_address(tmp_path: Path, certified: str, verified: bool) -> None:
    # Given an https receiver on 127.0.0.1 whose certificate names `certified`
    server_context, client_context = _certificate(tmp_path, certified)
    with receiver(tls=server_context) as local:
        # When posting to https://localhost:<port> (connected by address 127.0.0.1)
        poster = HttpPoster(LOCAL, resolver=FakeResolver("127.0.0.1"), ssl_context=client_context)
        sent = poster.post(f"https://localhost:{local.port}/hook", {}, b"{}")
    # Then the certificate is checked against "localhost": accepted when it names it, refused otherwise
    if verified:
        assert sent.status_code == 200, sent
    else:
        assert sent.status_code is None
        assert sent.error is not None, sent
        assert "hostname mismatch" in sent.error.lower(), sent
