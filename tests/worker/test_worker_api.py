"""GET /admin/jobs and /admin/jobs/runs: what admins see of the worker, and who may look."""

from __future__ import annotations

from datetime import timedelta

from api_helpers import Bank

from ledgerbank.worker.registry import Job, JobContext, JobResult, Registry
from ledgerbank.worker.runner import Worker

CALLERS = ("alice", "admin", "auditor", "fraud_analyst", "financial_manager", "compliance_officer")


def _broken(context: JobContext) -> JobResult:
    raise RuntimeError("no rates for EUR")


def test_admins_see_jobs_last_outcomes_and_recent_failures(bank: Bank) -> None:
    registry = Registry(
        [
            *bank.app.state.jobs,
            Job("test.broken", timedelta(hours=1), _broken),
        ]
    )
    state = bank.app.state
    worker = Worker(bank.database, registry, settings=state.settings, money=state.money)
    worker.sync()
    worker.run_due()
    answer = bank.call("admin", "GET", "/admin/jobs")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    jobs = {job["name"]: job for job in body["items"]}
    assert jobs["approvals.expire"]["last_outcome"] == "ok"
    assert jobs["approvals.expire"]["registered"] is True
    assert jobs["approvals.expire"]["running"] is False
    assert jobs["test.broken"]["last_outcome"] == "failed"
    assert jobs["test.broken"]["registered"] is False  # not in the app's own list
    assert [f["job_name"] for f in body["recent_failures"]] == ["test.broken"]
    assert body["recent_failures"][0]["error"] == "RuntimeError: no rates for EUR"

    runs = bank.call("admin", "GET", "/admin/jobs/runs?job=approvals.expire").json()
    assert [r["outcome"] for r in runs["items"]] == ["ok"]
    failed = bank.call("admin", "GET", "/admin/jobs/runs?outcome=failed&limit=1").json()
    assert [r["job_name"] for r in failed["items"]] == ["test.broken"]


def test_only_admins_read_the_worker(bank: Bank) -> None:
    for path in ("/admin/jobs", "/admin/jobs/runs"):
        for who in CALLERS:
            answer = bank.call(who, "GET", path)
            assert answer.status_code == (200 if who == "admin" else 403), (path, who)
        assert bank.call(None, "GET", path).status_code == 401
