"""Write audit records, seal them into the hash chain, and verify the chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select
from sqlalchemy.exc import IntegrityError

from ledgerbank.audit.tables import audit_chain, audit_log
from ledgerbank.kit import context
from ledgerbank.kit.clock import as_utc, utcnow

GENESIS = "0" * 64
# How far below the newest sealed record the sealer looks for records committed late.
LATE_COMMIT_WINDOW = 10_000


def canonical_json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def row_hash(row: dict[str, Any]) -> str:
    """SHA-256 over a record's canonical content (everything but its id and hash)."""
    created_at: datetime = row["created_at"]
    content = {
        "actor_id": row["actor_id"],
        "action": row["action"],
        "entity_type": row["entity_type"],
        "entity_id": row["entity_id"],
        "before": row["before"],
        "after": row["after"],
        "request_id": row["request_id"],
        "created_at": created_at.isoformat(timespec="microseconds"),
    }
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()  # type: ignore[union-attr]


def chain_hash(prev_hash: str, audit_id: int, record_hash: str) -> str:
    return hashlib.sha256(f"{prev_hash}:{audit_id}:{record_hash}".encode()).hexdigest()


def record(
    conn: Connection,
    *,
    actor_id: int | None,
    action: str,
    entity_type: str,
    entity_id: object = None,
    before: Any = None,
    after: Any = None,
    at: datetime | None = None,
) -> None:
    """Append one audit record inside the caller's transaction."""
    conn.execute(
        insert(audit_log),
        prepare(
            actor_id=actor_id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            before=before,
            after=after,
            at=at,
        ),
    )


