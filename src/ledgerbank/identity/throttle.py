"""Counters of failed attempts with growing delays: sign-ins per (user, client address), per
address and per user, and other per-caller rate limits (payee lookups).

A counter's first `free` failures cost nothing; each one after sets a delay that doubles
(`base`, 2 x `base`, ... up to `cap`) during which further attempts are refused without being
evaluated. Counters are rows of `login_throttles`, locked while they are read and changed, so
parallel attempts are counted exactly. A counter left alone for `idle` starts over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ledgerbank.identity.tables import login_throttles

T = login_throttles.c


@dataclass(frozen=True)
class Policy:
    """How strict a counter is: free failures, the first delay, the longest delay, idle reset."""

    free: int
    base_seconds: float
    cap_seconds: float
    idle: timedelta

    def delay(self, failures: int) -> timedelta:
        if failures < self.free:
            return timedelta(0)
        seconds = self.base_seconds * 2 ** min(failures - self.free, 40)
        return timedelta(seconds=min(seconds, self.cap_seconds))


@dataclass
class Counter:
    """One counter row as locked by this transaction."""

    id: int
    scope: str
    subject: str
    failures: int
    refused: int
    blocked_until: datetime | None
    window_started_at: datetime | None

    def blocked(self, now: datetime) -> bool:
        return self.blocked_until is not None and self.blocked_until > now


def lock(conn: Connection, scope: str, subject: str, now: datetime, policy: Policy) -> Counter:
    """The counter row, locked (created at zero if missing; reset if idle and not blocking)."""
    subject = subject[:200]
    query = select(login_throttles).where(T.scope == scope, T.subject == subject)
    row = conn.execute(query.with_for_update()).mappings().first()
    if row is None:
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(login_throttles),
                    {"scope": scope, "subject": subject, "failures": 0, "refused": 0,
                     "updated_at": now},
                )  # fmt: skip
        except IntegrityError:
            pass  # another transaction made it first; wait for its lock below
        row = conn.execute(query.with_for_update()).mappings().one()
    counter = _counter(row)
    idle_since = row["updated_at"]
    if not counter.blocked(now) and idle_since is not None and idle_since < now - policy.idle:
        counter.failures, counter.refused, counter.blocked_until = 0, 0, None
        counter.window_started_at = None
    return counter


def _counter(row: RowMapping) -> Counter:
    return Counter(
        id=int(row["id"]),
        scope=row["scope"],
        subject=row["subject"],
        failures=int(row["failures"]),
        refused=int(row["refused"]),
        blocked_until=row["blocked_until"],
        window_started_at=row["window_started_at"],
    )


def count_failure(counter: Counter, now: datetime, policy: Policy) -> None:
    """One more failure (or an attempt reserved before it is evaluated); delays from `free`."""
    if counter.failures == 0:
        counter.window_started_at = now
    counter.failures += 1
    wait = policy.delay(counter.failures)
    if wait:
        counter.blocked_until = now + wait
        counter.refused = 0


def forgive_one(counter: Counter, policy: Policy) -> None:
    """Take back one reserved failure (an attempt that turned out right); a delay it set goes."""
    counter.failures = max(0, counter.failures - 1)
    if counter.failures < policy.free:
        counter.blocked_until = None


def clear(counter: Counter) -> None:
    counter.failures, counter.refused, counter.blocked_until = 0, 0, None
    counter.window_started_at = None


def save(conn: Connection, counter: Counter, now: datetime) -> None:
    conn.execute(
        update(login_throttles)
        .where(T.id == counter.id)
        .values(
            failures=counter.failures,
            refused=counter.refused,
            blocked_until=counter.blocked_until,
            window_started_at=counter.window_started_at,
            updated_at=now,
        )
    )


def touch(conn: Connection, scope: str, subject: str, now: datetime) -> None:
    """Record that something happened now (a familiar address), creating the row if needed."""
    subject = subject[:200]
    done = conn.execute(
        update(login_throttles).where(T.scope == scope, T.subject == subject).values(updated_at=now)
    )
    if done.rowcount:
        return
    try:
        with conn.begin_nested():
            conn.execute(
                insert(login_throttles),
                {"scope": scope, "subject": subject, "failures": 0, "refused": 0,
                 "updated_at": now},
            )  # fmt: skip
    except IntegrityError:
        pass  # made meanwhile: it is as recent as this


def seen_since(conn: Connection, scope: str, subject: str, since: datetime) -> bool:
    found = conn.execute(
        select(T.id).where(T.scope == scope, T.subject == subject[:200], T.updated_at >= since)
    ).first()
    return found is not None


def any_seen(conn: Connection, scope: str, prefix: str) -> bool:
    found = conn.execute(
        select(T.id).where(T.scope == scope, T.subject.startswith(prefix, autoescape=True))
    ).first()
    return found is not None


def read(conn: Connection, scope: str, subject: str) -> dict[str, Any] | None:
    row = (
        conn.execute(select(login_throttles).where(T.scope == scope, T.subject == subject[:200]))
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


def clear_subjects(conn: Connection, scope: str, prefix: str, *, exact: bool = False) -> int:
    """Forget the counters whose subject starts with `prefix` (or is it, with `exact`)."""
    which = T.subject == prefix if exact else T.subject.startswith(prefix, autoescape=True)
    done = conn.execute(delete(login_throttles).where(T.scope == scope, which))
    return int(done.rowcount or 0)


def prune(conn: Connection, before: datetime) -> int:
    """Forget counters untouched since `before` that block nothing (they would start over)."""
    done = conn.execute(
        delete(login_throttles).where(
            T.updated_at < before,
            (T.blocked_until.is_(None)) | (T.blocked_until < before),
            T.scope != "known",
        )
    )
    return int(done.rowcount or 0)
