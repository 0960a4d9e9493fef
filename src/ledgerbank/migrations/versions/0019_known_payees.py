"""known payees: each customer's payees paid by transfer, for the first-payment notice

Filled from the transfers already posted, so that nobody is told again about a payee they paid
before this table existed.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledgerbank.kit.db import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_known_payees_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "known_payees",
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("first_transaction_id", BigId, nullable=False),
        sa.Column("first_paid_at", UTCDateTime(), nullable=False),
        _fk("customer_id", "users"),
        _fk("account_id", "accounts"),
        _fk("first_transaction_id", "transactions"),
        sa.PrimaryKeyConstraint("customer_id", "account_id", name=op.f("pk_known_payees")),
    )
    # Transfers to another customer's account, posted or since reversed: the first of each.
    op.execute(
        """
        INSERT INTO known_payees (customer_id, account_id, first_transaction_id, first_paid_at)
        SELECT payer.owner_id, t.to_account_id, MIN(t.id), MIN(t.created_at)
        FROM transactions t
        JOIN accounts payer ON payer.id = t.from_account_id
        JOIN accounts payee ON payee.id = t.to_account_id
        WHERE t.type = 'transfer' AND t.status IN ('posted', 'reversed')
          AND payer.owner_id IS NOT NULL AND payee.owner_id IS NOT NULL
          AND payee.owner_id <> payer.owner_id
        GROUP BY payer.owner_id, t.to_account_id
        """
    )


def downgrade() -> None:
    op.drop_table("known_payees")
