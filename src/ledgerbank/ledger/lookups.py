"""Confirmation of payee has a price: each caller may look up so many account holders an hour.

`GET /accounts/payee` answers a holder's name for an account number; without a limit anyone
could walk the number space and collect names. Each caller's lookups are counted in an hourly
window (a row of `login_throttles`, locked while counted); past the limit the caller gets 429
until the window ends. Heavy use is audited once when it starts and again at the limit, and
refusals at 1, 2, 4, 8 ... so the trail shows it without being flooded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.config import Settings
from ledgerbank.identity import throttle
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database

WINDOW = timedelta(hours=1)
_POLICY = throttle.Policy(free=2**31, base_seconds=0, cap_seconds=0, idle=WINDOW)


@dataclass(frozen=True)
class Allowance:
    allowed: bool
    retry_after: int = 0
    used: int = 0


def count_lookup(conn: Connection, user_id: int, *, per_hour: int, audit_at: int) -> Allowance:
    """Count one lookup by the caller; whether it may go ahead (commit before refusing)."""
    now = utcnow()
    counter = throttle.lock(conn, "payee", str(user_id), now, _POLICY)
    window: datetime | None = counter.window_started_at
    if window is None or window <= now - WINDOW:
        counter.failures, counter.refused, counter.blocked_until = 0, 0, None
        counter.window_started_at = window = now
    counter.failures += 1
    allowed = counter.failures <= per_hour
    after = {"lookups": counter.failures, "window_started_at": window, "limit": per_hour}
    if not allowed:
        counter.refused += 1
        counter.blocked_until = window + WINDOW
        if counter.refused & (counter.refused - 1) == 0:
            audit.record(
                conn,
                actor_id=user_id,
                action="account.payee_lookups_refused",
                entity_type="user",
                entity_id=user_id,
                after={**after, "refused": counter.refused},
                at=now,
            )
    elif counter.failures in (audit_at, per_hour):
        audit.record(
            conn,
            actor_id=user_id,
            action="account.payee_lookups_heavy",
            entity_type="user",
            entity_id=user_id,
            after=after,
            at=now,
        )
    throttle.save(conn, counter, now)
    retry = int((window + WINDOW - now).total_seconds()) + 1
    return Allowance(allowed, retry if not allowed else 0, counter.failures)


def spend_lookup(database: Database, user_id: int, settings: Settings) -> None:
    """Count one lookup in its own committed transaction (a refused lookup still counts);
    429 `rate_limited` beyond the hourly allowance."""
    allowance = database.write(
        lambda conn: count_lookup(
            conn,
            user_id,
            per_hour=settings.payee_lookups_per_hour,
            audit_at=settings.payee_lookups_audit_at,
        )
    )
    if not allowance.allowed:
        raise errors.RateLimited(
            "too many payee lookups; try again later", retry_after=allowance.retry_after
        )
