"""What a job is: a name, how often it is due, and what it does when it runs.

Domains define their jobs next to their services (`Job(name, every, run)`); `ledgerbank.jobs`
lists every domain's jobs in one place, as `ledgerbank.tables` lists every table, and the worker
runs that list. A job's `run` takes a `JobContext` and must be idempotent: a worker killed
mid-run is followed by another run of the same job, which must never post twice (derive
Idempotency-Keys from what the run is about, not from the run).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ledgerbank.kit.db import Database

_NAME = re.compile(r"^[a-z][a-z0-9_.-]{1,99}$")


@dataclass(frozen=True)
class JobContext:
    """What a running job may use. `now` is the clock's reading when the run started;
    `stopping()` turns true once the worker was asked to stop (long jobs may end early)."""

    database: Database
    settings: Any
    money: Any  # ledgerbank.ledger.money.MoneyService (typed loosely: kit-level plumbing)
    now: datetime
    stopping: Callable[[], bool] = field(default=lambda: False)


@dataclass(frozen=True)
class JobResult:
    """What a run did: how many things it handled and a line for the admin page."""

    items: int = 0
    summary: str = ""


@dataclass(frozen=True)
class Job:
    name: str  # "<domain>.<what>", e.g. "payments.standing_orders"
    every: timedelta
    run: Callable[[JobContext], JobResult]
    description: str = ""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"job name {self.name!r}: lowercase letters, digits, . _ -")
        if self.every < timedelta(seconds=1):
            raise ValueError(f"job {self.name!r} runs at most once a second")


class Registry:
    """The jobs a worker runs, by name (each name once)."""

    def __init__(self, jobs: Iterable[Job] = ()) -> None:
        self._jobs: dict[str, Job] = {}
        for job in jobs:
            self.add(job)

    def add(self, job: Job) -> Job:
        if job.name in self._jobs:
            raise ValueError(f"job {job.name!r} is registered twice")
        self._jobs[job.name] = job
        return job

    def get(self, name: str) -> Job | None:
        return self._jobs.get(name)

    def __iter__(self) -> Iterator[Job]:
        return iter(self._jobs.values())

    def __len__(self) -> int:
        return len(self._jobs)
