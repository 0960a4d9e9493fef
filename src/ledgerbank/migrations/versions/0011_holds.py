"""holds and API tokens

Revision ID: 0011
Revises: 0010

- accounts.held: what the account's active holds reserve (available = balance + overdraft
  limit - held), kept by the postings' account lock.
- holds: authorisations (active, captured, voided, expired).
- api_tokens: machine clients' scoped tokens, kept as a keyed hash.
- transactions may be `capture`s; the bank has a `card_settlement` account per currency.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledgerbank.kit.db import UTCDateTime
from ledgerbank.migrations.ddl import create_view, replace_check

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TYPES = "'deposit', 'withdrawal', 'transfer', 'fee', 'journal', 'reversal'"
ACCOUNT_TYPES = "'savings', 'checking', 'wallet', 'cash_vault', 'fee_income', 'equity'"


def balance_sheet(liabilities: str) -> str:
    """vw_balance_sheet (0001) with the accounts counted as the bank's liabilities."""
    return f"""
        SELECT a.currency AS currency,
               SUM(CASE WHEN a.account_type = 'cash_vault' THEN -e.amount ELSE 0 END)
                   AS assets_minor,
               SUM(CASE WHEN {liabilities} THEN e.amount ELSE 0 END) AS liabilities_minor,
               SUM(CASE WHEN a.account_type IN ('fee_income', 'equity') THEN e.amount ELSE 0 END)
                   AS equity_minor,
               -SUM(e.amount) AS difference_minor
        FROM entries e JOIN accounts a ON a.id = e.account_id
        GROUP BY a.currency
    """


# What captured card payments owe the card network is a liability, beside customers' money.
LIABILITIES = "a.is_internal = 0 OR a.account_type = 'card_settlement'"


def upgrade() -> None:
    op.add_column(
        "accounts", sa.Column("held", sa.BigInteger(), nullable=False, server_default="0")
    )
    replace_check(
        "transactions",
        "ck_transactions_type_known",
        f"type IN ({TYPES})",
        f"type IN ({TYPES}, 'capture')",
    )
    replace_check(
        "accounts",
        "ck_accounts_type_known",
        f"account_type IN ({ACCOUNT_TYPES})",
        f"account_type IN ({ACCOUNT_TYPES}, 'card_settlement')",
    )
    create_view("vw_balance_sheet", balance_sheet(LIABILITIES))
    op.create_table(
        "api_tokens",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(80), nullable=False),
        sa.Column("scopes", sa.String(500), nullable=False),
        sa.Column("owner_id", BigId, nullable=False),
        sa.Column("created_by", BigId, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_by", BigId, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_api_tokens_owner_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_api_tokens_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"], ["users.id"], name=op.f("fk_api_tokens_revoked_by_users")
        ),
    )
    op.create_table(
        "holds",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("payee_account_id", BigId, nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("captured_amount", sa.BigInteger(), nullable=True),
        sa.Column("transaction_id", BigId, nullable=True),
        sa.Column("placed_by", BigId, nullable=True),
        sa.Column("api_token_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_holds_amount_positive")),
        sa.CheckConstraint(
            "status IN ('active', 'captured', 'voided', 'expired')",
            name=op.f("ck_holds_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_holds_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["payee_account_id"], ["accounts.id"], name=op.f("fk_holds_payee_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_holds_transaction_id_transactions"),
        ),
        sa.ForeignKeyConstraint(["placed_by"], ["users.id"], name=op.f("fk_holds_placed_by_users")),
    )
    op.create_index("ix_holds_account_status", "holds", ["account_id", "status", "expires_at"])
    op.create_index("ix_holds_status_expires", "holds", ["status", "expires_at"])


def downgrade() -> None:
    op.drop_table("holds")  # with its indexes (MySQL refuses to drop an FK's index)
    op.drop_table("api_tokens")
    create_view("vw_balance_sheet", balance_sheet("a.is_internal = 0"))
    replace_check(
        "accounts",
        "ck_accounts_type_known",
        f"account_type IN ({ACCOUNT_TYPES}, 'card_settlement')",
        f"account_type IN ({ACCOUNT_TYPES})",
    )
    replace_check(
        "transactions",
        "ck_transactions_type_known",
        f"type IN ({TYPES}, 'capture')",
        f"type IN ({TYPES})",
    )
    op.drop_column("accounts", "held")
