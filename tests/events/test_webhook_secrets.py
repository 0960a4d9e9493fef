"""Webhook signing secrets sealed at rest: the table never holds one in clear, deliveries are
still signed with it, a plain secret from before is sealed when next delivered, and secret keys
rotate (the generated development key can become `k1` of LEDGERBANK_SECRET_KEYS)."""

from __future__ import annotations

from api_helpers import Bank
from events_helpers import Receiver
from sqlalchemy import select, update

from ledgerbank.events.addresses import Allowed
from ledgerbank.events.delivery import Deliverer, verify
from ledgerbank.events.publisher import Publisher
from ledgerbank.events.tables import webhook_deliveries, webhooks
from ledgerbank.kit.keys import Keyring
from ledgerbank.kit.sealed import Sealer

NEW_KEY = "k2:" + "the-new-secret-key-of-the-bank-" * 2


def _register(bank: Bank, receiver: Receiver) -> tuple[int, str]:
    answer = bank.post("admin", "/webhooks", {"url": receiver.url, "events": ["*"]})
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"]), str(answer.json()["secret"])


def _stored(bank: Bank, webhook_id: int) -> str:
    with bank.database.read() as conn:
        query = select(webhooks.c.secret).where(webhooks.c.id == webhook_id)
        return str(conn.execute(query).scalar_one())


def _deliver(bank: Bank, sealer: Sealer) -> None:
    """Publish what is pending, then send it with the worker's Deliverer and these keys."""
    publisher = Publisher(bank.database, None)
    try:
        publisher.run_once()
    finally:
        publisher.release()  # the next round's publisher leases the partitions afresh
    deliverer = Deliverer(bank.database, Allowed.parse("127.0.0.1/32"), sealer=sealer)
    try:
        deliverer.run_once()
    finally:
        deliverer.close()


def _all_verify(receiver: Receiver, secret: str) -> int:
    assert receiver.received
    for body, signature in receiver.received:
        at = float(signature.split(",")[0][2:])
        assert verify(secret, body, signature, now=at)
    return len(receiver.received)


def test_the_stored_secret_is_sealed_and_deliveries_verify(bank: Bank, receiver: Receiver) -> None:
    webhook_id, secret = _register(bank, receiver)
    stored = _stored(bank, webhook_id)
    assert secret not in stored
    assert stored.startswith("sealed:k1:")
    bank.fund(bank.open_account("alice"), "5.00")
    _deliver(bank, bank.app.state.settings.sealer())
    assert _all_verify(receiver, secret) >= 1


def test_a_plain_text_secret_from_before_still_signs_and_is_sealed_on_use(
    bank: Bank, receiver: Receiver
) -> None:
    webhook_id, _ = _register(bank, receiver)
    plain = "whsec_written-before-secrets-were-sealed-000000000"
    bank.database.write(
        lambda conn: conn.execute(
            update(webhooks).where(webhooks.c.id == webhook_id).values(secret=plain)
        )
    )
    bank.fund(bank.open_account("alice"), "5.00")
    _deliver(bank, bank.app.state.settings.sealer())
    assert _all_verify(receiver, plain) >= 1
    stored = _stored(bank, webhook_id)
    assert plain not in stored
    assert stored.startswith("sealed:k1:")


def test_keys_rotate_from_the_generated_key_and_an_unknown_key_is_a_failed_delivery(
    bank: Bank, receiver: Receiver
) -> None:
    webhook_id, secret = _register(bank, receiver)  # sealed under the generated key, "k1"
    generated = (bank.app.state.settings.data_dir / "secret-key").read_text().strip()
    rotated = Sealer(Keyring.parse(f"{NEW_KEY},k1:{generated}", setting="LEDGERBANK_SECRET_KEYS"))
    bank.fund(bank.open_account("alice"), "5.00")
    _deliver(bank, rotated)
    assert _all_verify(receiver, secret) >= 1
    assert _stored(bank, webhook_id).startswith("sealed:k2:")  # sealed again under k2
    # Only k1 now (say, k2 was removed too early): the delivery fails and is retried; nothing
    # crashes and nothing is sent unsigned.
    only_old = Sealer(Keyring.parse(f"k1:{generated}", setting="LEDGERBANK_SECRET_KEYS"))
    sent = len(receiver.received)
    bank.fund(bank.open_account("bob"), "6.00")
    _deliver(bank, only_old)
    assert len(receiver.received) == sent
    with bank.database.read() as conn:
        failed = conn.execute(
            select(webhook_deliveries.c.status, webhook_deliveries.c.last_error).where(
                webhook_deliveries.c.last_error.is_not(None)
            )
        ).all()
    assert failed
    assert all(status == "pending" and "k2" in error for status, error in failed)
