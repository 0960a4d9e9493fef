"""The approvals' job: four-eyes proposals past their time expire (audited) even when no one
opens the inbox."""

from __future__ import annotations

from datetime import timedelta

from ledgerbank.approvals import service
from ledgerbank.worker.registry import Job, JobContext, JobResult


def _expire(context: JobContext) -> JobResult:
    expired = context.database.write(service.expire_due)
    return JobResult(expired, f"{expired} proposals expired" if expired else "")


EXPIRE_PROPOSALS = Job(
    "approvals.expire",
    timedelta(minutes=5),
    _expire,
    "four-eyes proposals past their time expire",
)
