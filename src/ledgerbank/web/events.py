"""Live updates for open dashboards: an authenticated server-sent-events stream of new activity.

Each stream polls the outbox (`ledgerbank.events`, the same events the broker and webhooks get)
with a cursor that never skips an event committed late (`events.feed`), and only shows what the
caller may see: a customer their own accounts' transaction events, staff with read access every
posting, and the alert queues of the roles that work them. A stream ends after fifteen seconds,
so a revoked or expired token stops receiving events soon after and a stopping server is never
held up for long; the browser reconnects with `Last-Event-ID` (the cursor), and the new stream
resumes where the old one was.

A customer reads the customer-facing events of their own accounts: a payee never learns of a
payment that risk screening stopped (it is told to the payer alone), who reads it as
`declined`. Open streams
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

import orjson
from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import ColumnElement, and_, or_
from starlette.concurrency import run_in_threadpool

from ledgerbank import errors
from ledgerbank.events import feed
from ledgerbank.events.tables import events
from ledgerbank.identity.deps import DB, CurrentUser, Principal
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit.db import Database
from ledgerbank.kit.http import problem_responses

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
    """One kind of event a stream follows: its SSE name, the outbox rows the caller may see,
    and how one of them reads."""

    event: str
    visible: ColumnElement[bool]
    render: Callable[[dict[str, Any]], dict[str, Any] | None]  # None: not for this caller


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


_TRANSACTION_FIELDS = (
    "type", "status", "amount", "currency", "from_account_id", "to_account_id", "description",
    "created_at",
)  # fmt: skip


def _transaction_event(row: dict[str, Any]) -> dict[str, Any]:
    """Staff's feed: a stopped payment reads `blocked`."""
    event = _customer_transaction_event(row)
    if row["type"] == "transaction.blocked":
        event["status"] = "blocked"
    return event


def _customer_transaction_event(row: dict[str, Any]) -> dict[str, Any]:
    """What a customer's feed says (the event's customer-facing body: a stopped payment of
    their own reads `declined`)."""
    body = orjson.loads(row["body"])
    return {"id": body["transaction_id"], **{key: body[key] for key in _TRANSACTION_FIELDS}}


_ALERT_FIELDS = (
    "queue", "transaction_id", "account_id", "rule_id", "severity", "status", "score", "verdict",
    "summary", "created_at",
)  # fmt: skip


def _alert_event(queues: list[str]) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    def render(row: dict[str, Any]) -> dict[str, Any] | None:
        body = orjson.loads(row["body"])
        if body["queue"] not in queues:
            return None
        return {"id": body["alert_id"], **{key: body[key] for key in _ALERT_FIELDS}}

    return render


def _feeds(principal: Principal) -> list[_Feed]:
    """What the caller may follow: its own transactions or all of them, and its alert queues."""
    feeds: list[_Feed] = []
    transactions = feed.of_types("transaction.")
    if principal.can(Permission.TRANSACTIONS_READ_ALL):  # one event per posting: no mirrors
        visible = and_(transactions, events.c.mirror.is_(False))
        feeds.append(_Feed("transaction", visible, _transaction_event))
    elif principal.can(Permission.TRANSACTIONS_READ_OWN):
        visible = and_(
            transactions, events.c.owner_id == principal.id, events.c.audience == "customer"
        )
        feeds.append(_Feed("transaction", visible, _customer_transaction_event))
    queues = [
        queue
        for queue, permission in (
            ("fraud", Permission.FRAUD_REVIEW),
            ("compliance", Permission.COMPLIANCE_REVIEW),
        )
        if principal.can(permission)
    ]
    if queues:
        feeds.append(_Feed("alert", events.c.type == "alert.opened", _alert_event(queues)))
    return feeds


def _start(database: Database, last_event_id: str | None) -> feed.Cursor:
    """Where a stream starts: after `Last-Event-ID` when resuming, else at now."""
    with database.read() as conn:
        now = feed.start(conn)
        resumed = feed.Cursor.parse(last_event_id)
        if resumed is None or resumed.head > now.head:
            return now
        return resumed


def _news(
    database: Database, feeds: list[_Feed], cursor: feed.Cursor
) -> list[tuple[str, dict[str, Any], str]]:
    """The events committed since `cursor` (advanced in place), each with the stream's event
    id after it. Both copies of a customer's transfer between their own accounts read as one."""
    found: list[tuple[str, dict[str, Any], str]] = []
    if not feeds:
        return found
    with database.read() as conn:
        rows = feed.read(conn, cursor, or_(*(f.visible for f in feeds)), BATCH)
    told: set[tuple[str, Any]] = set()
    for row in rows:
        for one in feeds:
            if row["type"].split(".")[0] != one.event:
                continue
            data = one.render(row)
            if data is None or (one.event, data["id"]) in told:
                continue
            told.add((one.event, data["id"]))
            found.append((one.event, data, row["cursor"]))
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
    cursor = _start(database, last_event_id)
    if not streams.admit(principal.id, staff=staff):
        raise errors.ServiceUnavailable("too many live streams are open; try again shortly")

    async def events() -> AsyncIterator[str]:
        yield "retry: 3000\n\n"
        ready = {"role": principal.role.value, "feeds": sorted(f.event for f in feeds)}
        yield _frame("ready", ready, cursor.token())
        started = last_sent = time.monotonic()
        while time.monotonic() - started < STREAM_SECONDS:
            await asyncio.sleep(POLL_SECONDS)
            if await request.is_disconnected():
                return
            found = await run_in_threadpool(_news, database, feeds, cursor)
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