def prepare(
    *,
    actor_id: int | None,
    action: str,
    entity_type: str,
    entity_id: object = None,
    before: Any = None,
    after: Any = None,
    at: datetime | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """An audit row ready to insert (callers writing many at once insert them together).

    `request_id` defaults to the current request's; a group of requests written together by
    another thread names each record's own."""
    row: dict[str, Any] = {
        "actor_id": actor_id,
        "action": action,
        "entity_type": entity_type,
        "entity_id": None if entity_id is None else str(entity_id),
        "before": canonical_json(before),
        "after": canonical_json(after),
        "request_id": request_id or context.request_id.get(),
        "created_at": at or utcnow(),
    }
    row["row_hash"] = row_hash(row)
    return row


def seal(conn: Connection, *, limit: int = 5_000) -> int:
    """Link unsealed records onto the chain; returns how many were sealed.

    Two sealers racing for the same position collide on the primary key; the loser's
    transaction fails with IntegrityError and its records are sealed by the next run.
    """
    head = conn.execute(
        select(audit_chain.c.position, audit_chain.c.chain_hash, audit_chain.c.audit_id)
        .order_by(audit_chain.c.position.desc())
        .limit(1)
    ).first()
    position, prev, newest = (head[0], head[1], head[2]) if head else (0, GENESIS, 0)
    pending = conn.execute(
        select(audit_log.c.id, audit_log.c.row_hash)
        .outerjoin(audit_chain, audit_chain.c.audit_id == audit_log.c.id)
        .where(audit_log.c.id > newest - LATE_COMMIT_WINDOW, audit_chain.c.audit_id.is_(None))
        .order_by(audit_log.c.id)
        .limit(limit)
    ).all()
    if not pending:
        return 0
    now = utcnow()
    links = []
    for audit_id, record_hash in pending:
        position += 1
        link = chain_hash(prev, audit_id, record_hash)
        links.append(
            {
                "position": position,
                "audit_id": audit_id,
                "prev_hash": prev,
                "chain_hash": link,
                "sealed_at": now,
            }
        )
        prev = link
    conn.execute(insert(audit_chain), links)
    return len(links)


def try_seal(db_write: Any) -> None:
    """Seal after a commit; losing a race to another sealer is fine."""
    with suppress(IntegrityError):
        db_write(seal)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_broken_id: int | None
    unsealed: int
    detail: str
    head_position: int = 0
    head_hash: str = GENESIS


class ChainBroken(Exception):
    """The first link or record of the chain that does not check out."""

    def __init__(self, checked: int, audit_id: int | None, detail: str) -> None:
        super().__init__(detail)
        self.checked = checked
        self.audit_id = audit_id
        self.detail = detail


# Called with each batch of checked records (chain link and record columns), and whether they
# are sealed: how `ledger verify` and `audit verify` look at what the records say.
RecordsSeen = Callable[[list[RowMapping], bool], None]


def walk(
    conn: Connection, *, after: int = 0, prev: str = GENESIS, batch: int = 5_000
) -> Iterator[list[RowMapping]]:
    """The sealed records after chain position `after` (whose link hash is `prev`), in chain
    order and in batches, each checked; raises ChainBroken at the first that does not check."""
    checked = 0
    expected_position = after + 1
    last_position = after
    while True:
        rows = list(
            conn.execute(
                select(audit_chain, audit_log)
                .join(audit_log, audit_log.c.id == audit_chain.c.audit_id, isouter=True)
                .where(audit_chain.c.position > last_position)
                .order_by(audit_chain.c.position)
                .limit(batch)
            ).mappings()
        )
        for link in rows:
            audit_id = link["audit_id"]
            if link["position"] != expected_position:
                raise ChainBroken(checked, audit_id, f"chain position {expected_position} missing")
            if link["prev_hash"] != prev:
                raise ChainBroken(checked, audit_id, f"record {audit_id} does not follow its link")
            if link["id"] is None:
                raise ChainBroken(checked, audit_id, f"record {audit_id} has been deleted")
            content = row_hash(dict(link))
            if content != link["row_hash"]:
                raise ChainBroken(checked, audit_id, f"record {audit_id} was altered")
            if chain_hash(prev, audit_id, content) != link["chain_hash"]:
                raise ChainBroken(checked, audit_id, f"chain link of record {audit_id} was altered")
            prev = link["chain_hash"]
            expected_position += 1
            last_position = link["position"]
            checked += 1
        if rows:
            yield rows
        if len(rows) < batch:
            return


def verify(
    conn: Connection, *, batch: int = 5_000, on_records: RecordsSeen | None = None
) -> ChainReport:
    """Walk the whole chain in order; name the first audit record that does not check out."""
    checked = 0
    head_position, head_hash = 0, GENESIS
    try:
        for rows in walk(conn, batch=batch):
            checked += len(rows)
            head_position, head_hash = int(rows[-1]["position"]), rows[-1]["chain_hash"]
            if on_records is not None:
                on_records(rows, True)
    except ChainBroken as broken:
        return _broken(broken.checked, broken.audit_id, broken.detail)
    unsealed_rows = list(
        conn.execute(
            select(audit_log.c.id, audit_log.c.row_hash, audit_log)
            .outerjoin(audit_chain, audit_chain.c.audit_id == audit_log.c.id)
            .where(audit_chain.c.audit_id.is_(None))
            .order_by(audit_log.c.id)
        ).mappings()
    )
    for row in unsealed_rows:
        if row_hash(dict(row)) != row["row_hash"]:
            return _broken(checked, row["id"], f"unsealed record {row['id']} was altered")
    if on_records is not None and unsealed_rows:
        on_records(unsealed_rows, False)
    unsealed = len(unsealed_rows)
    total = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
    if total != checked + unsealed:
        return _broken(checked, None, "audit records and chain links disagree in number")
    return ChainReport(
        True, checked, None, unsealed, f"{checked} records intact", head_position, head_hash
    )


def unsealed_records(conn: Connection) -> list[RowMapping]:
    """Records not linked into the chain yet, among those the sealer would still pick up."""
    newest = conn.execute(select(func.max(audit_chain.c.audit_id))).scalar() or 0
    return list(
        conn.execute(
            select(audit_log)
            .outerjoin(audit_chain, audit_chain.c.audit_id == audit_log.c.id)
            .where(audit_log.c.id > newest - LATE_COMMIT_WINDOW, audit_chain.c.audit_id.is_(None))
            .order_by(audit_log.c.id)
        ).mappings()
    )


def _broken(checked: int, audit_id: int | None, detail: str) -> ChainReport:
    return ChainReport(False, checked, audit_id, 0, detail)


def seal_pending(db_write: Any, *, rounds: int = 1_000) -> None:
    """Seal every record pending now, batch after batch; a lost race is simply retried."""
    for _ in range(rounds):
        try:
            if db_write(seal) == 0:
                return
        except IntegrityError:
            continue


def list_records(
    conn: Connection,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor_id: int | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    before_id: int | None = None,
) -> tuple[list[Any], int | None]:
    """Records newest first (by id), each with `sealed`; the id to continue before, or None."""
    query = (
        select(audit_log, audit_chain.c.audit_id.is_not(None).label("sealed"))
        .outerjoin(audit_chain, audit_chain.c.audit_id == audit_log.c.id)
        .order_by(audit_log.c.id.desc())
        .limit(limit + 1)
    )
    if entity_type is not None:
        query = query.where(audit_log.c.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(audit_log.c.entity_id == entity_id)
    if actor_id is not None:
        query = query.where(audit_log.c.actor_id == actor_id)
    if action is not None:
        query = query.where(audit_log.c.action == action)
    if since is not None:
        query = query.where(audit_log.c.created_at >= as_utc(since))
    if until is not None:
        query = query.where(audit_log.c.created_at < as_utc(until))
    if before_id is not None:
        query = query.where(audit_log.c.id < before_id)
    rows = list(conn.execute(query).mappings())
    if len(rows) > limit:
        return rows[:limit], int(rows[limit - 1]["id"])
    return rows, None
