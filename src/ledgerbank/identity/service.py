"""Users: registration, lookup, profile changes and the staff's changes to roles and KYC.

Signing in and the login lockout live in `identity.auth`, the transaction PIN in
`identity.pins` (checked by the ledger's money service inside the posting's transaction).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.events import outbox
from ledgerbank.identity.passwords import check_password_policy, hash_secret
from ledgerbank.identity.permissions import Permission, Role, allows
from ledgerbank.identity.tables import KYC_STATUSES, users
from ledgerbank.kit.clock import utcnow

__all__ = [
    "PUBLIC_FIELDS",
    "admin_view",
    "change_kyc",
    "change_role",
    "create_user",
    "end_sessions",
    "find_user",
    "get_user",
    "list_users",
    "normalize_username",
    "public_view",
    "register_customer",
    "set_active",
    "update_profile",
]

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
# Audit records are immutable: they name a user by id and never copy these, so that erasing or
# pseudonymising a person (their users row) leaves the hash chain intact.
PERSONAL_FIELDS = ("username", "email", "full_name", "phone", "date_of_birth")
USERNAME = re.compile(r"^[a-z0-9_.-]{3,64}$")
MINIMUM_AGE = 18


def public_view(user: RowMapping | dict[str, Any]) -> dict[str, Any]:
    """A user without secrets (no password or PIN hash, no lockout counters)."""
    return {field: user[field] for field in PUBLIC_FIELDS}


def admin_view(user: RowMapping | dict[str, Any]) -> dict[str, Any]:
    """What staff managing users see: the public view, whether it may sign in, and its lock."""
    return {
        **public_view(user),
        "is_active": user["is_active"],
        "locked_until": user["locked_until"],
        "second_factor": user.get("totp_enabled_at") is not None,
    }


def normalize_username(username: str) -> str:
    """Usernames are case-insensitive everywhere (MySQL's collation would make them so anyway)."""
    return username.strip().lower()


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
    """Insert a user and its audit record; `actor_id` None means the user acts for itself."""
    username = normalize_username(username)
    if not USERNAME.match(username):
        raise errors.ValidationFailed("username must be 3–64 letters, digits, '_', '.' or '-'")
    try:
        role = Role(role)
    except ValueError:
        raise errors.ValidationFailed(f"unknown role {role!r}") from None
    if kyc_status not in KYC_STATUSES:
        raise errors.ValidationFailed(f"unknown KYC status {kyc_status!r}")
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
        after={"role": user["role"], "kyc_status": user["kyc_status"]},
        at=now,
    )
    return user


def age_on(day: date, date_of_birth: date) -> int:
    return (
        day.year
        - date_of_birth.year
        - ((day.month, day.day) < (date_of_birth.month, date_of_birth.day))
    )


def register_customer(
    conn: Connection,
    *,
    username: str,
    password: str,
    email: str,
    full_name: str,
    date_of_birth: date,
    phone: str | None = None,
    min_password_length: int = 8,
) -> RowMapping:
    """Self-registration: a customer with KYC pending, who must be an adult."""
    today = utcnow().date()
    if date_of_birth > today or date_of_birth.year < 1900:
        raise _field_error("date_of_birth", "date of birth is not a plausible date")
    if age_on(today, date_of_birth) < MINIMUM_AGE:
        raise _field_error("date_of_birth", f"customers must be at least {MINIMUM_AGE} years old")
    try:
        check_password_policy(password, min_length=min_password_length, username=username)
    except errors.ValidationFailed as exc:
        raise _field_error("password", exc.detail) from None
    return create_user(
        conn,
        username=username,
        password=password,
        email=email,
        full_name=full_name,
        date_of_birth=date_of_birth,
        phone=phone,
        role=Role.CUSTOMER,
        kyc_status="pending",
        min_password_length=min_password_length,
    )


def _field_error(field: str, message: str) -> errors.ValidationFailed:
    return errors.ValidationFailed(
        message, errors=[{"loc": ["body", field], "msg": message, "type": "value_error"}]
    )


def get_user(conn: Connection, user_id: int) -> RowMapping:
    row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    if row is None:
        raise errors.NotFound(f"user {user_id} not found")
    return row


def find_user(conn: Connection, username: str) -> RowMapping | None:
    name = normalize_username(username)
    return conn.execute(select(users).where(users.c.username == name)).mappings().first()


def update_profile(conn: Connection, user_id: int, changes: dict[str, Any]) -> RowMapping:
    """Change one's own full name, email or phone; audited with the fields before and after."""
    allowed = {"full_name", "email", "phone"}
    if not changes.keys() <= allowed:
        raise errors.ValidationFailed(f"only {sorted(allowed)} can be changed here")
    if changes.get("full_name", "") is None or changes.get("email", "") is None:
        raise errors.ValidationFailed("full_name and email cannot be removed")
    user = _lock_users(conn, user_id)[user_id]
    return _apply(conn, user, changes, actor_id=user_id, action="user.profile_updated")


