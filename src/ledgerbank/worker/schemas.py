"""What admins read about the worker: its jobs and their runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Outcome = Literal["running", "ok", "failed", "interrupted"]


class JobRun(BaseModel):
    id: int
    job_name: str
    worker: str = Field(description="host:pid:tag of the worker process that ran it")
    started_at: datetime
    finished_at: datetime | None
    outcome: Outcome
    items: int = Field(description="how many things the run handled (payments, holds, ...)")
    summary: str | None
    error: str | None

    @classmethod
    def from_row(cls, row: Any) -> JobRun:
        return cls.model_validate(dict(row))


class JobState(BaseModel):
    name: str
    description: str
    every_seconds: int
    next_run_at: datetime
    running: bool = Field(description="a worker holds it now")
    leased_by: str | None
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_outcome: Outcome | None
    registered: bool = Field(description="this server's build still lists the job")

    @classmethod
    def from_row(cls, row: Any, *, now: datetime, registered: bool) -> JobState:
        lease = row["lease_until"]
        return cls(
            name=row["name"],
            description=row["description"],
            every_seconds=row["every_seconds"],
            next_run_at=row["next_run_at"],
            running=lease is not None and lease > now,
            leased_by=row["leased_by"],
            last_started_at=row["last_started_at"],
            last_finished_at=row["last_finished_at"],
            last_outcome=row["last_outcome"],
            registered=registered,
        )


class JobsOverview(BaseModel):
    items: list[JobState]
    recent_failures: list[JobRun] = Field(description="the newest failed or interrupted runs")
