"""Publishing the outbox: per partition, in commit order, at least once, one publisher at a time.

A round: lease the free partitions (`FOR UPDATE SKIP LOCKED` on PostgreSQL and MySQL, so
workers never wait on each other's leases), then for each leased partition read its oldest
unpublished events in id order, hand them to the broker (every acknowledgement awaited), and in
one short transaction queue their webhook deliveries and mark them published — only while the
lease is still ours. A crash between publishing and marking publishes those events again on the
next round (consumers dedupe by id); nothing is marked before the broker has it, so none is
lost. Reading "unpublished" instead of "after the last id" means an event whose transaction
commits late is simply published later: no reader moves past it. One account's events all fall
in one partition and its row is locked while they are written, so their ids follow its commits.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ledgerbank.events import webhooks
from ledgerbank.events.outbox import envelope
from ledgerbank.events.tables import PARTITIONS, event_partitions, events
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database

log = logging.getLogger(__name__)


class Sink(Protocol):
    def publish(self, envelopes: Sequence[dict[str, Any]]) -> None: ...


def holder_name() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Publisher:
    """Publishes the outbox to a broker (or to none: webhooks alone) and queues deliveries."""

    database: Database
    broker: Sink | None = None
    batch: int = 500
    lease_seconds: float = 30.0
    holder: str = field(default_factory=holder_name)
    after_publish: Callable[[list[dict[str, Any]]], None] | None = None  # tests: a crash here
    _partitions_ready: bool = False

    def lease(self) -> list[int]:
        """Take (or keep) every partition no other live publisher holds."""
        if not self._partitions_ready:
            self.database.write(_add_missing_partitions)
            self._partitions_ready = True

        def take(conn: Connection) -> list[int]:
            now = utcnow()
            free = or_(
                event_partitions.c.lease_until.is_(None),
                event_partitions.c.lease_until < now,
                event_partitions.c.holder == self.holder,
            )
            query = (
                select(event_partitions.c.partition_no)
                .where(free)
                .order_by(event_partitions.c.partition_no)
                .with_for_update(skip_locked=True)
            )
            taken = [int(n) for n in conn.execute(query).scalars()]
            if taken:
                conn.execute(
                    update(event_partitions)
                    .where(event_partitions.c.partition_no.in_(taken))
                    .values(
                        holder=self.holder, lease_until=now + timedelta(seconds=self.lease_seconds)
                    )
                )
            return taken

        return self.database.write(take)

    def release(self) -> None:
        self.database.write(
            lambda conn: conn.execute(
                update(event_partitions)
                .where(event_partitions.c.holder == self.holder)
                .values(holder=None, lease_until=None)
            )
        )

    def run_once(self) -> int:
        """One round over the leased partitions; the number of events published."""
        published = 0
        for partition in self.lease():
            while True:
                done = self._publish_partition(partition)
                published += done
                if done < self.batch:
                    break
        return published

    def _publish_partition(self, partition: int) -> int:
        with self.database.read() as conn:
            rows = [
                dict(row)
                for row in conn.execute(
                    select(events)
                    .where(events.c.partition_no == partition, events.c.published_at.is_(None))
                    .order_by(events.c.id)
                    .limit(self.batch)
                ).mappings()
            ]
        if not rows:
            return 0
        envelopes = [envelope(row) for row in rows]
        if self.broker is not None:
            self.broker.publish(envelopes)
        if self.after_publish is not None:
            self.after_publish(rows)
        return self.database.write(lambda conn: self._mark(conn, partition, rows))

    def _mark(self, conn: Connection, partition: int, rows: list[dict[str, Any]]) -> int:
        now = utcnow()
        still_ours = conn.execute(
            update(event_partitions)
            .where(
                and_(
                    event_partitions.c.partition_no == partition,
                    event_partitions.c.holder == self.holder,
                )
            )
            .values(
                published=event_partitions.c.published + len(rows),
                lease_until=now + timedelta(seconds=self.lease_seconds),
            )
        ).rowcount
        if not still_ours:  # another publisher took over: it publishes them (again)
            log.warning(
                "lost the lease of partition %s; %s events left to it", partition, len(rows)
            )
            return 0
        webhooks.queue_deliveries(conn, rows, now)
        conn.execute(
            update(events).where(events.c.id.in_([r["id"] for r in rows])).values(published_at=now)
        )
        return len(rows)

    def run(self, *, idle_seconds: float = 0.2, stop: Callable[[], bool] = lambda: False) -> None:
        """Publish until `stop()` says so, resting while nothing is pending."""
        try:
            while not stop():
                try:
                    published = self.run_once()
                except Exception:  # the broker or the database is away: nothing was marked
                    log.exception("publishing failed; trying again shortly")
                    published = 0
                    time.sleep(1.0)
                if not published:
                    time.sleep(idle_seconds)
        finally:
            self.release()


def _add_missing_partitions(conn: Connection) -> None:
    """The lease rows (the migration adds them; a restored or emptied database may not have
    them)."""
    have = set(conn.execute(select(event_partitions.c.partition_no)).scalars())
    missing = [{"partition_no": n} for n in range(PARTITIONS) if n not in have]
    if missing:
        try:
            with conn.begin_nested():
                conn.execute(insert(event_partitions), missing)
        except IntegrityError:  # another publisher added them first
            pass
