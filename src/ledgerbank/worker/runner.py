"""The worker loop: claim a due job, run it, record the outcome; sleep when nothing is due.

`stop()` (SIGTERM or Ctrl-C in `ledgerbank worker`) lets the current job finish and then ends
the loop. On SQLite only one worker runs at a time: it holds an exclusive lock on a file beside
the database for as long as it runs (`SingleWorker`); PostgreSQL and MySQL need no such lock,
because workers claim jobs with `FOR UPDATE SKIP LOCKED` (`service.claim`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.worker import service
from ledgerbank.worker.registry import Job, JobContext, JobResult, Registry

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("ledgerbank.worker")


class AnotherWorker(RuntimeError):
    """Another worker already runs on this SQLite database."""


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """Runs the registry's due jobs against one database."""

    def __init__(
        self,
        database: Database,
        registry: Registry,
        *,
        settings: Any = None,
        money: Any = None,
        lease: timedelta = timedelta(minutes=5),
        poll: timedelta = timedelta(seconds=5),
        name: str | None = None,
    ) -> None:
        self.database = database
        self.registry = registry
        self.settings = settings
        self.money = money
        self.lease = lease
        self.poll = poll
        self.name = name or worker_id()
        self._stop = threading.Event()

    # --- control ------------------------------------------------------------------------

    def stop(self) -> None:
        """Finish the job in hand, then stop."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # --- running ------------------------------------------------------------------------

    def sync(self) -> None:
        now = utcnow()
        self.database.write(lambda conn: service.sync(conn, self.registry, now))

    def run_due(self) -> int:
        """Run every job that is due now (each once), until none is or we are stopping;
        how many runs there were."""
        names = [job.name for job in self.registry]
        ran = 0
        while not self.stopping:
            now = utcnow()
            claim = self.database.write(
                lambda conn, now=now: service.claim(  # type: ignore[misc]
                    conn, names, worker=self.name, now=now, lease=self.lease
                )
            )
            if claim is None:
                return ran
            job = self.registry.get(claim.name)
            assert job is not None
            self._run(job, claim)
            ran += 1
        return ran

    def run_forever(self) -> None:
        """Run due jobs until stopped, sleeping until the next is due (at most `poll`)."""
        self.sync()
        names = [job.name for job in self.registry]
        log.info("worker %s: %d jobs: %s", self.name, len(names), ", ".join(names) or "none")
        while not self.stopping:
            self.run_due()
            with self.database.read() as conn:
                due = service.next_due(conn, names)
            wait = self.poll.total_seconds()
            if due is not None:
                wait = max(0.05, min(wait, (due - utcnow()).total_seconds()))
            self._stop.wait(wait)
        log.info("worker %s stopped", self.name)

    def _run(self, job: Job, claim: service.Claim) -> None:
        context = JobContext(
            database=self.database,
            settings=self.settings,
            money=self.money,
            now=utcnow(),
            stopping=lambda: self.stopping,
        )
        log.debug("job %s: run %d started", job.name, claim.run_id)
        outcome, result, error = "ok", JobResult(), None
        with self._lease_kept(claim):
            try:
                result = job.run(context)
            except Exception as exc:  # recorded and shown to admins; the schedule goes on
                log.exception("job %s: run %d failed", job.name, claim.run_id)
                outcome, error = "failed", f"{type(exc).__name__}: {exc}"
        self.database.write(
            lambda conn: service.finish(
                conn,
                claim,
                worker=self.name,
                now=utcnow(),
                outcome=outcome,
                items=result.items,
                summary=result.summary,
                error=error,
            )
        )
        # a run that found nothing to do (most runs of the every-second jobs) logs at debug
        log.log(
            logging.INFO if result.items or outcome != "ok" else logging.DEBUG,
            "job %s: run %d %s (%d items) %s",
            job.name,
            claim.run_id,
            outcome,
            result.items,
            result.summary,
        )

    @contextmanager
    def _lease_kept(self, claim: service.Claim) -> Iterator[None]:
        """Renew the lease while the job runs, so a long run is not taken over."""
        done = threading.Event()
        every = max(0.5, self.lease.total_seconds() / 3)

        def keep() -> None:
            while not done.wait(every):
                try:
                    self.database.write(
                        lambda conn: service.renew(
                            conn, claim, worker=self.name, until=utcnow() + self.lease
                        )
                    )
                except Exception:  # the next beat retries; a lost lease is logged by finish
                    log.exception("job %s: lease renewal failed", claim.name)

        beat = threading.Thread(target=keep, name=f"lease-{claim.name}", daemon=True)
        beat.start()
        try:
            yield
        finally:
            done.set()
            beat.join(timeout=5)


@contextmanager
def single_worker(database: Database) -> Iterator[None]:
    """On a SQLite file, the one worker: an exclusive lock on `<database>-worker.lock` held
    while it runs (released by the kernel even when the process is killed). Other databases:
    nothing to hold."""
    path = database.engine.url.database if database.dialect == "sqlite" else None
    if not path or path == ":memory:" or fcntl is None:
        yield
        return
    fd = os.open(f"{path}-worker.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AnotherWorker(
                f"another worker is running on {path}; on SQLite one worker runs at a time"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
