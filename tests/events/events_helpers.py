"""A JetStream reader for the tests, and the webhook receiver `bench events` uses too."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import nats
import orjson
from nats.js.api import ConsumerConfig, DeliverPolicy

from ledgerbank.bench.receiver import Receiver
from ledgerbank.events.broker import STREAM, SUBJECTS
from ledgerbank.kit.keys import Keyring
from ledgerbank.kit.sealed import Sealer

__all__ = ["NATS_URL", "SEALER", "SECRET_KEYS", "Receiver", "read_stream"]

NATS_URL = "nats://127.0.0.1:4222"
# seals webhook secrets in tests that register and deliver without an app's settings
SECRET_KEYS = "t1:" + "test-secret-key-" * 3
SEALER = Sealer(Keyring.parse(SECRET_KEYS, setting="LEDGERBANK_SECRET_KEYS"))


def read_stream(since: datetime, *, idle: float = 1.0) -> list[dict[str, Any]]:
    """Every message JetStream holds from `since` on (an ephemeral consumer), decoded."""

    async def run() -> list[dict[str, Any]]:
        nc = await nats.connect(NATS_URL, connect_timeout=5, max_reconnect_attempts=1)
        try:
            js = nc.jetstream()
            config = ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_TIME,
                opt_start_time=since.isoformat().replace("+00:00", "Z"),
            )
            sub = await js.pull_subscribe(SUBJECTS, stream=STREAM, config=config)
            found: list[dict[str, Any]] = []
            while True:
                try:
                    batch = await sub.fetch(500, timeout=idle)
                except (nats.errors.TimeoutError, TimeoutError):
                    return found
                for message in batch:
                    found.append({"subject": message.subject, **orjson.loads(message.data)})
                    await message.ack()
        finally:
            await nc.close()

    return asyncio.run(run())
