"""Kill the publisher (SIGKILL) while it publishes under load: after a restart every committed
event reaches NATS JetStream and a webhook receiver at least once; none rolled back ever does."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import orjson
from events_helpers import NATS_URL, SEALER, Receiver, read_stream
from ledger_helpers import cli_env, create_funded_account, create_user
from sqlalchemy import Connection, select

from ledgerbank.events.addresses import Allowed
from ledgerbank.events.broker import Broker
from ledgerbank.events.delivery import Deliverer
from ledgerbank.events.publisher import Publisher
from ledgerbank.events.tables import events, webhook_deliveries
from ledgerbank.events.webhooks import register
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.ledger import posting

LEDGERBANK = str(Path(sys.executable).with_name("ledgerbank"))
ALLOWED = Allowed.parse("127.0.0.1/32")


def _count(database: Database, *where: object) -> int:
    with database.read() as conn:
        return len(conn.execute(select(events.c.id).where(*where)).all())  # type: ignore[arg-type]


def test_a_killed_publisher_loses_nothing_and_publishes_nothing_rolled_back(
    database: Database, database_url: str, receiver: Receiver
) -> None:
    since = utcnow() - timedelta(seconds=1)
    admin = database.write(lambda conn: create_user(conn, role="admin"))
    database.write(
        lambda conn: register(
            conn, url=receiver.url, kinds=["*"], actor_id=admin, allowed=ALLOWED, sealer=SEALER
        )
    )
    owner = database.write(lambda conn: create_user(conn))
    accounts = [create_funded_account(database, owner, "1.00") for _ in range(4)]
    stop = threading.Event()

    def load(account_id: int) -> None:
        n = 0
        while not stop.is_set() and n < 400:
            n += 1
            if n % 5 == 0:  # a change that rolls back: its event must never leave the bank

                def rolled_back(conn: Connection) -> None:
                    posting.deposit(
                        conn, account_id=account_id, amount="1.00", actor_id=None,
                        description="rolled-back",
                    )  # fmt: skip
                    raise LookupError("rolled back")

                with contextlib.suppress(LookupError):
                    database.write(rolled_back)
            else:
                database.write(
                    lambda conn: posting.deposit(
                        conn, account_id=account_id, amount="1.00", actor_id=None,
                        description="committed",
                    )
                )  # fmt: skip

    env = {**cli_env(database_url), "LEDGERBANK_EVENTS_URL": NATS_URL}
    command = [LEDGERBANK, "events", "publish", "--batch", "20", "--lease-seconds", "2"]
    publisher = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    writers = [threading.Thread(target=load, args=(a,)) for a in accounts]
    for writer in writers:
        writer.start()
    try:
        deadline = time.monotonic() + 60
        while _count(database, events.c.published_at.is_not(None)) < 50:  # publishing under load
            assert publisher.poll() is None, publisher.stderr.read() if publisher.stderr else ""
            assert time.monotonic() < deadline, "the publisher published nothing"
            time.sleep(0.05)
        os.killpg(publisher.pid, signal.SIGKILL)
        publisher.wait(10)
    finally:
        stop.set()
        for writer in writers:
            writer.join(60)
        if publisher.poll() is None:
            os.killpg(publisher.pid, signal.SIGKILL)
    assert _count(database, events.c.published_at.is_(None)) > 0  # work was left behind

    # Restart: another publisher takes the partitions once the dead one's leases run out.
    broker = Broker(NATS_URL)
    try:
        restarted = Publisher(database, broker, batch=200)
        deadline = time.monotonic() + 60
        while _count(database, events.c.published_at.is_(None)):
            restarted.run_once()
            assert time.monotonic() < deadline, "the restarted publisher did not catch up"
            time.sleep(0.2)
        restarted.release()
    finally:
        broker.close()
    deliverer = Deliverer(database, ALLOWED, sealer=SEALER, batch=500)
    try:
        while True:
            with database.read() as conn:
                pending = conn.execute(
                    select(webhook_deliveries.c.id).where(
                        webhook_deliveries.c.status != "delivered"
                    )
                ).all()
            if not pending:
                break
            deliverer.run_once()
    finally:
        deliverer.close()

    with database.read() as conn:
        committed = set(conn.execute(select(events.c.event_id)).scalars())
    in_nats = [m for m in read_stream(since) if m["account_id"] in accounts]
    nats_ids = {m["id"] for m in in_nats}
    assert committed <= nats_ids, f"{len(committed - nats_ids)} committed events never reached NATS"
    assert nats_ids <= committed  # nothing that was rolled back
    assert all(m["data"]["description"] != "rolled-back" for m in in_nats)
    received = receiver.ids()
    assert committed <= set(received)
    assert set(received) <= committed
    bodies = [orjson.loads(body) for body, _ in receiver.received]
    assert all(b["data"].get("description") != "rolled-back" for b in bodies)
