"""the worker's jobs and scheduled payments

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledgerbank.kit.db import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "worker_jobs",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("every_seconds", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=500), server_default="", nullable=False),
        sa.Column("next_run_at", UTCDateTime(), nullable=False),
        sa.Column("leased_by", sa.String(length=100), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("last_started_at", UTCDateTime(), nullable=True),
        sa.Column("last_finished_at", UTCDateTime(), nullable=True),
        sa.Column("last_outcome", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_jobs")),
    )
    op.create_index("ix_worker_jobs_next_run_at", "worker_jobs", ["next_run_at"])
    op.create_table(
        "worker_job_runs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("job_name", sa.String(length=100), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("items", sa.Integer(), server_default="0", nullable=False),
        sa.Column("summary", sa.String(length=1000), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_job_runs")),
    )
    op.create_index("ix_worker_job_runs_job_started", "worker_job_runs", ["job_name", "started_at"])
    op.create_index("ix_worker_job_runs_outcome", "worker_job_runs", ["outcome"])
    _scheduled_payments()


def _scheduled_payments() -> None:
    op.create_table(
        "scheduled_payments",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("owner_id", BigId, nullable=False),
        sa.Column("from_account_id", BigId, nullable=False),
        sa.Column("to_account_id", BigId, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("frequency", sa.String(length=8), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("occurrence", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_due", sa.Date(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("retry_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_scheduled_payments_amount_positive")),
        sa.CheckConstraint(
            "frequency IN ('once', 'weekly', 'monthly')",
            name=op.f("ck_scheduled_payments_frequency_known"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'completed', 'cancelled', 'ended')",
            name=op.f("ck_scheduled_payments_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_scheduled_payments_owner_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["from_account_id"],
            ["accounts.id"],
            name=op.f("fk_scheduled_payments_from_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["to_account_id"],
            ["accounts.id"],
            name=op.f("fk_scheduled_payments_to_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_payments")),
    )
    for column in ("owner_id", "from_account_id", "to_account_id"):
        op.create_index(op.f(f"ix_scheduled_payments_{column}"), "scheduled_payments", [column])
    op.create_index("ix_scheduled_payments_due", "scheduled_payments", ["status", "next_due"])
    op.create_table(
        "scheduled_payment_runs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("payment_id", BigId, nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("transaction_id", BigId, nullable=True),
        sa.CheckConstraint(
            "outcome IN ('posted', 'failed', 'skipped', 'declined')",
            name=op.f("ck_scheduled_payment_runs_outcome_known"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["scheduled_payments.id"],
            name=op.f("fk_scheduled_payment_runs_payment_id_scheduled_payments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_payment_runs")),
        sa.UniqueConstraint("payment_id", "due_date", "attempt", name="uq_run_attempt"),
    )


def downgrade() -> None:
    op.drop_table("scheduled_payment_runs")
    op.drop_table("scheduled_payments")
    op.drop_table("worker_job_runs")
    op.drop_table("worker_jobs")
