"""Idempotency keys: the same key with the same request answers the first response, posts nothing.

A money-moving request with an `Idempotency-Key` first claims the key (scope, key) by inserting
its row, then posts, then stores its response in that row, all in ONE database transaction: the
key is stored if and only if the posting is. A concurrent duplicate waits on the row's unique
index until the first request commits, fails on it, and answers the stored response. A request
that fails with a domain error (insufficient funds, ...) changes nothing and stores no key, so
the client may retry it with the same key once the cause is fixed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from ledgerbank import errors
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.ledger.tables import idempotency_keys

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Outcome:
    """What a money-moving request answers: its status, its JSON body and what it posted."""

    status: int
    body: dict[str, Any]
    transaction_id: int | None = None
    replayed: bool = False


def scope_of(user_id: int) -> str:
    return f"user:{user_id}"


def check_key(key: str) -> None:
    if not 0 < len(key) <= MAX_KEY_LENGTH or not (key.isascii() and key.isprintable()):
        raise errors.ValidationFailed(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters"
        )


def fingerprint(method: str, path: str, body: Any) -> str:
    """SHA-256 of the request's method, path and canonical JSON body (secrets left out)."""
    canonical = json.dumps(
        {"method": method, "path": path, "body": body},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class _KeyTaken(Exception):
    """Another request committed this key while we were about to claim it."""


def run(
    database: Database,
    unit: Callable[[Connection], Outcome],
    *,
    scope: str,
    key: str | None,
    request_hash: str,
    guard: Callable[[], None] = lambda: None,
) -> Outcome:
    """Run `unit` in one transaction, at most once per (scope, key).

    `guard` (the PIN check) runs before anything is written, and not for a replay.
    """
    if key is None:
        guard()
        return database.write(unit)
    check_key(key)
    guarded = False
    for _ in range(3):
        with database.read() as conn:
            stored = _stored(conn, scope, key, request_hash)
        if stored is not None:
            return stored
        if not guarded:
            guard()
            guarded = True
        try:
            return database.write(lambda conn: _claim_and_run(conn, unit, scope, key, request_hash))
        except _KeyTaken:
            continue  # the winner has committed: its response is read on the next turn
    raise errors.Conflict("the Idempotency-Key is being used by another request; retry")


def _stored(conn: Connection, scope: str, key: str, request_hash: str) -> Outcome | None:
    row = conn.execute(
        select(
            idempotency_keys.c.request_hash,
            idempotency_keys.c.response_status,
            idempotency_keys.c.response_body,
            idempotency_keys.c.transaction_id,
        ).where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
    ).first()
    if row is None:
        return None
    if row.request_hash != request_hash:
        raise errors.IdempotencyConflict(
            "this Idempotency-Key was already used with a different request"
        )
    return Outcome(
        status=int(row.response_status),
        body=json.loads(row.response_body),
        transaction_id=None if row.transaction_id is None else int(row.transaction_id),
        replayed=True,
    )


def _claim_and_run(
    conn: Connection,
    unit: Callable[[Connection], Outcome],
    scope: str,
    key: str,
    request_hash: str,
) -> Outcome:
    where = (idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
    try:
        conn.execute(
            insert(idempotency_keys).values(
                scope=scope,
                key=key,
                request_hash=request_hash,
                response_status=0,  # claimed; filled in below before the commit
                response_body="",
                created_at=utcnow(),
            )
        )
    except IntegrityError:
        raise _KeyTaken from None
    outcome = unit(conn)
    conn.execute(
        update(idempotency_keys)
        .where(*where)
        .values(
            response_status=outcome.status,
            response_body=json.dumps(outcome.body, separators=(",", ":")),
            transaction_id=outcome.transaction_id,
        )
    )
    return outcome
