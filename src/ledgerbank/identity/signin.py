"""Signing in: the password, the second factor, and throttling that neither tells which usernames
exist nor lets an attacker lock the real user out.

Every refusal of a password (an unknown user, a wrong password, a deactivated user, an attempt
during a delay) answers the same 401 `invalid_credentials` after the same argon2 work. Failed
attempts are counted per (user, client address), per client address and per user; past a few
free failures each counter delays further attempts, doubling each time. The per-user counter
(an attack spread over many addresses) delays only addresses the user has not signed in from
lately, so the real user's usual address keeps working.

An attempt is reserved before argon2 runs: in one short transaction, under the user's row lock,
the counters are checked and the attempt is counted as a failure; after argon2 a second
transaction settles it (a right password takes its reservation back). So however many attempts
arrive at once, no more are evaluated than the counters allow.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, select, update

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.config import Settings
from ledgerbank.identity import notices, passwords, second_factor, throttle
from ledgerbank.identity.tables import users
from ledgerbank.kit import metrics
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database

WRONG = "the username or password is wrong"
IDLE = timedelta(hours=1)  # a counter left alone this long starts over


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


@dataclass(frozen=True)
class Policies:
    pair: throttle.Policy  # one user from one client address
    address: throttle.Policy  # one client address, any username
    user: throttle.Policy  # one user from unfamiliar addresses
    known_for: timedelta

    @classmethod
    def of(cls, settings: Settings) -> Policies:
        cap = settings.login_lock_minutes * 60.0
        base = settings.login_delay_seconds

        def policy(free: int) -> throttle.Policy:
            return throttle.Policy(free, base, cap, max(IDLE, timedelta(seconds=2 * cap)))

        return cls(
            pair=policy(settings.login_max_failures),
            address=policy(settings.login_address_max_failures),
            user=policy(settings.login_user_max_failures),
            known_for=timedelta(days=settings.login_known_address_days),
        )


@dataclass
class _Counters:
    address: throttle.Counter
    pair: throttle.Counter | None = None
    user: throttle.Counter | None = None

    def all(self) -> list[throttle.Counter]:
        return [c for c in (self.pair, self.user, self.address) if c is not None]


@dataclass(frozen=True)
class Reservation:
    user: RowMapping | None
    allowed: bool
    window: datetime | None = None  # when the (user, address) counter's current streak began


@dataclass(frozen=True)
class SignedIn:
    user: RowMapping
    enrol_only: bool  # staff without a second factor yet: the token can only enrol one


def _pair(user_id: int, address: str) -> str:
    return f"{user_id}|{address}"


def _lock_counters(
    conn: Connection, user: RowMapping | None, address: str, now: datetime, p: Policies
) -> _Counters:
    """Lock the counters in one order: (user, address), user, address."""
    pair = user_counter = None
    if user is not None:
        pair = throttle.lock(conn, "user_address", _pair(user["id"], address), now, p.pair)
        user_counter = throttle.lock(conn, "user", str(user["id"]), now, p.user)
    by_address = throttle.lock(conn, "address", address, now, p.address)
    return _Counters(address=by_address, pair=pair, user=user_counter)


def _lock_user(conn: Connection, username: str) -> RowMapping | None:
    name = username.strip().lower()
    if not name or len(name) > 64:
        return None
    query = select(users).where(users.c.username == name).with_for_update()
    return conn.execute(query).mappings().first()


def _reserve(conn: Connection, username: str, address: str, p: Policies) -> Reservation:
    now = utcnow()
    user = _lock_user(conn, username)
    counters = _lock_counters(conn, user, address, now, p)
    familiar = user is not None and throttle.seen_since(
        conn, "known", _pair(user["id"], address), now - p.known_for
    )
    blocking = [c for c in (counters.pair, counters.address) if c is not None and c.blocked(now)]
    if counters.user is not None and counters.user.blocked(now) and not familiar:
        blocking.append(counters.user)
    # Wrong passwords given to confirm a sensitive change (a stolen session guessing) lock the
    # password for a while: signing in is refused too, with the same answer.
    locked = user is not None and user["locked_until"] is not None and user["locked_until"] > now
    if blocking or locked:
        for counter in blocking:
            counter.refused += 1
        if user is not None and _is_power_of_two(max([c.refused for c in blocking] or [1])):
            audit.record(
                conn,
                actor_id=None,
                action="auth.login_throttled",
                entity_type="user",
                entity_id=user["id"],
                after={
                    "refused": {c.scope: c.refused for c in blocking},
                    "until": max(
                        [c.blocked_until for c in blocking if c.blocked_until]
                        + ([user["locked_until"]] if locked else [])
                    ),
                },
                at=now,
            )
        for counter in counters.all():
            throttle.save(conn, counter, now)
        return Reservation(user, allowed=False)
    throttle.count_failure(counters.address, now, p.address)
    if user is None:
        unknown = throttle.lock(conn, "unknown", address, now, p.address)
        throttle.count_failure(unknown, now, throttle.Policy(2**31, 0, 0, IDLE))
        throttle.save(conn, unknown, now)
        if _is_power_of_two(unknown.failures):  # 1, 2, 4, 8 ...: the trail grows slowly
            audit.record(
                conn,
                actor_id=None,
                action="auth.login_failed",
                entity_type="user",
                entity_id=None,
                after={"reason": "unknown_user", "attempts_from_address": unknown.failures},
                at=now,
            )
    else:
        assert counters.pair is not None
        assert counters.user is not None
        throttle.count_failure(counters.pair, now, p.pair)
        throttle.count_failure(counters.user, now, p.user)
    for counter in counters.all():
        throttle.save(conn, counter, now)
    if random.random() < 0.01:  # now and then, forget counters nobody has touched for a day
        throttle.prune(conn, now - timedelta(days=1))
    window = counters.pair.window_started_at if counters.pair is not None else None
    return Reservation(user, allowed=user is not None, window=window)


@dataclass(frozen=True)
class _Settled:
    outcome: str  # accepted, refused, second_factor_required, second_factor_wrong, ...
    user: RowMapping
    error: errors.LedgerbankError | None = None


def _settle(
    conn: Connection,
    reservation: Reservation,
    *,
    address: str,
    verified: bool,
    reason: str,
    code: str | None,
    changes: dict[str, Any],
    p: Policies,
    settings: Settings,
) -> _Settled:
    now = utcnow()
    assert reservation.user is not None
    user_id = int(reservation.user["id"])
    user = (
        conn.execute(select(users).where(users.c.id == user_id).with_for_update()).mappings().one()
    )
    counters = _lock_counters(conn, user, address, now, p)
    assert counters.pair is not None
    assert counters.user is not None
    window = reservation.window.isoformat() if reservation.window else None
    if not verified:
        audit.record(
            conn,
            actor_id=None,
            action="auth.login_failed",
            entity_type="user",
            entity_id=user_id,
            after={"reason": reason, "failures": counters.pair.failures, "window": window},
            at=now,
        )
        return _Settled("refused", user)
    # The password was right: take back this attempt's reservation.
    throttle.forgive_one(counters.pair, p.pair)
    throttle.forgive_one(counters.user, p.user)
    throttle.forgive_one(counters.address, p.address)
    for counter in counters.all():
        throttle.save(conn, counter, now)
    used_recovery_code = False
    if second_factor.is_enabled(user):
        if not code:
            audit.record(
                conn,
                actor_id=None,
                action="auth.second_factor_requested",
                entity_type="user",
                entity_id=user_id,
                at=now,
            )
            return _Settled("second_factor_required", user)
        verdict = second_factor.verify(
            conn,
            user_id,
            code,
            max_failures=settings.totp_max_failures,
            lock_minutes=settings.totp_lock_minutes,
            sealer=settings.sealer(),
        )
        if verdict.locked_error is not None:
            return _Settled("second_factor_locked", user, verdict.locked_error)
        if not verdict.ok:
            error: errors.LedgerbankError = (
                errors.SecondFactorLocked("too many wrong codes; try again later")
                if verdict.now_locked
                else errors.InvalidSecondFactor("the code is wrong or was already used")
            )
            return _Settled("second_factor_wrong", user, error)
        used_recovery_code = verdict.used_recovery_code
    # The streak at this address is over. The per-user counter (failures from elsewhere) stays:
    # the real user signing in does not give an attacker at other addresses a fresh start.
    throttle.clear(counters.pair)
    for counter in counters.all():
        throttle.save(conn, counter, now)
    pair = _pair(user_id, address)
    new_address = not throttle.seen_since(conn, "known", pair, now - p.known_for)
    told = new_address and throttle.any_seen(conn, "known", f"{user_id}|")
    throttle.touch(conn, "known", pair, now)
    if changes:
        conn.execute(update(users).where(users.c.id == user_id).values(**changes))
    if told:
        notices.notify(conn, user_id, "new_sign_in", {"address": address, "at": now})
    if used_recovery_code:
        notices.notify(conn, user_id, "recovery_code_used", {"at": now})
    audit.record(
        conn,
        actor_id=user_id,
        action="auth.login_succeeded",
        entity_type="user",
        entity_id=user_id,
        after={
            "second_factor": second_factor.is_enabled(user),
            "recovery_code": used_recovery_code,
            "new_address": new_address,
        },
        at=now,
    )
    return _Settled(
        "accepted", conn.execute(select(users).where(users.c.id == user_id)).mappings().one()
    )


def login(
    database: Database,
    username: str,
    password: str,
    *,
    address: str,
    code: str | None = None,
    settings: Settings,
) -> SignedIn:
    """Check a username, password and (when the user has one) second-factor code.

    Raises InvalidCredentials for every refusal of the password (same answer, same work),
    SecondFactorRequired when the password is right but the code is missing,
    InvalidSecondFactor / SecondFactorLocked for a wrong code.
    """
    p = Policies.of(settings)
    address = (address or "unknown")[:100]
    reservation = database.write(lambda conn: _reserve(conn, username, address, p))
    user = reservation.user
    if user is None or not reservation.allowed:
        passwords.burn_verification_time(password)
        metrics.logins_failed.labels("unknown_user" if user is None else "throttled").inc()
        raise errors.InvalidCredentials(WRONG)
    verified = passwords.verify_secret(user["password_hash"], password)
    reason = "wrong_password"
    if verified and not user["is_active"]:
        verified, reason = False, "inactive"
    changes: dict[str, Any] = {}
    if verified and passwords.needs_rehash(user["password_hash"]):
        changes["password_hash"] = passwords.hash_secret(password)  # new cost, outside the lock
    settled = database.write(
        lambda conn: _settle(
            conn,
            reservation,
            address=address,
            verified=verified,
            reason=reason,
            code=code,
            changes=changes,
            p=p,
            settings=settings,
        )
    )
    if settled.outcome == "accepted":
        metrics.logins_succeeded.inc()
        enrol = second_factor.required_for(settled.user["role"]) and not (
            second_factor.is_enabled(settled.user)
        )
        return SignedIn(settled.user, enrol_only=enrol)
    if settled.outcome == "refused":
        metrics.logins_failed.labels(reason).inc()
        raise errors.InvalidCredentials(WRONG)
    if settled.outcome == "second_factor_required":
        raise errors.SecondFactorRequired(
            "enter the 6-digit code of your authenticator app (or a recovery code)"
        )
    metrics.logins_failed.labels("second_factor").inc()
    assert settled.error is not None
    raise settled.error


def unlock(conn: Connection, user_id: int) -> int:
    """An administrator's unlock: forget the user's sign-in delays and lockouts."""
    cleared = throttle.clear_subjects(conn, "user_address", f"{user_id}|")
    cleared += throttle.clear_subjects(conn, "user", str(user_id), exact=True)
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(failed_logins=0, locked_until=None, totp_failures=0, totp_locked_until=None)
    )
    return cleared


def delayed_until(conn: Connection, user_id: int) -> datetime | None:
    """When the per-user counter's delay ends (None: no delay)."""
    found = throttle.read(conn, "user", str(user_id))
    until = found and found["blocked_until"]
    return until if until and until > utcnow() else None
