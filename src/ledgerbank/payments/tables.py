"""Scheduled payments (standing orders) and each attempt to pay one of their due dates."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from ledgerbank.kit.db import BigId, Money, UTCDateTime, metadata

FREQUENCIES = ("once", "weekly", "monthly")
# active: has a next due date; completed: its last date was paid or skipped; cancelled: by the
# customer or staff; ended: its account was closed
SCHEDULE_STATUSES = ("active", "completed", "cancelled", "ended")
# posted; failed (tried again later the same day); skipped (given up for this date);
# declined (refused by the bank's checks: the customer reads only "declined")
RUN_OUTCOMES = ("posted", "failed", "skipped", "declined")

scheduled_payments = Table(
    "scheduled_payments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("owner_id", BigId, ForeignKey("users.id"), nullable=False, index=True),
    Column("from_account_id", BigId, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("to_account_id", BigId, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("amount", Money, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("frequency", String(8), nullable=False),
    Column("first_date", Date, nullable=False),
    Column("until", Date, nullable=True),
    Column("description", String(200), nullable=True),
    Column("status", String(10), nullable=False),
    Column("occurrence", Integer, nullable=False, server_default="0"),  # dates paid or passed
    Column("next_due", Date, nullable=True),  # NULL once it is no longer active
    Column("attempts", Integer, nullable=False, server_default="0"),  # failed tries of next_due
    Column("retry_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("end_reason", String(32), nullable=True),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint(f"frequency IN {FREQUENCIES!r}", name="frequency_known"),
    CheckConstraint(f"status IN {SCHEDULE_STATUSES!r}", name="status_known"),
    Index("ix_scheduled_payments_due", "status", "next_due"),
)

scheduled_payment_runs = Table(
    "scheduled_payment_runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("payment_id", BigId, ForeignKey("scheduled_payments.id"), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("attempted_at", UTCDateTime, nullable=False),
    Column("outcome", String(10), nullable=False),
    Column("code", String(64), nullable=True),  # the refusal's problem code
    Column("transaction_id", BigId, nullable=True),  # the posted (or blocked) transaction
    CheckConstraint(f"outcome IN {RUN_OUTCOMES!r}", name="outcome_known"),
    UniqueConstraint("payment_id", "due_date", "attempt", name="uq_run_attempt"),
)
