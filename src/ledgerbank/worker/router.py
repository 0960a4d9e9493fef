"""What admins see of the worker: GET /admin/jobs and GET /admin/jobs/runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from ledgerbank import errors as E
from ledgerbank.identity.deps import DB, Principal, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from ledgerbank.worker import service
from ledgerbank.worker.schemas import JobRun, JobsOverview, JobState, Outcome

router = APIRouter(prefix="/admin/jobs", tags=["worker"], route_class=LedgerRoute)

JobsRead = Annotated[Principal, authorized(Permission.JOBS_READ)]
SIGNED_IN = (E.NotAuthenticated, E.Forbidden)
RECENT_FAILURES = 20


@router.get(
    "",
    operation_id="worker-jobs",
    summary="The worker's jobs: schedule, last and next run, last outcome, recent failures",
    responses=problem_responses(*SIGNED_IN),
)
def list_jobs(request: Request, _principal: JobsRead, database: DB) -> JobsOverview:
    registered = {job.name for job in request.app.state.jobs}
    now = utcnow()
    with database.read() as conn:
        rows = service.jobs(conn)
        failures, _ = service.runs(conn, outcomes=("failed", "interrupted"), limit=RECENT_FAILURES)
    return JobsOverview(
        items=[JobState.from_row(r, now=now, registered=r["name"] in registered) for r in rows],
        recent_failures=[JobRun.from_row(r) for r in failures],
    )


@router.get(
    "/runs",
    operation_id="worker-job-runs",
    summary="The worker's runs, newest first (filter by job and outcome)",
    responses=problem_responses(*SIGNED_IN, E.ValidationFailed),
)
def list_runs(
    _principal: JobsRead,
    database: DB,
    job: Annotated[str | None, Query(max_length=100)] = None,
    outcome: Outcome | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[JobRun]:
    with database.read() as conn:
        rows, next_cursor = service.runs(
            conn,
            job_name=job,
            outcomes=(outcome,) if outcome else (),
            limit=limit,
            cursor=cursor,
        )
    return Page[JobRun](items=[JobRun.from_row(r) for r in rows], next_cursor=next_cursor)
