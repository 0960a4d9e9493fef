"""the customer web app: saved payees and the spending categories customers corrected

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledgerbank.kit.db import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "saved_payees",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("owner_id", BigId, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("nickname", sa.String(80), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_payees")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_saved_payees_owner_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_saved_payees_account_id_accounts")
        ),
        sa.UniqueConstraint(
            "owner_id", "account_id", name=op.f("uq_saved_payees_owner_id_account_id")
        ),
    )
    op.create_table(
        "spending_categories",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("owner_id", BigId, nullable=False),
        sa.Column("payee_key", sa.String(120), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spending_categories")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_spending_categories_owner_id_users")
        ),
        sa.UniqueConstraint(
            "owner_id", "payee_key", name=op.f("uq_spending_categories_owner_id_payee_key")
        ),
    )


def downgrade() -> None:
    op.drop_table("spending_categories")
    op.drop_table("saved_payees")
