"""Casework tables: suspicious-activity reports kept with their case, and saved custom reports."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text

from ledgerbank.kit.db import BigId, UTCDateTime, metadata

# A suspicious-activity report (SAR) filed from a compliance alert: its narrative stays with
# the case and with the bank; the customer never sees it (append-only, like the case notes).
sar_reports = Table(
    "sar_reports",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("alert_id", BigId, ForeignKey("risk_alerts.id"), nullable=False, index=True),
    Column("subject_user_id", BigId, ForeignKey("users.id"), nullable=True),
    Column("account_id", BigId, ForeignKey("accounts.id"), nullable=True),
    Column("activity_type", String(40), nullable=False),
    Column("narrative", Text, nullable=False),
    Column("filed_by", BigId, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# A custom report a financial manager or auditor saved under a name: its definition (the
# POST /reports/custom body) as JSON, per user.
saved_reports = Table(
    "saved_reports",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("owner_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("name", String(120), nullable=False),
    Column("definition", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_saved_reports_owner", "owner_id", "id"),
)
