"""Users: creation, lookup and the public view of a user."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select
from sqlalchemy.exc import IntegrityError

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.identity.passwords import check_password_policy, hash_secret
from ledgerbank.identity.permissions import Role
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow

PUBLIC_FIELDS = (
    "id",
    "username",
    "email",
    "full_name",
    "phone",
    "date_of_birth",
    "role",
    "kyc_status",
    "created_at",
)


def public_view(user: RowMapping | dict[str, Any]) -> dict[str, Any]:
    """A user without secrets (no password or PIN hash, no lockout counters)."""
    return {field: user[field] for field in PUBLIC_FIELDS}


def create_user(
    conn: Connection,
    *,
    username: str,
    password: str,
    email: str,
    full_name: str,
    role: str = Role.CUSTOMER,
    date_of_birth: date | None = None,
    phone: str | None = None,
    kyc_status: str = "pending",
    actor_id: int | None = None,
    min_password_length: int = 8,
) -> RowMapping:
    try:
        role = Role(role)
    except ValueError:
        raise errors.ValidationFailed(f"unknown role {role!r}") from None
    check_password_policy(password, min_length=min_password_length, username=username)
    now = utcnow()
    values = {
        "username": username,
        "email": email,
        "full_name": full_name,
        "phone": phone,
        "date_of_birth": date_of_birth,
        "role": role.value,
        "kyc_status": kyc_status,
        "password_hash": hash_secret(password),
        "created_at": now,
        "updated_at": now,
    }
    try:
        with conn.begin_nested():
            user_id = conn.execute(insert(users), values).inserted_primary_key[0]  # type: ignore[index]
    except IntegrityError:
        raise errors.UsernameTaken(f"username {username!r} is taken") from None
    user = get_user(conn, int(user_id))
    audit.record(
        conn,
        actor_id=actor_id if actor_id is not None else int(user_id),
        action="user.created",
        entity_type="user",
        entity_id=user_id,
        after=public_view(user),
        at=now,
    )
    return user


def get_user(conn: Connection, user_id: int) -> RowMapping:
    row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    if row is None:
        raise errors.NotFound(f"user {user_id} not found")
    return row


def find_user(conn: Connection, username: str) -> RowMapping | None:
    return conn.execute(select(users).where(users.c.username == username)).mappings().first()
