"""Two-factor sign-in with TOTP (RFC 6238): enrolment, codes, recovery codes, their attempt limit.

A secret is stored when enrolment starts and takes effect once the user proves it with a code
(`enable`), which also hands out recovery codes, shown once and kept as SHA-256 hashes. A code
is accepted for its 30-second step and the one before or after (clock drift), and never twice:
the last accepted step is remembered. Wrong codes have their own counter and lock.

The secret is stored sealed (kit.sealed), bound to its user; a plain-text one from before, or
one sealed under an older key, is sealed again under the current key when it is next checked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
import segno
from sqlalchemy import Connection, RowMapping, delete, insert, select, update

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.identity.permissions import Role
from ledgerbank.identity.tables import recovery_codes, users
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.sealed import Sealer

STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def required_for(role: str) -> bool:
    """Every staff role signs in with a second factor; customers may choose to."""
    return role != Role.CUSTOMER


def is_enabled(user: RowMapping | dict[str, Any]) -> bool:
    return user["totp_enabled_at"] is not None


def new_secret() -> str:
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The otpauth URI as an SVG QR code, for an authenticator app's camera."""
    return str(segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff"))


def _step(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def matching_step(secret: str, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The time step a code belongs to (now, or one step either side), if it is new."""
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = _step(now)
    for step in (current, current - 1, current + 1):
        if last_step is not None and step <= last_step:
            continue  # a code already used (or older than one used) is never accepted again
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _hash_code(code: str) -> str:
    normalized = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(normalized.encode()).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def looks_like_recovery_code(code: str) -> bool:
    return len(code.strip().replace("-", "").replace(" ", "")) == 10


# --- enrolment -------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str


def purpose(user_id: int) -> str:
    return f"users.totp_secret:{user_id}"


def _secret(conn: Connection, user: RowMapping, sealer: Sealer) -> str:
    """The user's TOTP secret in clear; sealed again first if it is plain or under an old key."""
    stored = str(user["totp_secret"])
    secret = sealer.open(stored, purpose=purpose(user["id"]))
    if sealer.needs_sealing(stored):
        conn.execute(
            update(users)
            .where(users.c.id == user["id"])
            .values(totp_secret=sealer.seal(secret, purpose=purpose(user["id"])))
        )
    return secret


def start(conn: Connection, user_id: int, *, issuer: str, sealer: Sealer) -> Enrolment:
    """A new secret for the user to add to an authenticator app (not in force until enabled)."""
    user = _lock_user(conn, user_id)
    if is_enabled(user):
        raise errors.InvalidTransition("a second factor is already enabled; disable it first")
    secret = new_secret()
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(
            totp_secret=sealer.seal(secret, purpose=purpose(user_id)),
            totp_failures=0,
            totp_locked_until=None,
            totp_last_step=None,
        )
    )
    uri = provisioning_uri(secret, str(user["username"]), issuer)
    return Enrolment(secret, uri, qr_svg(uri))


def enable(
    conn: Connection,
    user_id: int,
    code: str,
    *,
    max_failures: int,
    lock_minutes: int,
    sealer: Sealer,
) -> list[str]:
    """Prove the pending secret with a code: the second factor is on; fresh recovery codes."""
    user = _lock_user(conn, user_id)
    if is_enabled(user):
        raise errors.InvalidTransition("a second factor is already enabled")
    if user["totp_secret"] is None:
        raise errors.InvalidTransition("start with POST /users/2fa/setup")
    now = utcnow()
    try:
        step = _checked_step(conn, user, code, now, max_failures, lock_minutes, sealer)
    except _Refused:
        # Nothing to protect yet (the caller is signed in and holds the secret): not counted.
        raise errors.ValidationFailed(
            "the code does not match: check the authenticator app's clock and try the next code"
        ) from None
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(totp_enabled_at=now, totp_last_step=step, totp_failures=0, updated_at=now)
    )
    codes = _replace_recovery_codes(conn, user_id, now)
    audit.record(
        conn,
        actor_id=user_id,
        action="user.second_factor_enabled",
        entity_type="user",
        entity_id=user_id,
        after={"second_factor": "totp", "recovery_codes": len(codes)},
        at=now,
    )
    return codes


def disable(conn: Connection, user_id: int, *, actor_id: int, action: str) -> None:
    """Remove the second factor and the recovery codes (the user's own choice, or a reset)."""
    user = _lock_user(conn, user_id)
    now = utcnow()
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(
            totp_secret=None,
            totp_enabled_at=None,
            totp_failures=0,
            totp_locked_until=None,
            totp_last_step=None,
            updated_at=now,
        )
    )
    conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
    audit.record(
        conn,
        actor_id=actor_id,
        action=action,
        entity_type="user",
        entity_id=user_id,
        before={"second_factor": "totp" if is_enabled(user) else None},
        after={"second_factor": None},
        at=now,
    )


