"""The publisher and the live feed: commit order per account, at least once, never a skipped
late commit, one publisher per partition, to a real NATS JetStream (127.0.0.1:4222: CI starts
it; these tests fail when it is down)."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from events_helpers import NATS_URL, SEALER, Receiver, read_stream
from ledger_helpers import create_account, create_funded_account, create_user
from sqlalchemy import Connection, insert, select

from ledgerbank.events import outbox
from ledgerbank.events.addresses import Allowed
from ledgerbank.events.broker import Broker
from ledgerbank.events.delivery import Deliverer, verify
from ledgerbank.events.feed import Cursor, read
from ledgerbank.events.publisher import Publisher
from ledgerbank.events.tables import events
from ledgerbank.events.webhooks import register
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.ledger import posting


def _event_ids(database: Database) -> list[str]:
    with database.read() as conn:
        return list(conn.execute(select(events.c.event_id).order_by(events.c.id)).scalars())


def _unpublished(database: Database) -> int:
    with database.read() as conn:
        query = select(events.c.id).where(events.c.published_at.is_(None))
        return len(conn.execute(query).all())


def test_events_reach_jetstream_in_each_accounts_commit_order(database: Database) -> None:
    since = utcnow() - timedelta(seconds=1)
    owner = database.write(lambda conn: create_user(conn))
    accounts = [create_funded_account(database, owner, "100.00") for _ in range(3)]
    for n in range(10):
        database.write(
            lambda conn, n=n: posting.transfer(
                conn, from_account_id=accounts[n % 3], to_account_id=accounts[(n + 1) % 3],
                amount="1.00", actor_id=owner,
            )
        )  # fmt: skip
    broker = Broker(NATS_URL)
    try:
        assert Publisher(database, broker, batch=7).run_once() == 23
    finally:
        broker.close()
    assert _unpublished(database) == 0
    ours = set(_event_ids(database))
    seen = [m for m in read_stream(since) if m["id"] in ours]
    assert {m["id"] for m in seen} == ours
    assert all(m["subject"] == f"ledgerbank.{m['type']}" for m in seen)
    expected = _event_ids(database)
    for account in accounts:  # each account's events arrive in the order they were written
        mine = [m["id"] for m in seen if m["account_id"] == account]
        assert mine == [i for i in expected if i in set(mine)]


def test_a_crash_between_publish_and_mark_publishes_again_never_zero_times(
    database: Database,
) -> None:
    owner = database.write(lambda conn: create_user(conn))
    create_funded_account(database, owner, "5.00")
    sent: list[list[str]] = []

    class Sink:
        def publish(self, envelopes: Any) -> None:
            sent.append([e["id"] for e in envelopes])

    def crash(rows: list[dict[str, Any]]) -> None:
        raise SystemExit("killed between publishing and marking")

    with pytest.raises(SystemExit):
        Publisher(database, Sink(), after_publish=crash, lease_seconds=0.01).run_once()
    assert _unpublished(database) == 1
    time.sleep(0.1)  # the dead publisher's leases run out
    assert Publisher(database, Sink()).run_once() == 1
    assert sent[0] == sent[1] == _event_ids(database)  # the same event twice; consumers dedupe
    assert _unpublished(database) == 0


def test_one_publisher_per_partition_at_a_time(database: Database) -> None:
    first, second = Publisher(database, None), Publisher(database, None)
    assert first.lease() == list(range(8))
    assert second.lease() == []  # every partition is leased: the second waits
    first.release()
    assert second.lease() == list(range(8))


def _emit(conn: Connection, marker: str, event_id: int | None = None) -> None:
    row = outbox.event("test.marker", {"marker": marker}, at=utcnow(), account_id=1)
    if event_id is not None:
        row["id"] = event_id
    conn.execute(insert(events), row)


def test_the_feed_reads_an_event_that_fills_a_gap_below_its_head(database: Database) -> None:
    """Ids 1, 2 and 4 are visible, 3 is not (yet): the reader moves to 4 and still reads 3
    when it appears (as a late commit does)."""
    for event_id in (1, 2, 4):
        database.write(lambda conn, i=event_id: _emit(conn, f"m{i}", i))
    cursor = Cursor()
    with database.read() as conn:
        assert [r["id"] for r in read(conn, cursor, None, 50)] == [1, 2, 4]
    assert cursor.token() == "4~3"
    database.write(lambda conn: _emit(conn, "m3", 3))
    with database.read() as conn:
        assert [r["id"] for r in read(conn, cursor, None, 50)] == [3]
        assert read(conn, cursor, None, 50) == []
    assert cursor.token() == "4"
    resumed = Cursor.parse("4~3")
    assert resumed is not None
    assert (resumed.head, list(resumed.gaps)) == (4, [3])


# Two writers at once: PostgreSQL and MySQL (SQLite has one writer at a time), those configured.
CONCURRENT = [
    backend
    for backend, setting in (
        ("postgresql", "LEDGERBANK_TEST_POSTGRES_URL"),
        ("mysql", "LEDGERBANK_TEST_MYSQL_URL"),
    )
    if os.environ.get(setting)
]


@pytest.mark.parametrize("backend", CONCURRENT)
def test_a_late_committing_event_is_neither_skipped_by_the_feed_nor_by_the_publisher(
    database: Database,
) -> None:
    """Transaction A draws the smaller id and commits after B: the feed and the publisher that
    already went past B's id still deliver A's event."""
    inserted, release = threading.Event(), threading.Event()

    def slow(conn: Connection) -> None:
        _emit(conn, "late")
        inserted.set()
        assert release.wait(30)

    late = threading.Thread(target=lambda: database.write(slow))
    late.start()
    assert inserted.wait(30)
    database.write(lambda conn: _emit(conn, "early"))
    cursor = Cursor()
    published: list[str] = []

    class Sink:
        def publish(self, envelopes: Any) -> None:
            published.extend(e["data"]["marker"] for e in envelopes)

    publisher = Publisher(database, Sink())
    with database.read() as conn:
        assert [r["body"] for r in read(conn, cursor, None, 50)] == ['{"marker":"early"}']
    assert publisher.run_once() == 1
    release.set()
    late.join(30)
    with database.read() as conn:
        assert [r["body"] for r in read(conn, cursor, None, 50)] == ['{"marker":"late"}']
    assert publisher.run_once() == 1
    assert published == ["early", "late"]


def test_webhook_deliveries_are_signed_and_retried_until_dead(
    database: Database, receiver: Receiver
) -> None:
    admin = database.write(lambda conn: create_user(conn, role="admin"))
    allowed = Allowed.parse("127.0.0.1/32")
    hook = database.write(
        lambda conn: register(
            conn,
            url=receiver.url,
            kinds=["transaction.posted"],
            actor_id=admin,
            allowed=allowed,
            sealer=SEALER,
        )
    )
    owner = database.write(lambda conn: create_user(conn))
    database.write(lambda conn: create_account(conn, owner))
    create_funded_account(database, owner, "7.00")
    assert Publisher(database, None).run_once() == 1
    deliverer = Deliverer(database, allowed, sealer=SEALER)
    try:
        assert deliverer.run_once().delivered == 1
    finally:
        deliverer.close()
    ((body, signature),) = receiver.received
    now = float(signature.split(",")[0][2:])
    assert verify(hook["secret"], body, signature, now=now)
    assert not verify(hook["secret"], body + b" ", signature, now=now)  # altered body
    assert not verify("whsec_other", body, signature, now=now)  # another secret
    assert not verify(hook["secret"], body, signature, now=now + 301)  # replayed too late
