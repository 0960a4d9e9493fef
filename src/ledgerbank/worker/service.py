"""The worker's bookkeeping: which jobs exist, which are due, who runs them, how runs ended.

A worker claims one due job at a time in a short transaction: on PostgreSQL and MySQL the due
row is read `FOR UPDATE SKIP LOCKED`, so workers running at once each take a different job and
never wait on each other; on SQLite one worker runs (see `runner`). The claim leases the job
to that worker (renewed while it runs), moves its next run on and opens a run record; the job
then runs in its own transactions; finishing records the outcome and ends the lease. A worker
that dies leaves its lease to run out: the next claim marks that run `interrupted` and takes
the job over (jobs are idempotent, so rerunning never posts twice).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, RowMapping, and_, insert, or_, select, update

from ledgerbank.kit.bulk import insert_ignoring_duplicates
from ledgerbank.kit.pagination import decode_cursor, encode_cursor
from ledgerbank.worker.registry import Job
from ledgerbank.worker.tables import worker_job_runs, worker_jobs

J = worker_jobs.c
R = worker_job_runs.c
MAX_ERROR = 4000


@dataclass(frozen=True)
class Claim:
    """A job this worker holds the lease of, and its open run record."""

    name: str
    run_id: int
    due_at: datetime


def sync(conn: Connection, jobs: Iterable[Job], now: datetime) -> None:
    """Make sure every registered job has its row (new ones are due now) and its schedule."""
    for job in jobs:
        every = int(job.every.total_seconds())
        values = {
            "name": job.name,
            "every_seconds": every,
            "description": job.description[:500],
            "next_run_at": now,
        }
        conn.execute(
            insert_ignoring_duplicates(conn.dialect.name, worker_jobs), values
        )  # two workers may start at once
        conn.execute(
            update(worker_jobs)
            .where(J.name == job.name, J.every_seconds != every)
            .values(every_seconds=every, next_run_at=now)
        )
        conn.execute(
            update(worker_jobs)
            .where(J.name == job.name, J.description != values["description"])
            .values(description=values["description"])
        )


def claim(
    conn: Connection, names: list[str], *, worker: str, now: datetime, lease: timedelta
) -> Claim | None:
    """Lease the most overdue job among `names` that no one holds; None when none is due."""
    if not names:
        return None
    query = (
        select(worker_jobs)
        .where(
            J.name.in_(names),
            or_(
                and_(J.next_run_at <= now, J.lease_until.is_(None)),
                J.lease_until < now,  # its worker died mid-run: run it again at once
            ),
        )
        .order_by(J.next_run_at, J.name)
        .limit(1)
    )
    if conn.dialect.name != "sqlite":  # SQLite has one writer at a time (BEGIN IMMEDIATE)
        query = query.with_for_update(skip_locked=True)
    row = conn.execute(query).mappings().first()
    if row is None:
        return None
    name = str(row["name"])
    if row["leased_by"] is not None:  # its worker died mid-run: that run was cut off
        conn.execute(
            update(worker_job_runs)
            .where(R.job_name == name, R.outcome == "running")
            .values(
                outcome="interrupted",
                finished_at=now,
                error=f"worker {row['leased_by']} stopped before finishing (lease ran out)",
            )
        )
    every = timedelta(seconds=int(row["every_seconds"]))
    next_run = row["next_run_at"]
    if next_run <= now:  # (a taken-over run keeps the schedule its dead worker set)
        next_run += every
    if next_run <= now:  # after a pause, run once and go on from now (jobs catch up inside)
        next_run = now + every
    conn.execute(
        update(worker_jobs)
        .where(J.name == name)
        .values(
            leased_by=worker,
            lease_until=now + lease,
            last_started_at=now,
            next_run_at=next_run,
        )
    )
    run_id = conn.execute(
        insert(worker_job_runs).values(
            job_name=name, worker=worker, started_at=now, outcome="running", items=0
        )
    ).inserted_primary_key
    assert run_id is not None
    return Claim(name, int(run_id[0]), row["next_run_at"])


def renew(conn: Connection, claim: Claim, *, worker: str, until: datetime) -> bool:
    """Extend a running job's lease; False when the worker lost it."""
    done = conn.execute(
        update(worker_jobs)
        .where(J.name == claim.name, J.leased_by == worker)
        .values(lease_until=until)
    )
    return done.rowcount == 1


def finish(
    conn: Connection,
    claim: Claim,
    *,
    worker: str,
    now: datetime,
    outcome: str,
    items: int = 0,
    summary: str = "",
    error: str | None = None,
) -> None:
    """Record how a run ended and give the job's lease back."""
    conn.execute(
        update(worker_job_runs)
        .where(R.id == claim.run_id)
        .values(
            outcome=outcome,
            finished_at=now,
            items=items,
            summary=summary[:1000] or None,
            error=None if error is None else error[:MAX_ERROR],
        )
    )
    conn.execute(
        update(worker_jobs)
        .where(J.name == claim.name, J.leased_by == worker)
        .values(leased_by=None, lease_until=None)
    )
    conn.execute(
        update(worker_jobs)
        .where(J.name == claim.name)
        .values(last_finished_at=now, last_outcome=outcome)
    )


def next_due(conn: Connection, names: list[str]) -> datetime | None:
    """When the next of these jobs is due (None: none is registered yet)."""
    if not names:
        return None
    found = conn.execute(
        select(J.next_run_at).where(J.name.in_(names)).order_by(J.next_run_at).limit(1)
    ).scalar()
    return found if isinstance(found, datetime) else None


# --- what admins read --------------------------------------------------------------------


def jobs(conn: Connection) -> list[RowMapping]:
    return list(conn.execute(select(worker_jobs).order_by(J.name)).mappings())


def runs(
    conn: Connection,
    *,
    job_name: str | None = None,
    outcomes: tuple[str, ...] = (),
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[RowMapping], str | None]:
    """Runs newest first, optionally of one job and with some outcomes."""
    query = select(worker_job_runs).order_by(R.id.desc())
    if job_name is not None:
        query = query.where(R.job_name == job_name)
    if outcomes:
        query = query.where(R.outcome.in_(outcomes))
    if cursor is not None:
        (before,) = decode_cursor(cursor, int)
        query = query.where(R.id < before)
    rows = list(conn.execute(query.limit(limit + 1)).mappings())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(int(rows[-1]["id"])) if more and rows else None)