def _apply(
    conn: Connection,
    user: RowMapping,
    changes: dict[str, Any],
    *,
    actor_id: int,
    action: str,
    reason: str | None = None,
) -> RowMapping:
    """Write the fields that really change, with one audit record; a no-op writes nothing."""
    changed = {field: value for field, value in changes.items() if user[field] != value}
    if not changed:
        return user
    personal = sorted(f for f in changed if f in PERSONAL_FIELDS)
    now = utcnow()
    conn.execute(update(users).where(users.c.id == user["id"]).values(**changed, updated_at=now))
    audit.record(
        conn,
        actor_id=actor_id,
        action=action,
        entity_type="user",
        entity_id=user["id"],
        before={f: user[f] for f in changed if f not in PERSONAL_FIELDS} or None,
        after={
            **{f: value for f, value in changed.items() if f not in PERSONAL_FIELDS},
            **({"personal_fields_changed": personal} if personal else {}),
            **({"reason": reason} if reason else {}),
        },
        at=now,
    )
    if "kyc_status" in changed:  # the customer's own news: their identity check's outcome
        outbox.emit(
            conn,
            "customer.kyc_changed",
            {"user_id": int(user["id"]), "kyc_status": changed["kyc_status"]},
            at=now,
            owner_id=int(user["id"]),
            audience="customer",
            partition_key=int(user["id"]),
        )
    if {"role", "is_active"} & changed.keys():
        end_sessions(conn, int(user["id"]))  # a role change or (de)activation ends every session
    return get_user(conn, int(user["id"]))


def _lock_users(conn: Connection, *user_ids: int) -> dict[int, RowMapping]:
    """Lock the users' rows in ascending id order (the order every writer uses)."""
    found: dict[int, RowMapping] = {}
    for user_id in sorted(set(user_ids)):
        row = (
            conn.execute(select(users).where(users.c.id == user_id).with_for_update())
            .mappings()
            .first()
        )
        if row is None:
            raise errors.NotFound(f"user {user_id} not found")
        found[user_id] = row
    return found


def _staff_change(
    conn: Connection,
    *,
    actor_id: int,
    user_id: int,
    what: str,
    changes: dict[str, Any],
    reason: str | None = None,
) -> RowMapping:
    """An administrator's change to another user, re-checked under lock.

    The acting administrator's row is locked and re-read too: two administrators demoting
    each other at once cannot both succeed, so the bank always keeps one.
    """
    if actor_id == user_id:
        raise errors.Forbidden(f"administrators cannot change their own {what}")
    rows = _lock_users(conn, actor_id, user_id)
    actor = rows[actor_id]
    if not actor["is_active"] or not allows(actor["role"], Permission.USERS_MANAGE):
        raise errors.Forbidden("only an active administrator can manage users")
    return _apply(
        conn,
        rows[user_id],
        changes,
        actor_id=actor_id,
        action=f"user.{what}_changed",
        reason=reason,
    )


def change_role(
    conn: Connection, *, actor_id: int, user_id: int, role: str, reason: str | None = None
) -> RowMapping:
    """Give a user another role; every session of the user ends (sign in again to use it)."""
    try:
        role = Role(role).value
    except ValueError:
        raise errors.ValidationFailed(f"unknown role {role!r}") from None
    return _staff_change(
        conn, actor_id=actor_id, user_id=user_id, what="role", changes={"role": role},
        reason=reason,
    )  # fmt: skip


def change_kyc(
    conn: Connection, *, actor_id: int, user_id: int, kyc_status: str, reason: str | None = None
) -> RowMapping:
    if kyc_status not in KYC_STATUSES:
        raise errors.ValidationFailed(f"unknown KYC status {kyc_status!r}")
    return _staff_change(
        conn, actor_id=actor_id, user_id=user_id, what="kyc", changes={"kyc_status": kyc_status},
        reason=reason,
    )  # fmt: skip


def set_active(
    conn: Connection, *, actor_id: int, user_id: int, is_active: bool, reason: str | None = None
) -> RowMapping:
    """Deactivate (or reactivate) a user; every session ends, and stays ended on reactivation."""
    return _staff_change(
        conn, actor_id=actor_id, user_id=user_id, what="status", changes={"is_active": is_active},
        reason=reason,
    )  # fmt: skip


def list_users(
    conn: Connection,
    *,
    role: str | None = None,
    kyc_status: str | None = None,
    q: str | None = None,
    limit: int = 50,
    after_id: int | None = None,
) -> tuple[list[RowMapping], int | None]:
    """Users in id order from after `after_id`; the id to continue after, or None at the end."""
    query = select(users).order_by(users.c.id).limit(limit + 1)
    if role is not None:
        query = query.where(users.c.role == role)
    if kyc_status is not None:
        query = query.where(users.c.kyc_status == kyc_status)
    if q:
        pattern = (
            "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        query = query.where(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (users.c.username, users.c.email, users.c.full_name)
                )
            )
        )
    if after_id is not None:
        query = query.where(users.c.id > after_id)
    rows = list(conn.execute(query).mappings())
    if len(rows) > limit:
        return rows[:limit], int(rows[limit - 1]["id"])
    return rows, None


def end_sessions(conn: Connection, user_id: int) -> None:
    """End every session of the user: tokens issued before this are refused from now on."""
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(token_version=users.c.token_version + 1, updated_at=utcnow())
    )
