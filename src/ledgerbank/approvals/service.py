"""Four eyes: propose a sensitive action, and carry it out when a second person approves.

An action is registered once by the domain that owns it (`register`): its name, the permission
its checker needs, and the handler that carries it out inside the approving transaction. A
route that would do something sensitive calls `propose` instead and answers 202 with the
approval's id. Another person (never the proposer) with the checker's permission approves or
rejects it before it expires; the handler runs in a savepoint of the approving transaction, so
a handler that fails (the account was unfrozen meanwhile) leaves nothing behind but the
approval marked `failed` with the error. Proposal, decision and outcome are audited, naming
both people.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update

from ledgerbank import errors
from ledgerbank.approvals.tables import approvals
from ledgerbank.audit import service as audit
from ledgerbank.identity.permissions import Permission, allows
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.pagination import decode_cursor, encode_cursor

A = approvals.c


@dataclass(frozen=True)
class Context:
    """What handlers may need from the running app (settings, the risk screen, the base URL)."""

    settings: Any = None
    screen: Any = None
    base_url: str = ""


@dataclass(frozen=True)
class Proposal:
    """What a handler is called with."""

    id: int
    action: str
    params: dict[str, Any]
    payload: bytes | None
    proposed_by: int
    approved_by: int
    context: Context


@dataclass(frozen=True)
class Done:
    """A handler's outcome: `result` is stored and shown; `shown_once` (a reset link) is
    answered to the approver and never stored."""

    result: dict[str, Any]
    shown_once: dict[str, Any] | None = None


@dataclass(frozen=True)
class Action:
    name: str
    checker: Permission  # the permission the approving person needs
    run: Callable[[Connection, Proposal], Done]
    description: str = ""


REGISTRY: dict[str, Action] = {}


def register(action: Action) -> Action:
    """Make an action approvable; call it at import time of the module that owns the action."""
    REGISTRY[action.name] = action
    return action


def action(name: str) -> Action:
    try:
        return REGISTRY[name]
    except KeyError:
        raise errors.NotFound(f"no approvable action is called {name!r}") from None


@dataclass
class Decision:
    approval: RowMapping
    shown_once: dict[str, Any] | None = field(default=None)


def propose(
    conn: Connection,
    *,
    action_name: str,
    params: dict[str, Any],
    proposed_by: int,
    summary: str,
    hours: int,
    entity_type: str | None = None,
    entity_id: object = None,
    note: str | None = None,
    payload: bytes | None = None,
) -> RowMapping:
    """Record a proposal (pending until approved, rejected or expired); audited.

    One pending proposal per action and entity: a second one answers 409 with the first's id.
    """
    registered = action(action_name)
    now = utcnow()
    entity = None if entity_id is None else str(entity_id)
    if entity is not None:
        pending = conn.execute(
            select(A.id).where(
                A.action == action_name,
                A.entity_type == entity_type,
                A.entity_id == entity,
                A.status == "pending",
                A.expires_at > now,
            )
        ).first()
        if pending is not None:
            raise errors.Conflict(
                f"approval {pending.id} already proposes this", approval_id=int(pending.id)
            )
    approval_id = conn.execute(
        insert(approvals),
        {
            "action": action_name,
            "status": "pending",
            "summary": summary[:500],
            "params": json.dumps(params, sort_keys=True, default=str),
            "payload": payload,
            "entity_type": entity_type,
            "entity_id": entity,
            "checker_permission": registered.checker.value,
            "proposed_by": proposed_by,
            "proposed_at": now,
            "proposal_note": note[:500] if note else None,
            "expires_at": now + timedelta(hours=hours),
        },
    ).inserted_primary_key[0]  # type: ignore[index]
    audit.record(
        conn,
        actor_id=proposed_by,
        action="approval.proposed",
        entity_type="approval",
        entity_id=approval_id,
        after={
            "action": action_name,
            "summary": summary[:500],
            "params": params,
            "on": {"type": entity_type, "id": entity},
            "note": note,
        },
        at=now,
    )
    return get(conn, int(approval_id))


def get(conn: Connection, approval_id: int, *, lock: bool = False) -> RowMapping:
    query = select(approvals).where(A.id == approval_id)
    row = conn.execute(query.with_for_update() if lock else query).mappings().first()
    if row is None:
        raise errors.NotFound(f"approval {approval_id} not found")
    return row


def expire_due(conn: Connection) -> int:
    """Mark pending proposals past their time as expired (each audited); how many."""
    now = utcnow()
    due = (
        conn.execute(
            select(A.id).where(A.status == "pending", A.expires_at <= now).with_for_update()
        )
        .scalars()
        .all()
    )
    for approval_id in due:
        conn.execute(update(approvals).where(A.id == approval_id).values(status="expired"))
        audit.record(
            conn,
            actor_id=None,
            action="approval.expired",
            entity_type="approval",
            entity_id=approval_id,
            after={"status": "expired"},
            at=now,
        )
    return len(due)


def _checker(conn: Connection, approval: RowMapping, checker_id: int) -> None:
    """The checker: not the proposer, active, and (now, under lock) holding the permission."""
    if checker_id == approval["proposed_by"]:
        raise errors.Forbidden("you proposed this: another person must decide it")
    if approval["entity_type"] == "user" and approval["entity_id"] == str(checker_id):
        raise errors.Forbidden("this is about you: another person must decide it")
    row = conn.execute(
        select(users.c.role, users.c.is_active).where(users.c.id == checker_id).with_for_update()
    ).first()
    permission = Permission(approval["checker_permission"])
    if row is None or not row.is_active or not allows(row.role, permission):
        raise errors.Forbidden(f"deciding this needs the {permission.value} permission")


def _pending(conn: Connection, approval_id: int) -> RowMapping:
    approval = get(conn, approval_id, lock=True)
    if approval["status"] == "pending" and approval["expires_at"] <= utcnow():
        raise errors.InvalidTransition(f"approval {approval_id} has expired")
    if approval["status"] != "pending":
        raise errors.InvalidTransition(f"approval {approval_id} is {approval['status']}")
    return approval


def approve(
    conn: Connection, approval_id: int, *, checker_id: int, note: str | None, context: Context
) -> Decision:
    """Approve and carry out the action in this transaction (failed: the error is kept)."""
    approval = _pending(conn, approval_id)
    _checker(conn, approval, checker_id)
    registered = action(approval["action"])
    proposal = Proposal(
        id=approval_id,
        action=approval["action"],
        params=json.loads(approval["params"]),
        payload=approval["payload"],
        proposed_by=int(approval["proposed_by"]),
        approved_by=checker_id,
        context=context,
    )
    now = utcnow()
    shown_once = None
    try:
        with conn.begin_nested():
            done = registered.run(conn, proposal)
        status, result, shown_once = "approved", done.result, done.shown_once
    except errors.LedgerbankError as exc:
        status = "failed"
        result = {"error": {"code": exc.code, "detail": exc.detail}}
    conn.execute(
        update(approvals)
        .where(A.id == approval_id)
        .values(
            status=status,
            decided_by=checker_id,
            decided_at=now,
            decision_note=note[:500] if note else None,
            result=json.dumps(result, sort_keys=True, default=str),
        )
    )
    audit.record(
        conn,
        actor_id=checker_id,
        action="approval.approved" if status == "approved" else "approval.failed",
        entity_type="approval",
        entity_id=approval_id,
        before={"status": "pending"},
        after={
            "action": approval["action"],
            "proposed_by": approval["proposed_by"],
            "approved_by": checker_id,
            "status": status,
            "result": result,
            "note": note,
        },
        at=now,
    )
    return Decision(get(conn, approval_id), shown_once)


def reject(conn: Connection, approval_id: int, *, checker_id: int, note: str | None) -> RowMapping:
    """Turn a proposal down (its proposer may withdraw it too); audited."""
    approval = _pending(conn, approval_id)
    withdrawn = checker_id == approval["proposed_by"]
    if not withdrawn:
        _checker(conn, approval, checker_id)
    now = utcnow()
    conn.execute(
        update(approvals)
        .where(A.id == approval_id)
        .values(
            status="rejected",
            decided_by=checker_id,
            decided_at=now,
            decision_note=(note or ("withdrawn" if withdrawn else None)),
        )
    )
    audit.record(
        conn,
        actor_id=checker_id,
        action="approval.withdrawn" if withdrawn else "approval.rejected",
        entity_type="approval",
        entity_id=approval_id,
        before={"status": "pending"},
        after={
            "action": approval["action"],
            "proposed_by": approval["proposed_by"],
            "rejected_by": checker_id,
            "note": note,
        },
        at=now,
    )
    return get(conn, approval_id)


def list_approvals(
    conn: Connection,
    *,
    status: str | None = None,
    action_name: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
    only_id: int | None = None,
) -> tuple[list[RowMapping], str | None]:
    """Newest first, with the proposer's and decider's usernames."""
    proposer = users.alias("proposer")
    decider = users.alias("decider")
    query = (
        select(
            approvals,
            proposer.c.username.label("proposed_by_username"),
            decider.c.username.label("decided_by_username"),
        )
        .join(proposer, proposer.c.id == A.proposed_by)
        .outerjoin(decider, decider.c.id == A.decided_by)
        .order_by(A.id.desc())
        .limit(limit + 1)
    )
    if status is not None:
        query = query.where(A.status == status)
    if action_name is not None:
        query = query.where(A.action == action_name)
    if only_id is not None:
        query = query.where(A.id == only_id)
    if cursor is not None:
        (before,) = decode_cursor(cursor, int)
        query = query.where(A.id < before)
    rows = list(conn.execute(query).mappings())
    if len(rows) > limit:
        return rows[:limit], encode_cursor(int(rows[limit - 1]["id"]))
    return rows, None


def pending_for(conn: Connection, entity_type: str, entity_id: object) -> list[RowMapping]:
    """Pending proposals about one thing (an account, a user)."""
    return list(
        conn.execute(
            select(approvals).where(
                A.entity_type == entity_type,
                A.entity_id == str(entity_id),
                A.status == "pending",
                A.expires_at > utcnow(),
            )
        ).mappings()
    )
