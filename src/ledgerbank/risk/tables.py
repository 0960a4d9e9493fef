"""Risk tables: per-account rolling statistics, transaction scores, alerts and their case notes.

`risk_account_stats` holds one row per customer account, written only by postings that already
hold that account's lock, so keeping it current adds no contention. Its small binary columns
are fixed-size rings of recent events and a Bloom-filter sketch of counterparties (see
`ledgerbank.risk.stats`); everything a feature needs is read from this one row.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from ledgerbank.kit.db import BigId, UTCDateTime, metadata

VERDICTS = ("SAFE", "SUSPICIOUS", "CRITICAL")
ALERT_QUEUES = ("fraud", "compliance")
ALERT_SEVERITIES = ("low", "medium", "high")
# fraud: open -> investigating -> closed; compliance: open -> escalated / reported -> closed.
ALERT_STATUSES = ("open", "investigating", "escalated", "reported", "closed")
ALERT_RESOLUTIONS = ("fraud", "false_positive", "reported", "no_action")

risk_account_stats = Table(
    "risk_account_stats",
    metadata,
    Column("account_id", BigId, ForeignKey("accounts.id"), primary_key=True, autoincrement=False),
    # Outgoing and incoming amounts: count, mean and sum of squared deviations of log(1+major).
    Column("out_count", Integer, nullable=False, server_default="0"),
    Column("out_log_mean", Double, nullable=False, server_default="0"),
    Column("out_log_m2", Double, nullable=False, server_default="0"),
    Column("in_count", Integer, nullable=False, server_default="0"),
    Column("in_log_mean", Double, nullable=False, server_default="0"),
    Column("in_log_m2", Double, nullable=False, server_default="0"),
    # The customer's own activity hours as a mean unit vector on the 24-hour clock.
    Column("hour_count", Integer, nullable=False, server_default="0"),
    Column("hour_x", Double, nullable=False, server_default="0"),
    Column("hour_y", Double, nullable=False, server_default="0"),
    Column("counterparties", Integer, nullable=False, server_default="0"),
    # The most payments out the account ever made within one velocity window: its own pace.
    Column("peak_burst", Integer, nullable=False, server_default="0"),
    Column("counterparty_sketch", LargeBinary(256), nullable=True),
    Column("first_activity_at", UTCDateTime, nullable=True),
    Column("last_activity_at", UTCDateTime, nullable=True),
    Column("recent_out", LargeBinary(1024), nullable=True),
    Column("recent_in", LargeBinary(1024), nullable=True),
    Column("recent_cash", LargeBinary(256), nullable=True),
    Column("recent_blocked", LargeBinary(256), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    # The account's network (migration 0013): counterparty tags of the movement rings, how
    # many distinct accounts paid it and it paid, its most payments to one payee in an hour.
    Column("recent_out_peers", LargeBinary(256), nullable=True),
    Column("recent_in_peers", LargeBinary(256), nullable=True),
    Column("senders", Integer, nullable=False, server_default="0"),
    Column("receivers", Integer, nullable=False, server_default="0"),
    Column("peak_repeat", Integer, nullable=False, server_default="0"),
)

# Append-only: rescoring adds a newer row and readers take the newest per transaction; the
# posting's own audit record carries the score it was screened with.
risk_scores = Table(
    "risk_scores",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("transaction_id", BigId, ForeignKey("transactions.id"), nullable=False),
    Column("score", Double, nullable=False),
    Column("verdict", String(10), nullable=False),
    Column("reasons", Text, nullable=False),  # JSON list: rules fired, features that stood out
    Column("model_version", String(64), nullable=True),  # NULL: the rules alone decided
    Column("scored_at", UTCDateTime, nullable=False),
    # posting: the screen at posting time; rescore: `ledgerbank risk score`; migrated: older.
    Column("origin", String(8), nullable=False, server_default="posting"),
    CheckConstraint("score >= 0 AND score <= 1", name="score_in_range"),
    CheckConstraint(f"verdict IN {VERDICTS!r}", name="verdict_known"),
    Index("ix_risk_scores_verdict_scored", "verdict", "scored_at"),
    Index("ix_risk_scores_transaction", "transaction_id", "id"),
)

risk_alerts = Table(
    "risk_alerts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("queue", String(16), nullable=False),
    # NULL for a sanctions match found at registration or when a payee was added (0013).
    Column("transaction_id", BigId, ForeignKey("transactions.id"), nullable=True),
    # The customer account the alert is about (the sender, or the receiver for fan-in etc.).
    Column("account_id", BigId, ForeignKey("accounts.id"), nullable=True),
    Column("rule_id", String(40), nullable=True),  # compliance: the AML rule; fraud: NULL
    Column("severity", String(8), nullable=False),
    Column("status", String(16), nullable=False, server_default="open"),
    Column("score", Double, nullable=False),
    Column("verdict", String(10), nullable=False),
    Column("summary", String(500), nullable=False),
    # Compliance alerts collect further hits of the same rule on the same account while open.
    Column("hits", Integer, nullable=False, server_default="1"),
    Column("last_transaction_id", BigId, nullable=True),
    Column("assigned_to", BigId, ForeignKey("users.id"), nullable=True),
    Column("resolution", String(16), nullable=True),
    Column("resolution_note", String(2000), nullable=True),
    Column("resolved_by", BigId, ForeignKey("users.id"), nullable=True),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # The customer concerned when no account or transaction is (a sanctions match, 0013).
    Column("user_id", BigId, ForeignKey("users.id"), nullable=True),
    CheckConstraint(f"queue IN {ALERT_QUEUES!r}", name="queue_known"),
    CheckConstraint(f"severity IN {ALERT_SEVERITIES!r}", name="severity_known"),
    CheckConstraint(f"status IN {ALERT_STATUSES!r}", name="status_known"),
    CheckConstraint(
        f"resolution IS NULL OR resolution IN {ALERT_RESOLUTIONS!r}", name="resolution_known"
    ),
    Index("ix_risk_alerts_queue_status", "queue", "status", "id"),
    Index("ix_risk_alerts_account", "account_id", "queue", "status"),
    Index("ix_risk_alerts_transaction", "transaction_id"),
)

# The case history of an alert: every action an analyst or officer took, in order (append-only).
risk_alert_actions = Table(
    "risk_alert_actions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("alert_id", BigId, ForeignKey("risk_alerts.id"), nullable=False, index=True),
    Column("action", String(32), nullable=False),
    Column("note", String(2000), nullable=True),
    Column("actor_id", BigId, ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# Sanctions lists the bank imports (`ledgerbank sanctions import FILE`): one row per import,
# the list's entries beside it; a list's current entries are those of its latest import.
sanctions_lists = Table(
    "sanctions_lists",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(80), nullable=False),
    Column("source_file", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("entries", Integer, nullable=False),
    Column("imported_by", BigId, ForeignKey("users.id"), nullable=True),
    Column("imported_at", UTCDateTime, nullable=False),
)

sanctions_entries = Table(
    "sanctions_entries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("list_id", BigId, ForeignKey("sanctions_lists.id"), nullable=False, index=True),
    Column("reference", String(80), nullable=True),
    Column("name", String(300), nullable=False),
    Column("aliases", Text, nullable=True),  # JSON list of other names
    Column("date_of_birth", String(10), nullable=True),  # YYYY, YYYY-MM or YYYY-MM-DD
    Column("country", String(80), nullable=True),
    Column("programme", String(120), nullable=True),
)
