"""risk: scores, alerts, cases and rolling account statistics

Revision ID: 0002
Revises: 0001

`vw_flagged_transactions` lists, for auditors, every transaction the risk screen scored
SUSPICIOUS or CRITICAL or that carries an alert, with its score, reasons and model version.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledgerbank.kit.db import UTCDateTime
from ledgerbank.migrations.ddl import create_view, drop_view

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "risk_account_stats",
        sa.Column("account_id", BigId, autoincrement=False, nullable=False),
        sa.Column("out_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("out_log_mean", sa.Double(), server_default="0", nullable=False),
        sa.Column("out_log_m2", sa.Double(), server_default="0", nullable=False),
        sa.Column("in_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("in_log_mean", sa.Double(), server_default="0", nullable=False),
        sa.Column("in_log_m2", sa.Double(), server_default="0", nullable=False),
        sa.Column("hour_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("hour_x", sa.Double(), server_default="0", nullable=False),
        sa.Column("hour_y", sa.Double(), server_default="0", nullable=False),
        sa.Column("counterparties", sa.Integer(), server_default="0", nullable=False),
        sa.Column("peak_burst", sa.Integer(), server_default="0", nullable=False),
        sa.Column("counterparty_sketch", sa.LargeBinary(length=256), nullable=True),
        sa.Column("first_activity_at", UTCDateTime(), nullable=True),
        sa.Column("last_activity_at", UTCDateTime(), nullable=True),
        sa.Column("recent_out", sa.LargeBinary(length=1024), nullable=True),
        sa.Column("recent_in", sa.LargeBinary(length=1024), nullable=True),
        sa.Column("recent_cash", sa.LargeBinary(length=256), nullable=True),
        sa.Column("recent_blocked", sa.LargeBinary(length=256), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_risk_account_stats_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_risk_account_stats")),
    )
    op.create_table(
        "risk_scores",
        sa.Column("transaction_id", BigId, autoincrement=False, nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("verdict", sa.String(length=10), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("scored_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("score >= 0 AND score <= 1", name=op.f("ck_risk_scores_score_in_range")),
        sa.CheckConstraint(
            "verdict IN ('SAFE', 'SUSPICIOUS', 'CRITICAL')",
            name=op.f("ck_risk_scores_verdict_known"),
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_risk_scores_transaction_id_transactions"),
        ),
        sa.PrimaryKeyConstraint("transaction_id", name=op.f("pk_risk_scores")),
    )
    op.create_index("ix_risk_scores_verdict_scored", "risk_scores", ["verdict", "scored_at"])
    op.create_table(
        "risk_alerts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("queue", sa.String(length=16), nullable=False),
        sa.Column("transaction_id", BigId, nullable=False),
        sa.Column("account_id", BigId, nullable=True),
        sa.Column("rule_id", sa.String(length=40), nullable=True),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("verdict", sa.String(length=10), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("hits", sa.Integer(), server_default="1", nullable=False),
        sa.Column("last_transaction_id", BigId, nullable=True),
        sa.Column("assigned_to", BigId, nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("resolution_note", sa.String(length=2000), nullable=True),
        sa.Column("resolved_by", BigId, nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "queue IN ('fraud', 'compliance')", name=op.f("ck_risk_alerts_queue_known")
        ),
        sa.CheckConstraint(
            "severity IN ('low', 'medium', 'high')", name=op.f("ck_risk_alerts_severity_known")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'investigating', 'escalated', 'reported', 'closed')",
            name=op.f("ck_risk_alerts_status_known"),
        ),
        sa.CheckConstraint(
            "resolution IS NULL OR resolution IN ('fraud', 'false_positive', 'reported', 'no_action')",
            name=op.f("ck_risk_alerts_resolution_known"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_risk_alerts_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["assigned_to"], ["users.id"], name=op.f("fk_risk_alerts_assigned_to_users")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["users.id"], name=op.f("fk_risk_alerts_resolved_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_risk_alerts_transaction_id_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_alerts")),
    )
    op.create_index("ix_risk_alerts_queue_status", "risk_alerts", ["queue", "status", "id"])
    op.create_index("ix_risk_alerts_account", "risk_alerts", ["account_id", "queue", "status"])
    op.create_index("ix_risk_alerts_transaction", "risk_alerts", ["transaction_id"])
    op.create_table(
        "risk_alert_actions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("alert_id", BigId, nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("actor_id", BigId, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_risk_alert_actions_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["risk_alerts.id"],
            name=op.f("fk_risk_alert_actions_alert_id_risk_alerts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_alert_actions")),
    )
    op.create_index(
        op.f("ix_risk_alert_actions_alert_id"), "risk_alert_actions", ["alert_id"], unique=False
    )
    for name, select_sql in VIEWS.items():
        create_view(name, select_sql)


def downgrade() -> None:
    for name in VIEWS:
        drop_view(name)
    # Each table with its indexes (MySQL refuses to drop an index a foreign key needs).
    op.drop_table("risk_alert_actions")
    op.drop_table("risk_alerts")
    op.drop_table("risk_scores")
    op.drop_table("risk_account_stats")


VIEWS = {
    # Amounts in integer minor units (`_minor`); `reasons` is the JSON list of rules fired and
    # features that stood out; `fraud_resolution` is the analyst's verdict once one is given.
    "vw_flagged_transactions": """
        SELECT t.id AS transaction_id, t.type AS type, t.status AS status,
               t.amount AS amount_minor, t.currency AS currency,
               t.from_account_id AS from_account_id, t.to_account_id AS to_account_id,
               t.description AS description, t.created_at AS created_at,
               s.score AS score, s.verdict AS verdict, s.reasons AS reasons,
               s.model_version AS model_version, s.scored_at AS scored_at,
               (SELECT COUNT(*) FROM risk_alerts a WHERE a.transaction_id = t.id)
                   AS alert_count,
               (SELECT COUNT(*) FROM risk_alerts a
                 WHERE a.transaction_id = t.id AND a.status <> 'closed') AS open_alert_count,
               (SELECT MAX(a.resolution) FROM risk_alerts a
                 WHERE a.transaction_id = t.id AND a.queue = 'fraud') AS fraud_resolution
        FROM transactions t
        JOIN risk_scores s ON s.transaction_id = t.id
        WHERE s.verdict <> 'SAFE'
           OR EXISTS (SELECT 1 FROM risk_alerts a WHERE a.transaction_id = t.id)
    """,
}
