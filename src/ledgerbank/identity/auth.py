"""Re-checking a signed-in user's password (with its lockout), setting the transaction PIN, and
checking a first-round PIN (signing in itself is identity.signin).

These work on a `Database`, not a `Connection`, for two reasons a bank cares about:
- a failed attempt must be counted (and audited) even though the request then fails, so the
  counter is committed in its own short transaction and the error is raised after commit;
- argon2 takes tens of milliseconds by design, so it runs outside any transaction, never
  holding a row lock (or, on SQLite, the database's write lock) while it hashes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, select, update

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.config import Settings
from ledgerbank.identity import passwords, pins
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.kit.keys import Keyring


class SecretCheck(enum.Enum):
    """What checking a password or PIN against its attempt counter decided."""

    ACCEPTED = "accepted"
    REFUSED = "refused"
    NOW_LOCKED = "now_locked"
    LOCKED = "locked"


@dataclass(frozen=True)
class Lockout:
    """Which failure counter and lock columns a check uses, and how strict it is."""

    failures: Any
    locked_until: Any
    max_failures: int
    lock_minutes: int
    failed_action: str
    locked_action: str


def _login_counter(settings: Settings, failed_action: str = "auth.login_failed") -> Lockout:
    return Lockout(
        users.c.failed_logins,
        users.c.locked_until,
        settings.login_max_failures,
        settings.login_lock_minutes,
        failed_action,
        "auth.login_locked",
    )


def _is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and locked_until > now


def _lock_extra(locked_until: datetime, now: datetime) -> dict[str, Any]:
    return {
        "locked_until": locked_until.isoformat(),
        "retry_after": max(1, int((locked_until - now).total_seconds()) + 1),
    }


def _settle(
    conn: Connection,
    user_id: int,
    *,
    lockout: Lockout,
    verified: bool,
    reason: str,
    success_action: str | None = None,
    changes: dict[str, Any] | None = None,
) -> tuple[SecretCheck, datetime | None]:
    """Under the user's row lock: count a failure (locking at the limit) or clear the count.

    Re-reads the lock, so attempts verified in parallel cannot slip past a lock that one of
    them just set, and the count stays exact.
    """
    now = utcnow()
    row = conn.execute(
        select(lockout.failures, lockout.locked_until)
        .where(users.c.id == user_id)
        .with_for_update()
    ).one()
    failures, locked_until = int(row[0]), row[1]
    if _is_locked(locked_until, now):
        audit.record(
            conn,
            actor_id=None,
            action=lockout.failed_action,
            entity_type="user",
            entity_id=user_id,
            after={"reason": "locked"},
            at=now,
        )
        return SecretCheck.LOCKED, locked_until
    if verified:
        values: dict[str, Any] = dict(changes or {})
        if failures or locked_until is not None:
            values.update({lockout.failures.name: 0, lockout.locked_until.name: None})
        if values:
            conn.execute(update(users).where(users.c.id == user_id).values(**values))
        if success_action:
            audit.record(
                conn,
                actor_id=user_id,
                action=success_action,
                entity_type="user",
                entity_id=user_id,
                after={"failures_cleared": failures},
                at=now,
            )
        return SecretCheck.ACCEPTED, None
    failures += 1
    audit.record(
        conn,
        actor_id=None,
        action=lockout.failed_action,
        entity_type="user",
        entity_id=user_id,
        after={"reason": reason, "failures": failures},
        at=now,
    )
    if failures < lockout.max_failures:
        conn.execute(
            update(users).where(users.c.id == user_id).values({lockout.failures: failures})
        )
        return SecretCheck.REFUSED, None
    until = now + timedelta(minutes=lockout.lock_minutes)
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values({lockout.failures: 0, lockout.locked_until: until})
    )
    audit.record(
        conn,
        actor_id=None,
        action=lockout.locked_action,
        entity_type="user",
        entity_id=user_id,
        after={"locked_until": until.isoformat(), "after_failures": failures},
        at=now,
    )
    return SecretCheck.NOW_LOCKED, until


def _read_user(
    database: Database, *, user_id: int | None = None, username: str = ""
) -> RowMapping | None:
    query = select(users)
    query = (
        query.where(users.c.id == user_id)
        if user_id is not None
        else query.where(users.c.username == username.strip().lower())
    )
    with database.read() as conn:
        return conn.execute(query).mappings().first()


def confirm_password(
    database: Database, user_id: int, password: str, *, settings: Settings
) -> None:
    """Re-check a signed-in user's password before a sensitive change.

    A wrong password counts toward the login lockout (a stolen token cannot be used to guess
    the password) and raises WrongPassword (403), or AccountLocked (429) at the limit.
    """
    user = _read_user(database, user_id=user_id)
    if user is None:
        raise errors.NotAuthenticated("the access token is no longer valid; sign in again")
    now = utcnow()
    locked = _is_locked(user["locked_until"], now)
    verified = not locked and passwords.verify_secret(user["password_hash"], password)
    if verified:
        return
    _, until = database.write(
        lambda conn: _settle(
            conn,
            user_id,
            lockout=_login_counter(settings, "auth.password_check_failed"),
            verified=False,
            reason="wrong_password",
        )
    )
    if until is not None:
        raise errors.AccountLocked(
            f"too many failed attempts; try again after {until:%H:%M} UTC",
            **_lock_extra(until, now),
        )
    raise errors.WrongPassword("the password is wrong")


def set_pin(
    database: Database,
    user_id: int,
    pin: str,
    password: str,
    *,
    settings: Settings,
) -> datetime:
    """Set (or replace) the transaction PIN after re-checking the password; clears a PIN lock.

    The PIN is stored as a keyed HMAC (`identity.pins`); the audit record says that the PIN was
    set, never the PIN or its hash.
    """
    pins.check_format(pin)
    confirm_password(database, user_id, password, settings=settings)
    pin_hash = pins.hash_pin(settings.pin_keyring(), user_id, pin)

    def store(conn: Connection) -> datetime:
        now = utcnow()
        had_pin = (
            conn.execute(
                select(users.c.pin_hash).where(users.c.id == user_id).with_for_update()
            ).scalar_one()
            is not None
        )
        conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(pin_hash=pin_hash, failed_pins=0, pin_locked_until=None, updated_at=now)
        )
        audit.record(
            conn,
            actor_id=user_id,
            action="user.pin_set",
            entity_type="user",
            entity_id=user_id,
            before={"pin_set": had_pin},
            after={"pin_set": True},
            at=now,
        )
        return now

    return database.write(store)


def check_legacy_pin(
    database: Database,
    user_id: int,
    pin: str | None,
    *,
    keyring: Keyring,
    max_failures: int,
    lock_minutes: int,
) -> None:
    """Check a first-round argon2 PIN hash and re-key it as a keyed HMAC when the PIN is right.

    argon2 is slow by design, so it runs outside any transaction. To keep the attempt limit
    exact under a burst of parallel requests, each attempt is first reserved under the user's
    row lock (counted as a failure, locking the PIN when it reaches the limit) and committed;
    only then is the PIN evaluated, and a right PIN clears the count. At most `max_failures`
    attempts are ever evaluated before the lock holds.
    """
    if not pin:
        raise errors.PinRequired("this payment needs your PIN", pin_set=True)

    def reserve(conn: Connection) -> str | None:
        now = utcnow()
        row = conn.execute(
            select(users.c.pin_hash, users.c.failed_pins, users.c.pin_locked_until)
            .where(users.c.id == user_id)
            .with_for_update()
        ).one()
        if row.pin_hash is None or not pins.is_legacy(row.pin_hash):
            return None  # re-keyed (or reset) meanwhile: the caller runs the request again
        if row.pin_locked_until is not None and row.pin_locked_until > now:
            raise errors.PinLocked(
                "too many wrong PINs; try again later", **pins.lock_extra(row.pin_locked_until, now)
            )
        failures = int(row.failed_pins) + 1
        values: dict[str, Any] = {"failed_pins": failures}
        if failures >= max_failures:
            values.update(failed_pins=0, pin_locked_until=now + timedelta(minutes=lock_minutes))
        conn.execute(update(users).where(users.c.id == user_id).values(**values))
        return str(row.pin_hash)

    stored = database.write(reserve)
    if stored is None:
        return
    right = pins.verify_legacy(stored, pin)

    def settle(conn: Connection) -> errors.LedgerbankError | None:
        now = utcnow()
        row = conn.execute(
            select(users.c.pin_hash, users.c.failed_pins, users.c.pin_locked_until)
            .where(users.c.id == user_id)
            .with_for_update()
        ).one()
        if right:
            if row.pin_hash == stored:
                conn.execute(
                    update(users)
                    .where(users.c.id == user_id)
                    .values(
                        pin_hash=pins.hash_pin(keyring, user_id, pin),
                        failed_pins=0,
                        pin_locked_until=None,
                    )
                )
            return None
        locked = row.pin_locked_until is not None and row.pin_locked_until > now
        audit.record(
            conn,
            actor_id=None,
            action="auth.pin_failed",
            entity_type="user",
            entity_id=user_id,
            after={"reason": "wrong_pin", "failures": int(row.failed_pins)},
            at=now,
        )
        if locked:
            return errors.PinLocked(
                "too many wrong PINs; try again later", **pins.lock_extra(row.pin_locked_until, now)
            )
        return errors.InvalidPin(
            "that PIN is not correct", attempts_left=max_failures - int(row.failed_pins)
        )

    refused = database.write(settle)  # the failure's audit record commits before the answer
    if refused is not None:
        raise refused
