"""staff web: suspicious-activity reports kept with their case, saved custom reports

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledgerbank.kit.db import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "sar_reports",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("alert_id", BigId, nullable=False),
        sa.Column("subject_user_id", BigId, nullable=True),
        sa.Column("account_id", BigId, nullable=True),
        sa.Column("activity_type", sa.String(length=40), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column("filed_by", BigId, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("sar_reports", "alert_id", "risk_alerts"),
        _fk("sar_reports", "subject_user_id", "users"),
        _fk("sar_reports", "account_id", "accounts"),
        _fk("sar_reports", "filed_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sar_reports")),
    )
    op.create_index(op.f("ix_sar_reports_alert_id"), "sar_reports", ["alert_id"])
    op.create_table(
        "saved_reports",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("owner_id", BigId, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _fk("saved_reports", "owner_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_reports")),
    )
    op.create_index("ix_saved_reports_owner", "saved_reports", ["owner_id", "id"])


def downgrade() -> None:
    # Each table with its indexes (MySQL refuses to drop an index a foreign key needs).
    op.drop_table("saved_reports")
    op.drop_table("sar_reports")
