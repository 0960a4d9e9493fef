"""Writing events into the outbox, inside the transaction of the change they tell of.

A change calls `event(...)` for each event and hands the rows to `write` (one bulk insert for
any number of them); the money service collects a whole group's events and writes them once.
An event's body is JSON without secrets. `audience="customer"` events are what the customer
whose account it is may read (their live feed): no risk scores, rules or staff notes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import orjson
from sqlalchemy import Connection

from ledgerbank.events.tables import PARTITIONS, events
from ledgerbank.kit.bulk import insert_rows

Audience = Literal["customer", "staff"]
VERSION = 1


def partition_of(key: int | None) -> int:
    """The partition of an account's (or a user's) events: all of one account's in one."""
    return 0 if key is None else key % PARTITIONS


def event(
    type: str,
    body: dict[str, Any],
    *,
    at: datetime,
    account_id: int | None = None,
    owner_id: int | None = None,
    audience: Audience = "staff",
    mirror: bool = False,
    partition_key: int | None = None,
) -> dict[str, Any]:
    """One outbox row: `account_id` (or `partition_key`, a user id for user events) picks the
    partition whose order it keeps."""
    return {
        "event_id": str(uuid.uuid4()),
        "type": type,
        "version": VERSION,
        "partition_no": partition_of(account_id if account_id is not None else partition_key),
        "account_id": account_id,
        "owner_id": owner_id,
        "audience": audience,
        "mirror": mirror,
        "body": orjson.dumps(body).decode(),
        "created_at": at,
        "published_at": None,
    }


def write(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Put the rows in the outbox (one statement however many)."""
    insert_rows(conn, events, rows)


def emit(conn: Connection, type: str, body: dict[str, Any], **where: Any) -> None:
    """Write one event now (changes outside the money service: freezes, KYC, alerts)."""
    write(conn, [event(type, body, **where)])


def envelope(row: Any) -> dict[str, Any]:
    """What leaves the bank for one outbox row (broker message and webhook body alike)."""
    return {
        "id": row["event_id"],
        "type": row["type"],
        "version": int(row["version"]),
        "created_at": row["created_at"].isoformat(),
        "account_id": row["account_id"],
        "data": orjson.loads(row["body"]),
    }
