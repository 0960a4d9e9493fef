"""vw_flagged_transactions also lists what staff flagged by hand (transaction_flags of 0006)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import importlib

from ledgerbank.migrations.ddl import create_view

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The same columns as 0002's view, then `flag_count`; a transaction is listed when the screen
# found it SUSPICIOUS or CRITICAL, when it carries an alert, or when someone flagged it.
FLAGGED = """
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
             WHERE a.transaction_id = t.id AND a.queue = 'fraud') AS fraud_resolution,
           (SELECT COUNT(*) FROM transaction_flags f WHERE f.transaction_id = t.id)
               AS flag_count
    FROM transactions t
    LEFT JOIN risk_scores s ON s.transaction_id = t.id
    WHERE s.verdict <> 'SAFE'
       OR EXISTS (SELECT 1 FROM risk_alerts a WHERE a.transaction_id = t.id)
       OR EXISTS (SELECT 1 FROM transaction_flags f WHERE f.transaction_id = t.id)
"""


def upgrade() -> None:
    create_view("vw_flagged_transactions", FLAGGED)


def downgrade() -> None:
    from alembic import op

    op.execute("DROP VIEW IF EXISTS vw_flagged_transactions")
    risk = importlib.import_module("ledgerbank.migrations.versions.0002_risk")
    create_view("vw_flagged_transactions", risk.VIEWS["vw_flagged_transactions"])
