"""A webhook receiver (a real HTTP server on 127.0.0.1) and a JetStream reader for the tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import nats
import orjson
from nats.js.api import ConsumerConfig, DeliverPolicy

from ledgerbank.events.broker import STREAM, SUBJECTS

NATS_URL = "nats://127.0.0.1:4222"


@dataclass
class Receiver:
    """Records every POST (body, signature header) and answers `status` (changeable)."""

    url: str = ""
    status: int = 200
    received: list[tuple[bytes, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ids(self) -> list[str]:
        with self.lock:
            return [orjson.loads(body)["id"] for body, _ in self.received]

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[Receiver]:
        found = cls()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with found.lock:
                    found.received.append((body, self.headers.get("Ledgerbank-Signature", "")))
                self.send_response(found.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        found.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield found
        finally:
            server.shutdown()
            server.server_close()


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
