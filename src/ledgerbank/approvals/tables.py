"""The approvals table: one row per proposed sensitive action and its outcome."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, LargeBinary, String, Table, Text
from sqlalchemy.dialects import mysql

from ledgerbank.kit.db import BigId, UTCDateTime, metadata

APPROVAL_STATUSES = ("pending", "approved", "rejected", "expired", "failed")
# An uploaded import file waits here for its checker (up to the import size limit).
Payload = LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")

approvals = Table(
    "approvals",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("action", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("summary", String(500), nullable=False),
    Column("params", Text, nullable=False),  # JSON: what the handler is called with
    Column("payload", Payload, nullable=True),
    Column("entity_type", String(32), nullable=True),
    Column("entity_id", String(64), nullable=True),
    Column("checker_permission", String(64), nullable=False),
    Column("proposed_by", BigId, ForeignKey("users.id"), nullable=False),
    Column("proposed_at", UTCDateTime, nullable=False),
    Column("proposal_note", String(500), nullable=True),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("decided_by", BigId, ForeignKey("users.id"), nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("decision_note", String(500), nullable=True),
    Column("result", Text, nullable=True),  # JSON: what the action did (never a secret)
    Index("ix_approvals_status_expires", "status", "expires_at"),
    Index("ix_approvals_entity", "entity_type", "entity_id"),
)
