"""Live updates for open dashboards: an authenticated server-sent-events stream of new activity.

Each stream polls the database cheaply (rows with an id above the last one it sent, by primary
key) and only shows what the caller may see: a customer their own accounts' transactions, staff
with read access every transaction, and the alert queues of the roles that work them. A stream
ends after fifteen seconds, so a revoked or expired token stops receiving events soon after and a
stopping server is never held up for long; the browser reconnects with `Last-Event-ID`, and the
new stream resumes after the last row the old one sent.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import ColumnElement, Connection, Table, func, or_, select
from starlette.concurrency import run_in_threadpool

from ledgerbank import errors
from ledgerbank.identity.deps import DB, CurrentUser, Principal
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit.db import Database
from ledgerbank.kit.http import problem_responses
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.ledger.tables import accounts, transactions
from ledgerbank.risk.tables import risk_alerts

POLL_SECONDS = 1.5  # how often a stream looks for new rows
STREAM_SECONDS = 15  # a stream's lifetime; the client reconnects (and re-authenticates)
KEEPALIVE_SECONDS = 10  # a comment line keeps proxies from closing an idle stream
BATCH = 50  # at most this many rows of one kind per poll
MAX_STREAMS = 200  # open streams per server process
MAX_STREAMS_PER_USER = 8  # a few tabs each

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
    total: int = 0
    per_user: dict[int, int] = field(default_factory=dict)


def _transaction_event(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "type": row["type"],
        "status": row["status"],
        "amount": to_decimal_string(row["amount"], row["currency"]),
        "currency": row["currency"],
        "from_account_id": row["from_account_id"],
        "to_account_id": row["to_account_id"],
        "description": row["description"],
        "created_at": row["created_at"].isoformat(),
    }


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
        mine = select(accounts.c.id).where(accounts.c.owner_id == principal.id)
        own = or_(transactions.c.from_account_id.in_(mine), transactions.c.to_account_id.in_(mine))
        feeds.append(_Feed("transaction", transactions, _transaction_event, own))
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
    if streams.total >= MAX_STREAMS or streams.per_user.get(principal.id, 0) >= (
        MAX_STREAMS_PER_USER
    ):
        raise errors.ServiceUnavailable("too many live streams are open; try again shortly")
    feeds = _feeds(principal)
    heads = _heads(database, feeds, last_event_id)

    async def events() -> AsyncIterator[str]:
        streams.total += 1
        streams.per_user[principal.id] = streams.per_user.get(principal.id, 0) + 1
        try:
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
        finally:
            streams.total -= 1
            left = streams.per_user.get(principal.id, 1) - 1
            if left:
                streams.per_user[principal.id] = left
            else:
                streams.per_user.pop(principal.id, None)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