def _replace_recovery_codes(conn: Connection, user_id: int, now: datetime) -> list[str]:
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
    conn.execute(
        insert(recovery_codes),
        [{"user_id": user_id, "code_hash": _hash_code(c), "created_at": now} for c in codes],
    )
    return codes


# --- checking a code at sign-in --------------------------------------------------------


def _lock_user(conn: Connection, user_id: int) -> RowMapping:
    row = (
        conn.execute(select(users).where(users.c.id == user_id).with_for_update())
        .mappings()
        .first()
    )
    if row is None:
        raise errors.NotFound(f"user {user_id} not found")
    return row


def _checked_step(
    conn: Connection,
    user: RowMapping,
    code: str,
    now: datetime,
    max_failures: int,
    lock_minutes: int,
    sealer: Sealer,
) -> int:
    """The step of a right code; a wrong one is counted (and committed by the caller's
    settlement) before InvalidSecondFactor, or SecondFactorLocked at the limit."""
    locked_until = user["totp_locked_until"]
    if locked_until is not None and locked_until > now:
        raise errors.SecondFactorLocked(
            "too many wrong codes; try again later",
            retry_after=max(1, int((locked_until - now).total_seconds()) + 1),
        )
    secret = _secret(conn, user, sealer)
    step = matching_step(secret, code, now=now, last_step=user["totp_last_step"])
    if step is not None:
        return step
    failures = int(user["totp_failures"]) + 1
    values: dict[str, Any] = {"totp_failures": failures}
    if failures >= max_failures:
        values = {"totp_failures": 0, "totp_locked_until": now + timedelta(minutes=lock_minutes)}
    conn.execute(update(users).where(users.c.id == user["id"]).values(**values))
    audit.record(
        conn,
        actor_id=None,
        action="auth.second_factor_failed",
        entity_type="user",
        entity_id=user["id"],
        after={"failures": failures, "locked": failures >= max_failures},
        at=now,
    )
    raise _Refused(failures >= max_failures)


class _Refused(Exception):
    """A wrong code, already counted: the caller commits, then answers."""

    def __init__(self, now_locked: bool) -> None:
        super().__init__("wrong code")
        self.now_locked = now_locked


@dataclass(frozen=True)
class Verdict:
    ok: bool
    used_recovery_code: bool = False
    now_locked: bool = False
    locked_error: errors.SecondFactorLocked | None = None


def verify(
    conn: Connection,
    user_id: int,
    code: str,
    *,
    max_failures: int,
    lock_minutes: int,
    sealer: Sealer,
) -> Verdict:
    """Check a TOTP code or a recovery code under the user's row lock; count a wrong one.

    The caller commits whatever the verdict, so failures stay counted.
    """
    user = _lock_user(conn, user_id)
    now = utcnow()
    if looks_like_recovery_code(code):
        locked_until = user["totp_locked_until"]
        if locked_until is not None and locked_until > now:
            return Verdict(False, locked_error=_locked(locked_until, now))
        used = conn.execute(
            update(recovery_codes)
            .where(
                recovery_codes.c.user_id == user_id,
                recovery_codes.c.code_hash == _hash_code(code),
                recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        if used.rowcount == 1:
            audit.record(
                conn,
                actor_id=user_id,
                action="auth.recovery_code_used",
                entity_type="user",
                entity_id=user_id,
                after={"left": remaining_recovery_codes(conn, user_id)},
                at=now,
            )
            return Verdict(True, used_recovery_code=True)
        code = ""  # a wrong recovery code counts like a wrong TOTP code
    try:
        step = _checked_step(conn, user, code, now, max_failures, lock_minutes, sealer)
    except _Refused as refused:
        return Verdict(False, now_locked=refused.now_locked)
    except errors.SecondFactorLocked as locked:
        return Verdict(False, locked_error=locked)
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(totp_last_step=step, totp_failures=0, totp_locked_until=None)
    )
    return Verdict(True)


def _locked(locked_until: datetime, now: datetime) -> errors.SecondFactorLocked:
    return errors.SecondFactorLocked(
        "too many wrong codes; try again later",
        retry_after=max(1, int((locked_until - now).total_seconds()) + 1),
    )


def remaining_recovery_codes(conn: Connection, user_id: int) -> int:
    rows = conn.execute(
        select(recovery_codes.c.id).where(
            recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None)
        )
    ).all()
    return len(rows)
