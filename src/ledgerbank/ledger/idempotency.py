"""Idempotency keys: the same key with the same request answers the first response, posts nothing.

The money service claims a request's key (scope, key) by inserting its row at the start of the
request's database transaction, posts, then stores the answer in that row before the commit:
the key is stored if and only if the posting is. A twin request in another transaction waits on
the row's unique index until the first commits, then finds the stored answer and replays it. A
request refused with a domain error (insufficient funds, a wrong PIN, ...) releases its claim:
nothing is stored, and the client may retry with the same key once the cause is fixed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    delete,
    insert,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql

from ledgerbank import errors
from ledgerbank.kit.bulk import update_rows
from ledgerbank.kit.clock import utcnow
from ledgerbank.ledger.tables import idempotency_keys

MAX_KEY_LENGTH = 255
K = idempotency_keys.c
KeyOf = tuple[str, str]  # (scope, key)


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: dict[str, Any]
    transaction_id: int | None
    request_hash: str


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


def read_stored(conn: Connection, keys: Iterable[KeyOf]) -> dict[KeyOf, StoredAnswer]:
    """The committed answers of these keys (one statement)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    query = select(
        K.scope, K.key, K.request_hash, K.response_status, K.response_body, K.transaction_id
    )
    query = query.where(_among(wanted), K.response_status != 0)
    found = set(wanted)
    return {
        (row.scope, row.key): StoredAnswer(
            int(row.response_status),
            orjson.loads(row.response_body),
            None if row.transaction_id is None else int(row.transaction_id),
            row.request_hash,
        )
        for row in conn.execute(query)
        if (row.scope, row.key) in found
    }


def _among(keys: Sequence[KeyOf]) -> ColumnElement[bool]:
    """`(scope, key)` among these, as two IN lists that every database answers from the
    unique index (a row-value IN makes SQLite scan the table); callers drop the few extra
    pairs the cross product may bring."""
    return and_(K.scope.in_({scope for scope, _ in keys}), K.key.in_({key for _, key in keys}))


def claim(conn: Connection, claims: dict[KeyOf, str]) -> set[KeyOf]:
    """Claim keys (key -> request hash) for this transaction; the keys another transaction
    committed meanwhile (their answers are then read with `read_stored`). Claims are made in
    key order, so two transactions claiming overlapping keys cannot deadlock."""
    if not claims:
        return set()
    now = utcnow()
    rows = [
        {
            "scope": scope,
            "key": key,
            "request_hash": request_hash,
            "response_status": 0,  # claimed; the answer is stored before the commit
            "response_body": "",
            "created_at": now,
        }
        for (scope, key), request_hash in sorted(claims.items())
    ]
    dialect = conn.dialect.name
    if dialect == "sqlite":  # BEGIN IMMEDIATE: no other writer since we read the keys
        conn.execute(insert(idempotency_keys), rows)
        return set()
    if dialect == "postgresql":
        # Waits for a twin still in flight; inserts nothing when the twin committed.
        statement = (
            postgresql.insert(idempotency_keys)
            .on_conflict_do_nothing(index_elements=["scope", "key"])
            .returning(K.scope, K.key, sort_by_parameter_order=True)
        )
        inserted = {(row.scope, row.key) for row in conn.execute(statement, rows)}
        return set(claims) - inserted
    conn.execute(insert(idempotency_keys).prefix_with("IGNORE"), rows)
    mine = conn.execute(
        select(K.scope, K.key).where(_among(sorted(claims)), K.response_status == 0)
    )
    return set(claims) - {(row.scope, row.key) for row in mine}


def store(
    conn: Connection, answers: Sequence[tuple[KeyOf, int, dict[str, Any], int | None]]
) -> None:
    """Store the answers of claimed keys: (key, status, body, transaction id)."""
    update_rows(
        conn,
        idempotency_keys,
        ("scope", "key"),
        [
            {
                "scope": scope,
                "key": key,
                "response_status": status,
                "response_body": orjson.dumps(body).decode(),
                "transaction_id": transaction_id,
            }
            for (scope, key), status, body, transaction_id in answers
        ],
    )


def release(conn: Connection, keys: Iterable[KeyOf]) -> None:
    """Give back the claims of refused requests: nothing is stored for them."""
    wanted = sorted(set(keys))
    if wanted:
        exact = or_(*(and_(K.scope == scope, K.key == key) for scope, key in wanted))
        conn.execute(delete(idempotency_keys).where(exact))
