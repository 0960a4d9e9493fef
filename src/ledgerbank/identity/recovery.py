"""A user's password: changing it (with the current one) and resetting it with a one-time link.

A reset link is issued by an administrator (a four-eyes action when it is another user's: who
holds the link owns the account) or by `ledgerbank users reset-password`. Only the SHA-256 of
its token is stored; the link is shown once, expires, and works once. A new link replaces any
older one. A change or a reset ends every other session and is told to the user.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, RowMapping, insert, select, update

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.config import Settings
from ledgerbank.identity import auth, notices, passwords, signin
from ledgerbank.identity.service import end_sessions, get_user
from ledgerbank.identity.tables import password_resets, users
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database

R = password_resets.c


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _set_password(
    conn: Connection, user_id: int, password_hash: str, *, actor_id: int, action: str
) -> RowMapping:
    now = utcnow()
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(password_hash=password_hash, password_changed_at=now, updated_at=now)
    )
    end_sessions(conn, user_id)
    audit.record(
        conn,
        actor_id=actor_id,
        action=action,
        entity_type="user",
        entity_id=user_id,
        after={"password_changed": True, "sessions_ended": True},
        at=now,
    )
    return get_user(conn, user_id)


def change_password(
    database: Database, user_id: int, current: str, new: str, *, settings: Settings
) -> RowMapping:
    """Replace the password after re-checking the current one; every session ends (the caller
    gets a fresh token from the route). Wrong current passwords count toward the lockout."""
    auth.confirm_password(database, user_id, current, settings=settings)
    with database.read() as conn:
        user = get_user(conn, user_id)
    passwords.check_password_policy(
        new, min_length=settings.password_min_length, username=user["username"]
    )
    if passwords.verify_secret(user["password_hash"], new):
        raise errors.ValidationFailed("the new password must differ from the current one")
    new_hash = passwords.hash_secret(new)

    def store(conn: Connection) -> RowMapping:
        conn.execute(select(users.c.id).where(users.c.id == user_id).with_for_update())
        row = _set_password(
            conn, user_id, new_hash, actor_id=user_id, action="user.password_changed"
        )
        notices.notify(conn, user_id, "password_changed", {"at": utcnow()})
        return row

    return database.write(store)


@dataclass(frozen=True)
class ResetLink:
    token: str
    expires_at: datetime


def issue_reset(
    conn: Connection, user_id: int, *, created_by: int | None, minutes: int
) -> ResetLink:
    """A new one-time reset token for the user (older unused ones stop working)."""
    user = conn.execute(
        select(users.c.id, users.c.is_active).where(users.c.id == user_id).with_for_update()
    ).first()
    if user is None:
        raise errors.NotFound(f"user {user_id} not found")
    if not user.is_active:
        raise errors.InvalidTransition("the user is deactivated: reactivate them first")
    now = utcnow()
    conn.execute(
        update(password_resets).where(R.user_id == user_id, R.used_at.is_(None)).values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(minutes=minutes)
    conn.execute(
        insert(password_resets),
        {
            "user_id": user_id,
            "token_hash": _digest(token),
            "expires_at": expires_at,
            "created_by": created_by,
            "created_at": now,
        },
    )
    audit.record(
        conn,
        actor_id=created_by,
        action="user.password_reset_issued",
        entity_type="user",
        entity_id=user_id,
        after={"expires_at": expires_at},
        at=now,
    )
    return ResetLink(token, expires_at)


def valid_reset(conn: Connection, token: str) -> RowMapping:
    """The reset a token belongs to, if it still works (InvalidResetToken otherwise)."""
    return _valid_reset(conn, token, lock=False)


def _valid_reset(conn: Connection, token: str, *, lock: bool) -> RowMapping:
    query = select(password_resets).where(R.token_hash == _digest(token))
    row = conn.execute(query.with_for_update() if lock else query).mappings().first()
    if row is None or row["used_at"] is not None or row["expires_at"] <= utcnow():
        raise errors.InvalidResetToken(
            "this reset link is invalid, used or expired; ask for a new one"
        )
    return row


def reset_password(database: Database, token: str, new: str, *, settings: Settings) -> None:
    """Set a new password with a reset token: it works once; every session ends; the user's
    sign-in delays are lifted (the link proves who they are)."""
    if not (0 < len(token) <= 200):
        raise errors.InvalidResetToken(
            "this reset link is invalid, used or expired; ask for a new one"
        )
    with database.read() as conn:
        reset = _valid_reset(conn, token, lock=False)
        user = get_user(conn, int(reset["user_id"]))
    passwords.check_password_policy(
        new, min_length=settings.password_min_length, username=user["username"]
    )
    new_hash = passwords.hash_secret(new)

    def store(conn: Connection) -> None:
        reset = _valid_reset(conn, token, lock=True)  # the same link used twice at once: once
        user_id = int(reset["user_id"])
        conn.execute(select(users.c.id).where(users.c.id == user_id).with_for_update())
        conn.execute(update(password_resets).where(R.id == reset["id"]).values(used_at=utcnow()))
        _set_password(conn, user_id, new_hash, actor_id=user_id, action="user.password_reset")
        signin.unlock(conn, user_id)
        notices.notify(conn, user_id, "password_reset", {"at": utcnow()})

    database.write(store)
