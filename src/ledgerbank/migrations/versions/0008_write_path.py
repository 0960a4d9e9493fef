"""the write path: token versions, PIN keys, KYC tiers, daily limits and their counters

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledgerbank.migrations.ddl import views_left_alone

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


LIMITS = ("limit_deposit_daily", "limit_withdrawal_daily", "limit_transfer_daily")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("token_version", sa.Integer(), nullable=False, server_default="0")
        )
        for name in LIMITS:
            batch.add_column(sa.Column(name, sa.String(length=24), nullable=True))
    op.create_table(
        "customer_daily_totals",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("deposited", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("withdrawn", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("sent", sa.BigInteger(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_customer_daily_totals_user_id_users"
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "business_day", "currency", name="pk_customer_daily_totals"
        ),
    )


def downgrade() -> None:
    op.drop_table("customer_daily_totals")
    with views_left_alone(), op.batch_alter_table("users") as batch:
        for name in (*LIMITS, "token_version"):
            batch.drop_column(name)
