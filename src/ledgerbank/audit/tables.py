"""The audit trail: immutable records, and the hash chain that seals them in order.

A record's `row_hash` covers its own canonical content and is written in the same database
transaction as the change it describes. The chain (`audit_chain`) links records in sealing
order, each link carrying the previous link's hash; sealing runs right after commit, so no
posting ever waits on the head of the chain.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text

from ledgerbank.kit.db import BigId, UTCDateTime, metadata

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("actor_id", BigId, ForeignKey("users.id"), nullable=True),
    Column("action", String(64), nullable=False),
    Column("entity_type", String(32), nullable=False),
    Column("entity_id", String(64), nullable=True),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("request_id", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("row_hash", String(64), nullable=False),
    Index("ix_audit_log_entity", "entity_type", "entity_id"),
    Index("ix_audit_log_actor", "actor_id", "created_at"),
    Index("ix_audit_log_created_at", "created_at"),
)

audit_chain = Table(
    "audit_chain",
    metadata,
    Column("position", BigId, primary_key=True, autoincrement=False),
    Column("audit_id", BigId, ForeignKey("audit_log.id"), nullable=False, unique=True),
    Column("prev_hash", String(64), nullable=False),
    Column("chain_hash", String(64), nullable=False),
    Column("sealed_at", UTCDateTime, nullable=False),
)

# Signed statements of the chain's head (`ledgerbank audit checkpoint`), append-only. `document`
# is the checkpoint exactly as signed and exported; the other columns repeat it for lookups.
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("position", BigInteger, nullable=False, index=True),
    Column("audit_id", BigId, nullable=False),
    Column("chain_hash", String(64), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("document", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
