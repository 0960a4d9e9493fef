"""transaction flags: staff marks on transactions, append-only

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledgerbank.kit.db import UTCDateTime
from ledgerbank.migrations.ddl import allow_changes, refuse_changes

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "transaction_flags",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("transaction_id", BigId, nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("flagged_by", BigId, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_transaction_flags_transaction_id_transactions"),
        ),
        sa.ForeignKeyConstraint(
            ["flagged_by"], ["users.id"], name=op.f("fk_transaction_flags_flagged_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transaction_flags")),
    )
    op.create_index(
        op.f("ix_transaction_flags_transaction_id"),
        "transaction_flags",
        ["transaction_id"],
        unique=False,
    )
    refuse_changes("transaction_flags")


def downgrade() -> None:
    allow_changes("transaction_flags")
    op.drop_table("transaction_flags")  # with its index (MySQL refuses to drop an FK's index)
