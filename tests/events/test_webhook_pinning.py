"""DNS rebinding: a delivery connects to the addresses its URL check saw, never to a second
answer. The resolver is replaced at its boundary (`socket.getaddrinfo`, which both the check and
an ordinary HTTP client call) by one that answers the allowed address first and a forbidden one
after; the receivers are real servers on two loopback addresses, the https ones with a
certificate from a test authority."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from events_helpers import SEALER, Receiver
from ledger_helpers import create_funded_account, create_user
from sqlalchemy import select

from ledgerbank.events.addresses import Allowed, check_url
from ledgerbank.events.delivery import Deliverer, verify
from ledgerbank.events.publisher import Publisher
from ledgerbank.events.tables import webhook_deliveries, webhooks
from ledgerbank.events.webhooks import SECRET_PURPOSE, register
from ledgerbank.kit.db import Database

NAME = "hooks.rebind.test"
CHECKED = "127.0.0.2"  # stands for a public address: the allow-list admits it
INTERNAL = "127.0.0.1"  # an internal service the attacker wants the bank to call
ALLOWED = Allowed.parse(f"{CHECKED}/32")


@dataclass
class RebindingResolver:
    """An attacker's DNS server with a zero TTL: `NAME` answers the queued addresses in turn
    (the last one from then on); every other name is resolved for real."""

    real: Callable[..., Any]
    answers: list[str] = field(default_factory=lambda: [CHECKED])
    asked: int = 0

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != NAME:
            return self.real(host, port, *args, **kwargs)
        self.asked += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return self.real(answer, port, *args, **kwargs)


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> RebindingResolver:
    found = RebindingResolver(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", found)
    return found


@dataclass
class Authority:
    """A test certificate authority: the client trusts it; servers get certificates from it."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    folder: Path

    @classmethod
    def make(cls, folder: Path) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ledgerbank test CA")])
        cert = (
            cls._builder(name, key.public_key())
            .issuer_name(name)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert, folder)

    @staticmethod
    def _builder(subject: x509.Name, public: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
        now = dt.datetime.now(dt.UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
        )

    def client_context(self) -> ssl.SSLContext:
        pem = self.cert.public_bytes(serialization.Encoding.PEM).decode()
        return ssl.create_default_context(cadata=pem)

    def server_context(self, dns_name: str) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_name)])
        cert = (
            self._builder(subject, key.public_key())
            .issuer_name(self.cert.subject)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        chain = self.folder / f"{dns_name}.pem"
        chain.write_bytes(
            cert.public_bytes(serialization.Encoding.PEM)
            + key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain)
        return context


@pytest.fixture
def authority(tmp_path: Path) -> Authority:
    return Authority.make(tmp_path)


@contextmanager
def _pair(
    tls: tuple[ssl.SSLContext, ssl.SSLContext] | None = None,
) -> Iterator[tuple[Receiver, Receiver]]:
    """The webhook's real receiver on CHECKED and an internal service on INTERNAL, one port."""
    checked_tls, internal_tls = tls or (None, None)
    with Receiver.running(CHECKED, tls=checked_tls) as checked:
        port = int(checked.url.rsplit(":", 1)[1].split("/")[0])
        with Receiver.running(INTERNAL, port, tls=internal_tls) as internal:
            yield checked, internal


def _deliver_one(
    database: Database, url: str, resolver: RebindingResolver, **options: Any
) -> tuple[str, str | None]:
    """Register `url`, post one deposit, then send its delivery while the name rebinds:
    the delivery's check hears CHECKED, any later lookup INTERNAL. The delivery's status and
    error."""
    admin = database.write(lambda conn: create_user(conn, role="admin"))
    hook = database.write(
        lambda conn: register(
            conn, url=url, kinds=["*"], actor_id=admin, allowed=ALLOWED, sealer=SEALER
        )
    )
    create_funded_account(database, database.write(lambda conn: create_user(conn)), "4.00")
    publisher = Publisher(database, None)
    try:
        publisher.run_once()
    finally:
        publisher.release()
    resolver.answers = [CHECKED, INTERNAL]
    resolver.asked = 0
    deliverer = Deliverer(database, ALLOWED, sealer=SEALER, **options)
    try:
        deliverer.run_once()
    finally:
        deliverer.close()
    with database.read() as conn:
        query = select(webhook_deliveries.c.status, webhook_deliveries.c.last_error).where(
            webhook_deliveries.c.webhook_id == hook["id"]
        )
        status, error = conn.execute(query).one()
    return str(status), error


def test_a_delivery_connects_to_the_checked_address_not_a_rebound_one(
    database: Database, resolver: RebindingResolver
) -> None:
    with _pair() as (checked, internal):
        url = checked.url.replace(CHECKED, NAME)
        status, error = _deliver_one(database, url, resolver)
        assert internal.received == []  # the internal service never heard from the bank
        assert (status, error) == ("delivered", None)
        assert checked.count() == 1
        assert checked.hosts == [url.split("/")[2]]  # the Host header names the webhook's host
        assert resolver.asked == 1  # the check asked; the connection did not ask again


def test_https_is_checked_against_the_host_name_at_the_pinned_address(
    database: Database, resolver: RebindingResolver, authority: Authority
) -> None:
    contexts = (authority.server_context(NAME), authority.server_context(NAME))
    with _pair(contexts) as (checked, internal):
        url = checked.url.replace(CHECKED, NAME)
        status, error = _deliver_one(database, url, resolver, verify=authority.client_context())
        assert (status, error) == ("delivered", None)
        assert internal.received == []
        assert checked.server_names == [NAME]  # SNI carried the host name, not the address
        ((body, signature),) = checked.received
        assert verify(_secret(database), body, signature, now=float(signature[2:12]))


def test_a_certificate_for_another_name_is_refused_at_the_pinned_address(
    database: Database, resolver: RebindingResolver, authority: Authority
) -> None:
    other = authority.server_context("elsewhere.test")
    with _pair((other, other)) as (checked, internal):
        url = checked.url.replace(CHECKED, NAME)
        status, error = _deliver_one(database, url, resolver, verify=authority.client_context())
        assert status == "pending"  # to be retried
        assert error is not None
        assert "certificate" in error.lower() or "hostname" in error.lower()
        assert checked.received == []
        assert internal.received == []


def test_the_check_answers_every_address_it_checked(resolver: RebindingResolver) -> None:
    resolver.answers = [CHECKED]
    target = check_url(f"https://{NAME.upper()}:8443/hook", ALLOWED)
    assert (target.host, target.port, target.addresses) == (NAME, 8443, (CHECKED,))
    named = check_url("http://localhost:9/hook", Allowed.parse("localhost"))
    assert named.addresses  # an allowed name is not checked, but still pinned
    assert set(named.addresses) <= {"127.0.0.1", "::1"}


def _secret(database: Database) -> str:
    """The one webhook's signing secret, opened as the deliverer opens it."""
    with database.read() as conn:
        stored = str(conn.execute(select(webhooks.c.secret)).scalar_one())
    return SEALER.open(stored, purpose=SECRET_PURPOSE)
