"""NATS JetStream: the stream events go to, and a publisher's connection to it (nats-py).

Subjects are `ledgerbank.<type>` (`ledgerbank.transaction.posted`, ...) in the stream
`LEDGERBANK`. Each message carries the event's stable id as `Nats-Msg-Id`, so JetStream drops
a republished duplicate inside its window, and consumers dedupe by the same id after it.
The publisher's code is synchronous (it reads and marks rows with SQLAlchemy); `Broker` runs
the asyncio client on a loop of its own thread and waits for every acknowledgement.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import nats
import orjson
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

STREAM = "LEDGERBANK"
SUBJECTS = "ledgerbank.>"
T = TypeVar("T")


def subject_of(event_type: str) -> str:
    return f"ledgerbank.{event_type}"


async def ensure_stream(js: JetStreamContext) -> None:
    """Create the stream unless it exists (`ledgerbank db upgrade` and publishers call it)."""
    try:
        await js.stream_info(STREAM)
    except NotFoundError:
        await js.add_stream(name=STREAM, subjects=[SUBJECTS], duplicate_window=600.0)


class Broker:
    """A connection to NATS JetStream for publishing envelopes in order, acknowledged."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="nats")
        self._thread.start()
        self._nc: Any = None
        self._js: JetStreamContext | None = None
        self._call(self._connect())

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(self.timeout * 3)

    async def _connect(self) -> None:
        self._nc = await nats.connect(
            self.url, connect_timeout=self.timeout, max_reconnect_attempts=3
        )
        self._js = self._nc.jetstream(timeout=self.timeout)
        await ensure_stream(self._js)

    def publish(self, envelopes: Sequence[dict[str, Any]]) -> None:
        """Publish in this order and return once JetStream acknowledged every one (raises
        when any was not: the caller marks nothing and publishes them again)."""
        if envelopes:
            self._call(self._publish(envelopes))

    async def _publish(self, envelopes: Sequence[dict[str, Any]]) -> None:
        assert self._js is not None
        acks = [
            await self._js.publish_async(
                subject_of(e["type"]), orjson.dumps(e), headers={"Nats-Msg-Id": e["id"]}
            )
            for e in envelopes
        ]
        await asyncio.wait_for(asyncio.gather(*acks), self.timeout)

    def close(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):  # closing anyway; unmarked events go again
                self._call(self._nc.drain())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def create_stream(url: str) -> None:
    """`ledgerbank db upgrade` with LEDGERBANK_EVENTS_URL: the stream exists afterwards."""

    async def run() -> None:
        nc = await nats.connect(url, connect_timeout=10, max_reconnect_attempts=1)
        try:
            await ensure_stream(nc.jetstream())
        finally:
            await nc.close()

    asyncio.run(run())
