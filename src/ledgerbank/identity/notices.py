"""Security notices: what a customer is told about their own account's security.

A password or second factor changed, a sign-in from an address not seen before, a new payee,
their account frozen or unfrozen. Written in the transaction of the change they describe;
shown in the web app until read. Nothing in them comes from risk screening.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, select, update

from ledgerbank import errors
from ledgerbank.identity.tables import NOTICE_KINDS, security_notices
from ledgerbank.kit.bulk import insert_rows
from ledgerbank.kit.clock import utcnow

N = security_notices.c

# The words the customer reads; `detail` fills in the blanks.
MESSAGES = {
    "password_changed": "Your password was changed. If this was not you, contact us at once.",
    "password_reset": "Your password was reset with a reset link; every other session ended.",
    "second_factor_enabled": "Two-step sign-in was turned on for your profile.",
    "second_factor_disabled": "Two-step sign-in was turned off for your profile.",
    "second_factor_reset": "The bank reset your two-step sign-in; set it up again.",
    "recovery_code_used": "A recovery code was used to sign in.",
    "new_sign_in": "A new sign-in to your profile from an address we had not seen before.",
    "signed_out_everywhere": "You were signed out everywhere.",
    "new_payee": "Money was sent to a new payee for the first time.",
    "account_frozen": "One of your accounts was frozen.",
    "account_unfrozen": "One of your accounts was unfrozen.",
    "standing_order_created": "A standing order was set up with your PIN.",
    "standing_order_payment_skipped": "A standing order payment could not be made and was "
    "skipped; see Scheduled payments.",
    "standing_order_ended": "A standing order ended because an account it uses was closed.",
    "account_closed": "One of your accounts was closed.",
}


def notify(conn: Connection, user_id: int, kind: str, detail: dict[str, Any] | None = None) -> None:
    """Tell the user something about their security (inside the change's transaction)."""
    notify_many(conn, [(user_id, kind, detail)])


def notify_many(conn: Connection, told: Sequence[tuple[int, str, dict[str, Any] | None]]) -> None:
    """Several notices (user, kind, detail) in one statement."""
    now = utcnow()
    rows = []
    for user_id, kind, detail in told:
        if kind not in NOTICE_KINDS:
            raise ValueError(f"unknown notice kind {kind!r}")
        rows.append(
            {
                "user_id": user_id,
                "kind": kind,
                "detail": json.dumps(detail, sort_keys=True, default=str) if detail else None,
                "created_at": now,
            }
        )
    insert_rows(conn, security_notices, rows)


def view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "kind": row["kind"],
        "message": MESSAGES[row["kind"]],
        "detail": json.loads(row["detail"]) if row["detail"] else {},
        "created_at": row["created_at"],
        "read": row["read_at"] is not None,
    }


def list_notices(
    conn: Connection, user_id: int, *, limit: int = 50, before_id: int | None = None
) -> tuple[list[dict[str, Any]], int | None, int]:
    """Newest first; the id to continue before (None at the end) and how many are unread."""
    query = select(security_notices).where(N.user_id == user_id).order_by(N.id.desc())
    if before_id is not None:
        query = query.where(N.id < before_id)
    rows = list(conn.execute(query.limit(limit + 1)).mappings())
    unread = conn.execute(
        select(func.count()).where(N.user_id == user_id, N.read_at.is_(None))
    ).scalar_one()
    more = len(rows) > limit
    rows = rows[:limit]
    return [view(r) for r in rows], (int(rows[-1]["id"]) if more else None), int(unread)


def mark_read(conn: Connection, user_id: int, notice_id: int | None = None) -> int:
    """Mark one notice (or, without an id, every one) of the user as read."""
    query = update(security_notices).where(N.user_id == user_id, N.read_at.is_(None))
    if notice_id is not None:
        exists = conn.execute(select(N.id).where(N.id == notice_id, N.user_id == user_id)).first()
        if exists is None:
            raise errors.NotFound(f"notice {notice_id} not found")
        query = query.where(N.id == notice_id)
    return int(conn.execute(query.values(read_at=utcnow())).rowcount or 0)
