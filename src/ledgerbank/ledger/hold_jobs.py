"""The holds' job: holds past their expiry are marked expired (and release what they reserved
in the stored totals) even on accounts nothing else touches."""

from __future__ import annotations

from datetime import timedelta

from ledgerbank.ledger import holds
from ledgerbank.worker.registry import Job, JobContext, JobResult


def _expire(context: JobContext) -> JobResult:
    expired = holds.expire_holds(context.database)
    return JobResult(expired, f"{expired} holds expired" if expired else "")


EXPIRE_HOLDS = Job(
    "holds.expire",
    timedelta(minutes=1),
    _expire,
    "holds past their expiry release what they reserved",
)
