"""Live updates for open dashboards: an authenticated server-sent-events stream of new activity.

Each stream polls the database cheaply (rows with an id above the last one it sent, by primary
key) and only shows what the caller may see: a customer their own accounts' transactions, staff
with read access every transaction, and the alert queues of the roles that work them. A stream
ends after fifteen seconds, so a revoked or expired token stops receiving events soon after and a
stopping server is never held up for long; the browser reconnects with `Last-Event-ID`, and the
new stream resumes after the last row the old one sent.

A customer's feed follows the ledger's own visibility rule (a payee never learns of a payment
that risk screening stopped) and reads such an attempt of their own as `declined`. Open streams
are counted when a request is admitted, under a lock, so parallel opens cannot pass the caps;
part of the server's streams is kept for staff.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import ColumnElement, Connection, Table, func, select
from starlette.concurrency import run_in_threadpool

from ledgerbank import errors
from ledgerbank.identity.deps import DB, CurrentUser, Principal
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit.db import Database
from ledgerbank.kit.http import problem_responses
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.ledger.policy import transactions_visible_to
from ledgerbank.ledger.tables import transactions
from ledgerbank.risk.tables import risk_alerts

POLL_SECONDS = 1.5  # how often a stream looks for new rows
STREAM_SECONDS = 15  # a stream's lifetime; the client reconnects (and re-authenticates)
KEEPALIVE_SECONDS = 10  # a comment line keeps proxies from closing an idle stream
BATCH = 50  # at most this many rows of one kind per poll
MAX_STREAMS = 200  # open streams per server process
MAX_STREAMS_PER_USER = 8  # a few tabs each
STAFF_RESERVED = 40  # of MAX_STREAMS, never taken by customers: staff always get in

router = APIRouter(tags=["events"])


@dataclass
class _Feed:
    """One kind of row a stream follows: its event name, its table, the rows the caller may see."""

    event: str
    table: Table
    render: Callable[[dict[str, Any]], dict[str, Any]]
    visible: ColumnElement[bool] | None = None  # None: every row


@dataclass
class _Streams:
    """Open streams of this process, admitted and released under one lock."""

    total: int = 0
    per_user: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self, user_id: int, *, staff: bool) -> bool:
        limit = MAX_STREAMS if staff else MAX_STREAMS - STAFF_RESERVED
        with self.lock:
            if self.total >= limit or self.per_user.get(user_id, 0) >= MAX_STREAMS_PER_USER:
                return False
            self.total += 1
            self.per_user[user_id] = self.per_user.get(user_id, 0) + 1
            return True

    def release(self, user_id: int) -> None:
        with self.lock:
            self.total -= 1
            left = self.per_user.get(user_id, 1) - 1
            if left:
                self.per_user[user_id] = left
            else:
                self.per_user.pop(user_id, None)


def _transaction_event(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "type": row["type"],
        "status": row["status"],  # staff's feed: as stored
        "amount": to_decimal_string(row["amount"], row["currency"]),
        "currency": row["currency"],
        "from_account_id": row["from_account_id"],
        "to_account_id": row["to_account_id"],
        "description": row["description"],
        "created_at": row["created_at"].isoformat(),
    }


def _customer_transaction_event(row: dict[str, Any]) -> dict[str, Any]:
    """What a customer's feed says: the payer's own stopped payment reads `declined`."""
    event = _transaction_event(row)
    if event["status"] == "blocked":
        event["status"] = "declined"
    return event


def _alert_event(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "queue": row["queue"],
        "transaction_id": row["transaction_id"],
        "account_id": row["account_id"],
        "rule_id": row["rule_id"],
        "severity": row["severity"],
        "status": row["status"],
        "score": row["score"],
        "verdict": row["verdict"],
        "summary": row["summary"],
        "created_at": row["created_at"].isoformat(),
    }


def _feeds(principal: Principal) -> list[_Feed]:
    """What the caller may follow: its own transactions or all of them, and its alert queues."""
    feeds: list[_Feed] = []
    if principal.can(Permission.TRANSACTIONS_READ_ALL):
        feeds.append(_Feed("transaction", transactions, _transaction_event))
    elif principal.can(Permission.TRANSACTIONS_READ_OWN):
        visible = transactions_visible_to(principal)
        feeds.append(_Feed("transaction", transactions, _customer_transaction_event, visible))
    queues = [
        queue
        for queue, permission in (
            ("fraud", Permission.FRAUD_REVIEW),
            ("compliance", Permission.COMPLIANCE_REVIEW),
        )
        if principal.can(permission)
    ]
    if queues:
        feeds.append(_Feed("alert", risk_alerts, _alert_event, risk_alerts.c.queue.in_(queues)))
    return feeds


def _newest_id(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())


def _heads(database: Database, feeds: list[_Feed], last_event_id: str | None) -> dict[str, int]:
    """Where each feed starts: after the ids of `Last-Event-ID` when resuming, else at now."""
    resume = _parse_event_id(last_event_id)
    with database.read() as conn:
        heads = {}
        for feed in feeds:
            newest = _newest_id(conn, feed.table)
            heads[feed.event] = min(resume.get(feed.event, newest), newest)
        return heads


def _event_id(heads: dict[str, int]) -> str:
    return ",".join(f"{event}={head}" for event, head in sorted(heads.items()))


def _parse_event_id(value: str | None) -> dict[str, int]:
    parsed: dict[str, int] = {}
    for part in (value or "").split(",")[:10]:
        event, _, head = part.partition("=")
        if event and head.isdigit() and len(head) <= 19:
            parsed[event] = int(head)
    return parsed


def _news(
    database: Database, feeds: list[_Feed], heads: dict[str, int]
) -> list[tuple[str, dict[str, Any], str]]:
    """The rows written since `heads` (advanced in place), each with the event id after it."""
    found: list[tuple[str, dict[str, Any], str]] = []
    with database.read() as conn:
        for feed in feeds:
            table = feed.table
            query = select(table).where(table.c.id > heads[feed.event])
            if feed.visible is not None:
                query = query.where(feed.visible)
            rows = conn.execute(query.order_by(table.c.id).limit(BATCH)).mappings().all()
            for row in rows:
                heads[feed.event] = int(row["id"])
                found.append((feed.event, feed.render(dict(row)), _event_id(heads)))
            if not rows:  # skip past rows the caller may not see, so later polls start higher
                heads[feed.event] = max(heads[feed.event], _newest_id(conn, table))
    return found


def _frame(event: str, data: dict[str, Any], event_id: str | None = None) -> str:
    body = f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n"
    return f"id: {event_id}\n{body}\n" if event_id is not None else f"{body}\n"


def _streams(request: Request) -> _Streams:
    state = request.app.state
    if not hasattr(state, "event_streams"):
        state.event_streams = _Streams()
    streams: _Streams = state.event_streams
    return streams


@router.get(
    "/events/stream",
    operation_id="events-stream",
    summary="Live updates as server-sent events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "the event stream"},
        **problem_responses(errors.NotAuthenticated, errors.ServiceUnavailable),
    },
)
def stream(
    request: Request,
    principal: CurrentUser,
    database: DB,
    last_event_id: Annotated[str | None, Header(max_length=200)] = None,
) -> StreamingResponse:
    """New transactions (and alerts, for the roles that work them) as they are written."""
    streams = _streams(request)
    staff = principal.role != "customer"
    feeds = _feeds(principal)
    heads = _heads(database, feeds, last_event_id)
    if not streams.admit(principal.id, staff=staff):
        raise errors.ServiceUnavailable("too many live streams are open; try again shortly")

    async def events() -> AsyncIterator[str]:
        yield "retry: 3000\n\n"
        ready = {"role": principal.role.value, "feeds": sorted(heads)}
        yield _frame("ready", ready, _event_id(heads))
        started = last_sent = time.monotonic()
        while time.monotonic() - started < STREAM_SECONDS:
            await asyncio.sleep(POLL_SECONDS)
            if await request.is_disconnected():
                return
            found = await run_in_threadpool(_news, database, feeds, heads)
            for event, data, event_id in found:
                yield _frame(event, data, event_id)
                last_sent = time.monotonic()
            if time.monotonic() - last_sent >= KEEPALIVE_SECONDS:
                yield ": keep-alive\n\n"
                last_sent = time.monotonic()

    return _AdmittedStream(
        events(),
        release=lambda: streams.release(principal.id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


class _AdmittedStream(StreamingResponse):
    """A stream whose admission is released however it ends (even if it never started)."""

    def __init__(self, content: Any, *, release: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._release: Callable[[], None] | None = release

    def release(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.release()

    def __del__(self) -> None:  # a response never sent (the client left before it started)
        self.release()
