"""The worker's events jobs, and `ledgerbank db upgrade` making the JetStream stream."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import nats
import pytest
from events_helpers import NATS_URL, SEALER, SECRET_KEYS, Receiver, read_stream
from ledger_helpers import create_funded_account, create_user, run_cli
from sqlalchemy import select

from ledgerbank.config import get_settings
from ledgerbank.events.addresses import Allowed
from ledgerbank.events.broker import STREAM
from ledgerbank.events.jobs import DELIVER_WEBHOOKS, PUBLISH_EVENTS
from ledgerbank.events.tables import events
from ledgerbank.events.webhooks import register
from ledgerbank.jobs import registry
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.worker.registry import JobContext


def test_the_worker_publishes_and_delivers(database: Database, receiver: Receiver) -> None:
    assert {"events.publish", "events.deliver"} <= {job.name for job in registry()}
    since = utcnow() - timedelta(seconds=1)
    admin = database.write(lambda conn: create_user(conn, role="admin"))
    database.write(
        lambda conn: register(
            conn, url=receiver.url, kinds=["transaction.posted"], actor_id=admin,
            allowed=Allowed.parse("127.0.0.1/32"), sealer=SEALER,
        )
    )  # fmt: skip
    owner = database.write(lambda conn: create_user(conn))
    create_funded_account(database, owner, "3.00")
    settings = get_settings().model_copy(
        update={
            "events_url": NATS_URL,
            "webhook_allowed_hosts": "127.0.0.1/32",
            "secret_keys": SECRET_KEYS,
        }
    )
    context = JobContext(database=database, settings=settings, money=None, now=utcnow())
    assert PUBLISH_EVENTS.run(context).items == 1
    assert DELIVER_WEBHOOKS.run(context).items == 1
    with database.read() as conn:
        (event_id,) = conn.execute(select(events.c.event_id)).scalars()
    assert receiver.ids() == [event_id]
    assert event_id in {m["id"] for m in read_stream(since)}


def test_db_upgrade_makes_the_stream(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGERBANK_EVENTS_URL", NATS_URL)
    result = run_cli(database_url, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert f"stream {STREAM} ready" in result.output

    async def stream_subjects() -> list[str]:
        nc = await nats.connect(NATS_URL)
        try:
            info = await nc.jetstream().stream_info(STREAM)
            return list(info.config.subjects or [])
        finally:
            await nc.close()

    assert asyncio.run(stream_subjects()) == ["ledgerbank.>"]
