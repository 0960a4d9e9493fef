"""Webhooks: who receives which events, and the deliveries the publisher queues for them.

An admin registers a URL and the event types it wants (`*`: all); the answer carries the
signing secret once, never again, and the table keeps it sealed (kit.sealed). Publishing an
event queues one delivery per webhook that wants it (at most one, however often the event is
published); `delivery` sends them.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, RowMapping, select, update

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.events.addresses import Allowed, check_url
from ledgerbank.events.tables import events, webhook_deliveries, webhooks
from ledgerbank.kit.bulk import insert_returning_ids, insert_rows
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.sealed import Sealer

RETRY_FOR = timedelta(days=1)  # then a delivery is a dead letter an admin may redeliver
ALL = "*"
SECRET_PURPOSE = "webhooks.secret"  # the sealed secret's associated data
_TYPE = re.compile(r"^[a-z_]{1,20}(\.[a-z_]{1,20}){1,2}$")
MAX_WEBHOOKS = 100


def _view(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    return {
        "id": int(row["id"]),
        "url": row["url"],
        "events": orjson.loads(row["events"]),
        "created_at": row["created_at"],
    }


def register(
    conn: Connection,
    *,
    url: str,
    kinds: Sequence[str],
    actor_id: int | None,
    allowed: Allowed,
    sealer: Sealer,
) -> dict[str, Any]:
    """A new webhook, audited (without its secret); the answer shows the secret once."""
    wanted = sorted(set(kinds))
    if not wanted or any(k != ALL and not _TYPE.match(k) for k in wanted):
        raise errors.ValidationFailed(
            'events is a list of event types such as transaction.posted, or ["*"] for all'
        )
    check_url(url, allowed)
    active = select(webhooks.c.id).where(webhooks.c.deleted_at.is_(None))
    if len(conn.execute(active).all()) >= MAX_WEBHOOKS:
        raise errors.Conflict(f"at most {MAX_WEBHOOKS} webhooks; delete one first")
    now = utcnow()
    secret = "whsec_" + secrets.token_urlsafe(32)
    row = {
        "url": url,
        "events": orjson.dumps(wanted).decode(),
        "secret": sealer.seal(secret, purpose=SECRET_PURPOSE),
        "created_by": actor_id,
        "created_at": now,
        "deleted_at": None,
    }
    (webhook_id,) = insert_returning_ids(conn, webhooks, [row])
    view = _view({"id": webhook_id, **row})
    audit.record(
        conn,
        actor_id=actor_id,
        action="webhook.created",
        entity_type="webhook",
        entity_id=webhook_id,
        after={"url": url, "events": wanted},
        at=now,
    )
    return {**view, "secret": secret}


def list_webhooks(conn: Connection) -> list[dict[str, Any]]:
    query = select(webhooks).where(webhooks.c.deleted_at.is_(None)).order_by(webhooks.c.id)
    return [_view(row) for row in conn.execute(query).mappings()]


def get_webhook(conn: Connection, webhook_id: int, *, lock: bool = False) -> RowMapping:
    query = select(webhooks).where(webhooks.c.id == webhook_id, webhooks.c.deleted_at.is_(None))
    row = conn.execute(query.with_for_update() if lock else query).mappings().first()
    if row is None:
        raise errors.NotFound(f"webhook {webhook_id} not found")
    return row


def delete(conn: Connection, webhook_id: int, *, actor_id: int) -> None:
    """Stop a webhook: no new deliveries; pending ones are dropped as dead letters."""
    row = get_webhook(conn, webhook_id, lock=True)
    now = utcnow()
    conn.execute(update(webhooks).where(webhooks.c.id == webhook_id).values(deleted_at=now))
    conn.execute(
        update(webhook_deliveries)
        .where(
            webhook_deliveries.c.webhook_id == webhook_id, webhook_deliveries.c.status == "pending"
        )
        .values(status="dead", last_error="webhook deleted")
    )
    audit.record(
        conn,
        actor_id=actor_id,
        action="webhook.deleted",
        entity_type="webhook",
        entity_id=webhook_id,
        before=_view(row),
        at=now,
    )


def _delivery_view(row: RowMapping) -> dict[str, Any]:
    return {
        "id": int(row["id"]),
        "webhook_id": int(row["webhook_id"]),
        "event_id": row["event_uuid"],
        "event_type": row["event_type"],
        "status": row["status"],
        "attempts": int(row["attempts"]),
        "next_attempt_at": row["next_attempt_at"] if row["status"] == "pending" else None,
        "last_attempt_at": row["last_attempt_at"],
        "last_status_code": row["last_status_code"],
        "last_error": row["last_error"],
        "delivered_at": row["delivered_at"],
        "created_at": row["created_at"],
    }


def _deliveries() -> Any:
    return select(
        webhook_deliveries,
        events.c.event_id.label("event_uuid"),
        events.c.type.label("event_type"),
    ).join(events, events.c.id == webhook_deliveries.c.event_id)


def list_deliveries(
    conn: Connection, webhook_id: int, *, status: str | None, limit: int
) -> list[dict[str, Any]]:
    get_webhook(conn, webhook_id)
    query = _deliveries().where(webhook_deliveries.c.webhook_id == webhook_id)
    if status is not None:
        query = query.where(webhook_deliveries.c.status == status)
    query = query.order_by(webhook_deliveries.c.id.desc()).limit(limit)
    return [_delivery_view(row) for row in conn.execute(query).mappings()]


def redeliver(
    conn: Connection, webhook_id: int, delivery_id: int, *, actor_id: int
) -> dict[str, Any]:
    """Send a delivery again now (a dead letter gets another day of retries); audited."""
    get_webhook(conn, webhook_id)
    query = _deliveries().where(
        webhook_deliveries.c.id == delivery_id, webhook_deliveries.c.webhook_id == webhook_id
    )
    row = conn.execute(query.with_for_update(of=webhook_deliveries)).mappings().first()
    if row is None:
        raise errors.NotFound(f"delivery {delivery_id} not found")
    now = utcnow()
    conn.execute(
        update(webhook_deliveries)
        .where(webhook_deliveries.c.id == delivery_id)
        .values(status="pending", next_attempt_at=now, retry_until=now + RETRY_FOR)
    )
    audit.record(
        conn,
        actor_id=actor_id,
        action="webhook.redelivered",
        entity_type="webhook_delivery",
        entity_id=delivery_id,
        before={"status": row["status"], "attempts": int(row["attempts"])},
        after={"status": "pending", "webhook_id": webhook_id, "event_id": row["event_uuid"]},
        at=now,
    )
    found = (
        conn.execute(_deliveries().where(webhook_deliveries.c.id == delivery_id)).mappings().one()
    )
    return _delivery_view(found)


def queue_deliveries(conn: Connection, rows: Sequence[dict[str, Any]], now: datetime) -> None:
    """One pending delivery per (webhook that wants the event, event), skipping those a
    previous publication of the same events already queued."""
    hooks = conn.execute(
        select(webhooks.c.id, webhooks.c.events).where(webhooks.c.deleted_at.is_(None))
    ).all()
    if not hooks:
        return
    wants = [(int(h.id), set(orjson.loads(h.events))) for h in hooks]
    ids = [int(r["id"]) for r in rows]
    queued = {
        (int(w), int(e))
        for w, e in conn.execute(
            select(webhook_deliveries.c.webhook_id, webhook_deliveries.c.event_id).where(
                webhook_deliveries.c.event_id.in_(ids)
            )
        )
    }
    new = [
        {
            "webhook_id": hook_id,
            "event_id": int(row["id"]),
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "retry_until": now + RETRY_FOR,
            "created_at": now,
        }
        for row in rows
        for hook_id, kinds in wants
        if (ALL in kinds or row["type"] in kinds) and (hook_id, int(row["id"])) not in queued
    ]
    insert_rows(conn, webhook_deliveries, new)
