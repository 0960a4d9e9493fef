"""The worker framework: due jobs run once, failures are recorded, workers running at once
(separate connections) each take different jobs, a dead worker's job is taken over."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.worker import service
from ledgerbank.worker.registry import Job, JobContext, JobResult, Registry
from ledgerbank.worker.runner import Worker
from ledgerbank.worker.tables import worker_job_runs, worker_jobs

HOUR = timedelta(hours=1)


class Counter:
    """Counts the runs of each job (thread-safe), as a job's side effect."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: dict[str, int] = {}

    def job(self, name: str, every: timedelta = HOUR) -> Job:
        def run(context: JobContext) -> JobResult:
            with self.lock:
                self.runs[name] = self.runs.get(name, 0) + 1
            return JobResult(1, f"{name} ran")

        return Job(name, every, run, f"counts {name}")


def _runs(database: Database) -> list[dict[str, object]]:
    with database.read() as conn:
        rows = conn.execute(select(worker_job_runs).order_by(worker_job_runs.c.id)).mappings()
        return [dict(r) for r in rows]


def test_a_due_job_runs_once_and_is_logged(database: Database) -> None:
    counter = Counter()
    worker = Worker(database, Registry([counter.job("test.one"), counter.job("test.two")]))
    worker.sync()
    assert worker.run_due() == 2
    assert worker.run_due() == 0  # next due in an hour
    assert counter.runs == {"test.one": 1, "test.two": 1}
    runs = _runs(database)
    assert [(r["job_name"], r["outcome"], r["items"]) for r in runs] == [
        ("test.one", "ok", 1),
        ("test.two", "ok", 1),
    ]
    with database.read() as conn:
        jobs = {r["name"]: r for r in service.jobs(conn)}
    assert jobs["test.one"]["last_outcome"] == "ok"
    assert jobs["test.one"]["leased_by"] is None
    assert jobs["test.one"]["next_run_at"] > jobs["test.one"]["last_started_at"]


def test_a_failing_job_is_recorded_and_the_others_run(database: Database) -> None:
    counter = Counter()

    def broken(context: JobContext) -> JobResult:
        raise RuntimeError("the interest table is missing")

    registry = Registry([Job("test.broken", HOUR, broken), counter.job("test.fine")])
    worker = Worker(database, registry)
    worker.sync()
    assert worker.run_due() == 2
    outcomes = {r["job_name"]: (r["outcome"], r["error"]) for r in _runs(database)}
    assert outcomes["test.broken"] == ("failed", "RuntimeError: the interest table is missing")
    assert outcomes["test.fine"] == ("ok", None)


def test_a_job_name_is_registered_once() -> None:
    counter = Counter()
    with pytest.raises(ValueError, match="twice"):
        Registry([counter.job("test.same"), counter.job("test.same")])


def test_workers_running_at_once_run_each_due_job_once(database_url: str) -> None:
    counter = Counter()
    registry = Registry([counter.job(f"test.job{i}") for i in range(8)])
    databases = [Database.from_url(database_url, pool_size=2) for _ in range(4)]
    try:
        workers = [Worker(db, registry, name=f"worker-{i}") for i, db in enumerate(databases)]
        start = threading.Barrier(len(workers))
        ran: list[int] = []

        def go(worker: Worker) -> None:
            start.wait()
            worker.sync()  # all of them register the same jobs at once, too
            ran.append(worker.run_due())

        threads = [threading.Thread(target=go, args=(w,)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sum(ran) == 8
        assert counter.runs == {f"test.job{i}": 1 for i in range(8)}
        runs = _runs(databases[0])
        assert sorted(str(r["job_name"]) for r in runs) == [f"test.job{i}" for i in range(8)]
        assert {r["outcome"] for r in runs} == {"ok"}
    finally:
        for db in databases:
            db.dispose()


def test_a_dead_workers_job_is_taken_over_once_its_lease_runs_out(database: Database) -> None:
    counter = Counter()
    registry = Registry([counter.job("test.lease")])
    dead = Worker(database, registry, name="dead", lease=timedelta(minutes=5))
    dead.sync()
    # The dead worker claims the job and never finishes (it was killed).
    claim = database.write(
        lambda conn: service.claim(
            conn, ["test.lease"], worker="dead", now=utcnow(), lease=timedelta(minutes=5)
        )
    )
    assert claim is not None
    alive = Worker(database, registry, name="alive")
    # Due again, but leased: nobody else runs it.
    database.write(
        lambda conn: conn.execute(update(worker_jobs).values(next_run_at=utcnow() - HOUR))
    )
    assert alive.run_due() == 0
    # The lease runs out: the next worker takes the job over and says what happened.
    database.write(
        lambda conn: conn.execute(update(worker_jobs).values(lease_until=utcnow() - HOUR))
    )
    assert alive.run_due() == 1
    runs = {r["worker"]: r for r in _runs(database)}
    assert runs["dead"]["outcome"] == "interrupted"
    assert "lease ran out" in str(runs["dead"]["error"])
    assert runs["alive"]["outcome"] == "ok"
    with database.read() as conn:
        running = conn.execute(
            select(func.count()).where(worker_job_runs.c.outcome == "running")
        ).scalar_one()
    assert running == 0
