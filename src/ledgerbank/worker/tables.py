"""The worker's tables: one row per registered job (its schedule and lease), and its runs."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from ledgerbank.kit.db import BigId, UTCDateTime, metadata

RUN_OUTCOMES = ("running", "ok", "failed", "interrupted")

worker_jobs = Table(
    "worker_jobs",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("every_seconds", Integer, nullable=False),
    Column("description", String(500), nullable=False, server_default=""),
    Column("next_run_at", UTCDateTime, nullable=False),
    # A claimed job is leased to one worker until it finishes (or the lease runs out: the
    # worker died and another one takes the job over).
    Column("leased_by", String(100), nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("last_started_at", UTCDateTime, nullable=True),
    Column("last_finished_at", UTCDateTime, nullable=True),
    Column("last_outcome", String(16), nullable=True),
    Index("ix_worker_jobs_next_run_at", "next_run_at"),
)

worker_job_runs = Table(
    "worker_job_runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("job_name", String(100), nullable=False),
    Column("worker", String(100), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("outcome", String(16), nullable=False),
    Column("items", Integer, nullable=False, server_default="0"),
    Column("summary", String(1000), nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_worker_job_runs_job_started", "job_name", "started_at"),
    Index("ix_worker_job_runs_outcome", "outcome"),
)
